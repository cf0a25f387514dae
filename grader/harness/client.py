"""The suite's view of the sandboxed submission: `Submission` and `RemoteObject` proxies.

Every call crosses `grader.wire` to the worker; what comes back is plain data (numbers, strings,
lists, dicts, numpy arrays) or a `RemoteObject` naming an object that stays in the worker. When the
student's code raises, hangs or kills its process, the call raises a `StudentCodeError` whose
message is written for the student; the worker is restarted for the next call.
"""
from __future__ import annotations

import time

import numpy as np

from grader.sandbox.launcher import SandboxSettings, Worker, WorkerDied, WorkerTimeout
from grader.wire import Handle


class StudentCodeError(AssertionError):
    """The submission failed in a way the test cannot grade; the message is shown to the student.

    It subclasses AssertionError so that a suite's `pytest.raises(AssertionError)` and the results
    both treat it as a failed check rather than a grader bug.
    """


class NotImplementedYet(StudentCodeError):
    pass


class StudentTimeout(StudentCodeError):
    pass


class StudentCrash(StudentCodeError):
    pass


# Time limit of a call whose callable already ran out of time in this grading (at most a quarter of
# the default test limit): enough for a quick call in a fresh worker, short enough that a loop that
# hangs every time costs little after the first.
RETRY_AFTER_HANG_S = 5.0


