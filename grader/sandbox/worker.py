"""The untrusted worker: imports the submission and answers the harness's requests.

This process runs student code, so nothing it says is trusted: the harness checks every reply.
It is started by `grader.sandbox.launcher` inside the sandbox (see that module), and speaks the
`grader.wire` format over two pipes of its own (never stdout: student prints go there).

Requests are dicts {"seq": n, "op": name, ...}; replies {"seq": n, "ok": True, "value": v} or
{"seq": n, "ok": False, "error": {"type", "message", "traceback", "not_implemented"}}.

    ping                                            -> "pong"
    call    target="pkg.mod.func", args, kwargs, handle -> value (or Handle when handle=True)
    method  obj=Handle, name, args, kwargs, handle      -> value or Handle
    getattr obj=Handle, name, handle                    -> value or Handle
    get_state obj=Handle                                -> {name: array}   (torch state_dict or .state_dict())
    set_state obj=Handle, state={name: array}           -> None
    close   obj=Handle  /  reset                        -> None (forget one / all objects)
    run_public_tests path                               -> [{"name", "outcome", "message"}]
"""
from __future__ import annotations

import importlib
import itertools
import os
import sys
import traceback

import numpy as np

from grader.wire import Handle, PeerClosed, WireError, read_message, write_message

_objects: dict[int, object] = {}
_next_id = itertools.count(1)
_stage_root = ""


def main(request_fd: int, reply_fd: int, stage_root: str, drop_to_uid: int, shm_limit_bytes: int = 0) -> None:
    """`drop_to_uid`: the uid (and gid) student code runs as when we start as root; 0: stay as we are."""
    global _stage_root
    _stage_root = stage_root
    if drop_to_uid and os.getuid() == 0:
        if shm_limit_bytes:
            _cap_sysv_shared_memory(shm_limit_bytes)
        _drop_privileges(int(drop_to_uid))
    # torch and BLAS use one thread: OMP_NUM_THREADS=1 is in the environment the launcher builds
    while True:
        try:
            request = read_message(request_fd)
        except PeerClosed:
            return
        seq = request.get("seq") if isinstance(request, dict) else None
        try:
            reply = {"seq": seq, "ok": True, "value": _dispatch(request)}
            write_message(reply_fd, reply, convert=_to_plain)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from student code too
            error = _describe(exc) if not isinstance(exc, WireError) else {
                "type": "UnsupportedValue", "message": f"returned a value that cannot be graded: {exc}",
                "traceback": "", "not_implemented": False}
            write_message(reply_fd, {"seq": seq, "ok": False, "error": error})