class Submission:
    """Proxy to the student's code. Created by the grader's pytest plugin (fixture `submission`)."""

    def __init__(self, settings: SandboxSettings, default_timeout: float = 60.0, wrap_arrays: bool = True):
        """wrap_arrays: hand arrays and lists from the student to the suite as `StudentArray` /
        `StudentList` (see there). Only tests of the wire itself turn it off."""
        self.settings = settings
        self.wrap_arrays = wrap_arrays
        self.default_timeout = default_timeout
        self.deadline: float | None = None  # absolute time.monotonic() the current test must end by
        self._worker: Worker | None = None
        self.restarts = 0
        self.hung: set[str] = set()  # callables that ran out of time once: later calls get retry_after_hang_s
        self.retry_after_hang_s = min(RETRY_AFTER_HANG_S, default_timeout / 4)
        self._dead_output = ""  # what a worker printed before it timed out or died (shown with the failure)

    # ------------------------------------------------------------------------------ public API
    def call(self, target: str, *args, **kwargs):
        """Call the function `target` ("package.module.function") and return its value."""
        return self._send({"op": "call", "target": target, "args": args, "kwargs": kwargs}, target)

    def new(self, target: str, *args, **kwargs) -> "RemoteObject":
        """Call `target` (a class or a factory) and keep the result in the worker."""
        return self._send({"op": "call", "target": target, "args": args, "kwargs": kwargs, "handle": True}, target)

    def train(self, target: str, config: dict, budget_s: float) -> "RemoteObject":
        """Run the student's training entry point `target(config)` within `budget_s` seconds of wall
        clock; returns what it returns (the trained agent or policy) as a RemoteObject."""
        message = {"op": "call", "target": target, "args": [config], "kwargs": {}, "handle": True}
        return self._send(message, target, timeout=budget_s)

    def act(self, policy: "RemoteObject", observations: np.ndarray, method: str = "act") -> np.ndarray:
        """`policy.<method>(observations)` for a batch (N, *obs_shape); checks it returns N actions."""
        actions = _plain(policy.method(method, observations))
        if isinstance(actions, (list, int, float)) and not isinstance(actions, bool):
            try:
                actions = np.asarray(actions)
            except ValueError:  # a ragged list
                pass
        if not isinstance(actions, np.ndarray) or actions.ndim == 0 or actions.shape[0] != len(observations):
            shape = getattr(actions, "shape", type(actions).__name__)
            raise StudentCodeError(f"{method} must return one action per observation: got {shape} "
                                   f"for a batch of {len(observations)} observations")
        return actions

    def get_state(self, obj: "RemoteObject") -> dict:
        """A torch module's state_dict (or any object's `state_dict()`): {name: StudentArray}."""
        return self._send({"op": "get_state", "obj": obj.handle}, f"{obj.name}.state_dict")

    def set_state(self, obj: "RemoteObject", state: dict) -> None:
        """Load numpy arrays into the object's `load_state_dict`."""
        self._send({"op": "set_state", "obj": obj.handle, "state": state}, f"{obj.name}.load_state_dict")

    def close(self, obj: "RemoteObject") -> None:
        """Let the worker forget `obj` (objects are forgotten anyway at the end of each test)."""
        self._send({"op": "close", "obj": obj.handle}, f"{obj.name}.close")

    # ------------------------------------------------------------------------------ machinery
    def _send(self, message: dict, what: str, timeout: float | None = None):
        if "args" in message:
            message = dict(message, args=_handles(message["args"]), kwargs=_handles(message["kwargs"]))
        limit = self._time_left() if timeout is None else min(timeout, self._time_left())
        hung_before = what in self.hung
        if hung_before:  # an infinite loop costs one full time limit, not one per test that calls it
            limit = min(limit, self.retry_after_hang_s)
        worker = self._ensure_worker()
        try:
            reply = worker.request(message, timeout=limit)
        except WorkerTimeout:
            self._drop(worker)
            self.hung.add(what)
            why = (f"it already ran out of time in an earlier call, so later calls get at most "
                   f"{self.retry_after_hang_s:g} s" if hung_before else "the time left for this test")
            raise StudentTimeout(f"{_short(what)} did not finish within {limit:.0f} s ({why}); "
                                 "look for an infinite loop or slow code") from None
        except WorkerDied as err:
            self._drop(worker)
            raise StudentCrash(f"{_short(what)} crashed: {err}") from None
        if not reply["ok"]:
            raise _student_error(what, reply.get("error"), self.settings.limits.memory_mb)
        value = reply.get("value")
        if message.get("handle") and not isinstance(value, Handle):
            raise StudentCrash(f"{_short(what)}: the worker answered with a value where an object was expected")
        if isinstance(value, Handle):
            return RemoteObject(self, value, _short(what))
        return _wrap(value) if self.wrap_arrays else value

    def _time_left(self) -> float:
        if self.deadline is None:
            return self.default_timeout
        return max(self.deadline - time.monotonic(), 0.001)

    def _ensure_worker(self) -> Worker:
        if self._worker is None or not self._worker.alive():
            if self._worker is not None:  # died between calls (e.g. a daemon thread called os._exit)
                self._worker.kill()
                self.restarts += 1
            self._worker = Worker(self.settings)
        return self._worker

    def reset(self) -> None:
        """Between tests: forget the worker's objects (cheap), or discard a worker in a bad state."""
        if self._worker is None:
            return
        try:
            if self._worker.request({"op": "reset"}, timeout=5.0)["ok"]:
                return
        except (WorkerTimeout, WorkerDied):
            pass
        self.discard()

    def _drop(self, worker: Worker) -> None:
        """Forget a worker that timed out or died (Worker.request has killed it), keeping what it
        printed (e.g. the progress prints of an infinite loop) for the test's message."""
        self._dead_output += worker.output.take()
        self._worker, self.restarts = None, self.restarts + 1

    def take_output(self) -> str:
        printed, self._dead_output = self._dead_output, ""
        return printed + (self._worker.output.take() if self._worker is not None else "")

    def discard(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    @property
    def sandboxed(self) -> bool:
        return self._ensure_worker().sandboxed


_UNCHECKED = ("is a value the student's code returned and has not been checked: read it with "
              "grader.harness.api.check_array(value, name, shape, dtype) before any arithmetic")


class StudentArray:
    """An array from the student's code, as the suite receives it: opaque until `check_array` unwraps it.

    Its shape is whatever the student chose, so arithmetic with it could broadcast: a (K, 1) reply
    combined with a (1, K) array asks the trusted harness for K x K elements (K = 140 000 is 20 GB).
    So it refuses arithmetic, comparisons, numpy conversion, indexing and iteration with a TypeError
    that points the suite's author to `check_array`, which checks type and shape first. Only `shape`,
    `dtype`, `ndim` and `size` can be read (for messages).
    """

    __slots__ = ("_array",)
    __array_ufunc__ = None      # numpy's operators and ufuncs refuse it
    __hash__ = None

    def __init__(self, array: np.ndarray):
        object.__setattr__(self, "_array", array)

    shape = property(lambda self: tuple(self._array.shape))
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: int(self._array.size))

    def _refuse(self, *args, **kwargs):
        raise TypeError(f"a StudentArray of shape {self.shape} {_UNCHECKED}")

    __array__ = __array_function__ = __getitem__ = __iter__ = __len__ = __contains__ = _refuse
    __bool__ = __float__ = __int__ = __index__ = __complex__ = __setattr__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse  # type: ignore[assignment]
    __neg__ = __pos__ = __abs__ = __invert__ = __matmul__ = __rmatmul__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __divmod__ = _refuse
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = __lshift__ = __rshift__ = _refuse

    def __repr__(self) -> str:
        return f"<StudentArray shape={self.shape} dtype={self.dtype} (unchecked)>"


class StudentList(list):
    """A list from the student's code. Python's own list operations work (len, indexing, iteration:
    its items are wrapped too), but numpy refuses it: `np.asarray(value)` or `value * array` would
    let its shape reach the harness's arithmetic unchecked. Read numbers with `check_array`."""

    __array_ufunc__ = None

    def __array__(self, *args, **kwargs):
        raise TypeError(f"a StudentList of length {len(self)} {_UNCHECKED}")


def _wrap(value):
    """The worker's reply as the suite sees it: arrays and lists wrapped, at every depth."""
    if type(value) is np.ndarray:
        return StudentArray(value)
    if type(value) is list:
        return StudentList(_wrap(v) for v in value)
    if type(value) is dict:
        return {k: _wrap(v) for k, v in value.items()}
    return value


def _plain(value):
    """Undo `_wrap` (for the harness's own checks, e.g. check_array, act)."""
    if isinstance(value, StudentArray):
        return value._array
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class RemoteObject:
    """An object living in the worker. `obj.method(*args)` calls it remotely and returns plain data;
    `obj.new_from("method", ...)` returns another RemoteObject; `obj.attr("name")` reads an attribute."""

    def __init__(self, submission: Submission, handle: Handle, name: str):
        self._submission, self.handle, self.name = submission, handle, name

    def __getattr__(self, method: str):
        if method.startswith("__"):
            raise AttributeError(method)

        def remote_method(*args, **kwargs):
            return self.method(method, *args, **kwargs)
        return remote_method

    def method(self, method: str, *args, **kwargs):
        """Same as `obj.<method>(...)`, for method names that clash with this proxy's own."""
        message = {"op": "method", "obj": self.handle, "name": method, "args": args, "kwargs": kwargs}
        return self._submission._send(message, f"{self.name}.{method}")

    def new_from(self, method: str, *args, **kwargs) -> "RemoteObject":
        message = {"op": "method", "obj": self.handle, "name": method, "args": args, "kwargs": kwargs, "handle": True}
        return self._submission._send(message, f"{self.name}.{method}")

    def attr(self, name: str):
        return self._submission._send({"op": "getattr", "obj": self.handle, "name": name}, f"{self.name}.{name}")

    def __repr__(self) -> str:
        return f"<RemoteObject {self.name} #{self.handle.id}>"


def _handles(value):
    """RemoteObjects passed as arguments travel as their handles; a student's value goes back as it came."""
    if isinstance(value, RemoteObject):
        return value.handle
    if isinstance(value, StudentArray):
        return value._array
    if isinstance(value, (list, tuple)):
        return [_handles(v) for v in value]
    if isinstance(value, dict):
        return {k: _handles(v) for k, v in value.items()}
    return value


def _short(target: str) -> str:
    """"hw2_policy_gradient.returns.reward_to_go" -> "reward_to_go" (what the student calls it)."""
    return target.rsplit(".", 1)[-1] if target.count(".") > 1 or "." not in target else target


def _student_error(what: str, error, memory_mb: int) -> StudentCodeError:
    """Turn the worker's (untrusted, possibly garbage) error report into a student message."""
    error = error if isinstance(error, dict) else {}
    kind = str(error.get("type", "Error"))[:100]
    message = str(error.get("message", ""))[:2000]
    trace = str(error.get("traceback", ""))[:4000]
    name = _short(what)
    if error.get("not_implemented") is True:
        return NotImplementedYet(f"not implemented yet: {name}" + (f" ({message})" if message else ""))
    if kind == "MemoryError":
        text = f"{name} ran out of memory (the limit is {memory_mb} MB)"
    elif kind in ("ModuleNotFoundError", "ImportError", "AttributeError") and not trace:
        text = f"{name} could not be found in your code: {kind}: {message}"
    elif kind == "UnsupportedValue":
        text = f"{name} {message}"
    else:
        text = f"{name} raised {kind}: {message}"
    if trace:
        text += "\nTraceback (your code):\n" + trace
    return StudentCodeError(text)