def _cap_sysv_shared_memory(limit: int) -> None:
    """SysV segments stay allocated after shmdt, outside any rlimit: cap their total in this sandbox's
    own IPC namespace (root may set it there; the host's limits are untouched)."""
    for name, value in (("shmmax", limit), ("shmall", max(limit // os.sysconf("SC_PAGE_SIZE"), 1))):
        try:
            with open(f"/proc/sys/kernel/{name}", "w") as f:
                f.write(str(value))
        except OSError:
            pass


def _drop_privileges(uid: int) -> None:
    """Become `uid` before any student code runs (we are root only inside a root-run sandbox)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: no setuid binary gives root back
    except Exception:
        pass
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


# ------------------------------------------------------------------------------------------ dispatch
def _dispatch(request):
    op = request["op"]
    if op == "ping":
        return "pong"
    if op == "call":
        return _result(_resolve(request["target"])(*_args(request), **_kwargs(request)), request)
    if op == "method":
        method = getattr(_object(request["obj"]), request["name"])
        return _result(method(*_args(request), **_kwargs(request)), request)
    if op == "getattr":
        return _result(getattr(_object(request["obj"]), request["name"]), request)
    if op == "get_state":
        return _get_state(_object(request["obj"]))
    if op == "set_state":
        return _set_state(_object(request["obj"]), request["state"])
    if op == "close":
        _objects.pop(request["obj"].id, None)
        return None
    if op == "reset":
        _objects.clear()
        return None
    if op == "run_public_tests":
        return _run_public_tests(request["path"])
    raise ValueError(f"unknown operation {op!r}")


def _resolve(target: str):
    """Import `pkg.mod.attr[.attr...]`: the longest importable module prefix, then attributes."""
    parts = target.split(".")
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name is not None and module_name.startswith(err.name):
                continue  # this prefix is not a module: try a shorter one
            raise
        for name in parts[split:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(f"no module named {parts[0]!r}")


def _object(handle):
    if type(handle) is not Handle or handle.id not in _objects:
        raise ValueError("this object no longer exists (the worker was restarted or it was closed)")
    return _objects[handle.id]


def _unwrap(value):
    """Replace Handles in call arguments by the objects they name."""
    if type(value) is Handle:
        return _object(value)
    if type(value) is list:
        return [_unwrap(v) for v in value]
    if type(value) is dict:
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _args(request) -> list:
    return _unwrap(request.get("args") or [])


def _kwargs(request) -> dict:
    return _unwrap(request.get("kwargs") or {})


def _result(value, request):
    if request.get("handle"):
        handle = Handle(next(_next_id))
        _objects[handle.id] = value
        return handle
    return value


def _to_plain(value):
    """Wire `convert` hook: torch tensors and ndarray subclasses become plain numpy arrays."""
    if isinstance(value, np.ndarray):
        return np.asarray(value)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.device.type == "meta":
            raise WireError("a tensor on the meta device holds no values")
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds every value exactly
            value = value.float()
        return value.resolve_conj().resolve_neg().numpy()
    return NotImplemented


def _get_state(obj) -> dict:
    if not hasattr(obj, "state_dict"):
        raise TypeError(f"{type(obj).__name__} has no state_dict(); only torch modules can be inspected")
    return {name: _to_plain(tensor) if not isinstance(tensor, np.ndarray) else tensor
            for name, tensor in obj.state_dict().items()}


def _set_state(obj, state: dict) -> None:
    import torch
    current = obj.state_dict()
    tensors = {name: torch.as_tensor(array).to(current[name].device) if name in current else torch.as_tensor(array)
               for name, array in state.items()}
    obj.load_state_dict(tensors)


# ------------------------------------------------------------------------------------------- errors
def _describe(exc: BaseException) -> dict:
    """Type, message and the submission's own frames (never the worker's) of an exception."""
    try:
        message = str(exc)
    except BaseException:
        message = "<the exception's message could not be printed>"
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        name = frame.filename
        if name.startswith(_stage_root + "/") and not name.startswith(_stage_root + "/grader/"):
            rel = name[len(_stage_root) + 1:]
            frames.append(f'  File "{rel}", line {frame.lineno}, in {frame.name}\n    {frame.line or ""}')
    if isinstance(exc, SyntaxError) and exc.filename:
        frames.append(f'  File "{exc.filename.replace(_stage_root + "/", "")}", line {exc.lineno}\n    {(exc.text or "").rstrip()}')
    return {"type": type(exc).__name__, "message": message[:2000], "traceback": "\n".join(frames[-20:]),
            "not_implemented": isinstance(exc, NotImplementedError)}


# ------------------------------------------------------------------------------------- public tests
def _run_public_tests(path: str) -> list:
    """Run the homework's public tests here, in the sandbox, with the student's code (feedback only)."""
    import pytest

    class Collector:
        def __init__(self):
            self.reports = []

        def pytest_runtest_logreport(self, report):
            if len(self.reports) >= 500:  # the reply must fit the wire's size limits
                return
            if report.when == "call" or report.outcome != "passed":
                crash = getattr(getattr(report.longrepr, "reprcrash", None), "message", "")
                message = "" if report.passed else f"{crash}\n{str(report.longrepr)[-3000:]}".strip()
                self.reports.append({"name": report.nodeid, "outcome": report.outcome, "message": message})

    collector = Collector()
    pytest.main([path, "-q", "-p", "no:cacheprovider", "--rootdir", _stage_root, "-o", "addopts="],
                plugins=[collector])
    return collector.reports


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 0)
