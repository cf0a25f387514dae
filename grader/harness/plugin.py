"""The grader's pytest plugin: the only plugin loaded when a hidden suite runs.

`grader.harness.grade` starts pytest in a trusted subprocess with plugin autoload off, this plugin,
the harness's own ini, and `--grader-config CONFIG.json` (stage dir, limits, parts, results path).
The plugin provides the suite fixtures (`submission`, `credit`, `rng`; see grader.harness.api),
reads the `points`/`time_limit` markers, turns every outcome into a score and a student message,
and rewrites the results file atomically after each test, so a crash loses nothing already graded.

Time (TimeBudget): a hang must cost only the tests that run the hanging code, never later tests.
  - Tests run shortest time limit first (stable), so smoke trainings (a longer @time_limit) run
    last; the results keep the suite's order.
  - Every test not yet run keeps a reserve of the suite's `total_timeout_s`: its whole time limit
    for a test that asked for more than the default (a training), a few seconds for the others. A
    test's deadline is its own limit, cut so that those reserves stay untouched (but never below
    its own reserve): a hang early in the suite eats only the slack, not the later tests' time.
  - A student callable that ran out of time once gets only a few seconds on later calls
    (grader.harness.client), so one infinite loop costs one full time limit, not one per test.
"""
from __future__ import annotations

import json
import math
import os
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from grader.harness.client import StudentArray, StudentCodeError, StudentList, Submission
from grader.harness.results import PRINTED_MARKER, clean_text
from grader.manifest import VISIBILITIES, Limits
from grader.sandbox.launcher import SandboxSettings, sandbox_notes

_STATE = pytest.StashKey["GraderState"]()


class Credit:
    """Partial credit of the running test: set `fraction` in [0, 1]."""

    def __init__(self):
        self.fraction: float | None = None


class GraderState:
    def __init__(self, config: dict):
        self.results_path = Path(config["results"])
        self.parts: dict = config["parts"]
        self.input_seed = int(config.get("input_seed", 0))
        self.memory_mb = config.get("harness_memory_mb")  # this process's own cap (grade.py sets it)
        self.limits = Limits(**config["limits"])
        settings = SandboxSettings(Path(config["stage"]), self.limits, config.get("force_fallback", False))
        self.submission = Submission(settings, self.limits.test_timeout_s)
        self.tests: dict[str, dict] = {}
        self.warnings: list[str] = []
        self.budget = TimeBudget(self.limits, time.monotonic())

    def write(self, finished: bool) -> None:
        data = {"finished": finished, "tests": list(self.tests.values()), "warnings": self.warnings,
                "worker_restarts": self.submission.restarts}
        tmp = self.results_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.results_path)


def pytest_addoption(parser):
    parser.getgroup("grader").addoption("--grader-config", help="JSON written by grader.harness.grade")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(value, part, visibility='visible'): points of a hidden test")
    config.addinivalue_line("markers", "time_limit(seconds): wall-clock limit of one hidden test")
    path = config.getoption("--grader-config")
    if path:
        config.stash[_STATE] = GraderState(json.loads(Path(path).read_text()))


def _state(config) -> GraderState:
    if _STATE not in config.stash:
        raise RuntimeError("hidden suites run only through `python -m grader grade HW`")
    return config.stash[_STATE]


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture
def submission(request):
    state = _state(request.config)
    state.submission.deadline = request.node.stash[_DEADLINE]
    try:
        yield state.submission
    finally:
        state.submission.deadline = None
        state.submission.reset()


@pytest.fixture
def credit(request):
    return request.node.stash.setdefault(_CREDIT, Credit())


@pytest.fixture
def rng(request):
    """Random inputs for one test: new for every grading run (see grade.grade), distinct per test."""
    return np.random.default_rng([_state(request.config).input_seed, zlib.crc32(request.node.nodeid.encode())])


_DEADLINE = pytest.StashKey[float]()
_CREDIT = pytest.StashKey[Credit]()


# ---------------------------------------------------------------------------------------- time
class TimeBudget:
    """The suite's total_timeout_s, shared so that a hang never starves later tests (see above)."""

    QUICK_RESERVE_S = 5.0  # kept for each quick test still to run: a fresh worker and a few calls

    def __init__(self, limits: Limits, start: float):
        self.default_limit, self.total = limits.test_timeout_s, limits.total_timeout_s
        self.end = start + limits.total_timeout_s
        self.reserve_after: dict[str, float] = {}  # nodeid -> seconds kept for the tests run after it

    def limit(self, item) -> float:
        mark = item.get_closest_marker("time_limit")
        return float(mark.args[0]) if mark else self.default_limit

    def reserve(self, limit: float) -> float:
        return limit if limit > self.default_limit else min(limit, self.QUICK_RESERVE_S)

    def schedule(self, items: list) -> list[str]:
        """Sort `items` into run order (shortest time limit first, stable) and note each test's
        reserve; returns a warning when the reserves do not fit in the total."""
        items.sort(key=self.limit)
        reserves = [self.reserve(self.limit(item)) for item in items]
        for i, item in enumerate(items):
            self.reserve_after[item.nodeid] = sum(reserves[i + 1:])
        if sum(reserves) <= self.total:
            return []
        return [f"the hidden tests' reserved times add up to {sum(reserves):g} s, more than total_timeout_s "
                f"({self.total:g} s): a submission that hangs can leave later tests too little time"]

    def seconds_for(self, item, now: float) -> float:
        """The test's own limit, cut so that the tests after it keep their reserves (never below its own)."""
        limit = self.limit(item)
        share = self.end - now - self.reserve_after.get(item.nodeid, 0.0)
        return min(limit, max(share, self.reserve(limit)))


# ---------------------------------------------------------------------------------------- collection
def pytest_collection_modifyitems(session, config, items):
    state = _state(config)
    totals: dict[str, float] = {}
    for item in items:
        mark = item.get_closest_marker("points")
        meta = {"name": item.name, "nodeid": item.nodeid, "score": 0.0, "max_score": 0.0, "part": None,
                "visibility": "visible", "status": "failed", "output": "not run: grading stopped before this test"}
        if mark is None or not mark.args:
            state.warnings.append(f"{item.nodeid} has no @points marker: it is worth 0 points")
        else:
            meta["max_score"] = float(mark.args[0])
            meta["part"] = mark.kwargs.get("part")
            meta["visibility"] = mark.kwargs.get("visibility", "visible")
            if meta["visibility"] not in VISIBILITIES:
                state.warnings.append(f"{item.nodeid}: unknown visibility {meta['visibility']!r}, using 'visible'")
                meta["visibility"] = "visible"
            totals[meta["part"]] = totals.get(meta["part"], 0.0) + meta["max_score"]
        doc = (getattr(item, "function", None).__doc__ or "").strip() if hasattr(item, "function") else ""
        if doc:
            meta["name"] = f"{item.name}: {doc.splitlines()[0]}"
        state.tests[item.nodeid] = meta
    for part, points in state.parts.items():
        if abs(totals.get(part, 0.0) - points) > 1e-9:
            state.warnings.append(f"part {part!r}: tests add up to {totals.get(part, 0.0):g} points, "
                                  f"submission.yaml says {points:g}")
    state.warnings.extend(_COLLECTION_ERRORS)
    for part in set(totals) - set(state.parts):
        state.warnings.append(f"part {part!r} is used by tests but not listed in submission.yaml")
    state.warnings.extend(state.budget.schedule(items))  # run order; state.tests keeps the suite's order
    state.write(finished=False)


def pytest_collectreport(report):
    """A suite file that fails to import is the course's bug: say so, and grade the other files."""
    if report.failed:
        _COLLECTION_ERRORS.append(f"internal error: the hidden test file {report.nodeid} could not be loaded; "
                                  "its tests are missing from this grade (tell the course staff)")


_COLLECTION_ERRORS: list[str] = []


def pytest_sessionstart(session):
    if _STATE in session.config.stash:
        state = _state(session.config)
        # the fallback warning, or no cgroup; SandboxUnavailable (no bwrap, no --unsandboxed) stops the run
        state.warnings.extend(sandbox_notes(state.submission.settings))


# -------------------------------------------------------------------------------------------- running
@pytest.hookimpl(tryfirst=True)  # before the fixtures are set up: `submission` reads the deadline
def pytest_runtest_setup(item):
    now = time.monotonic()
    item.stash[_DEADLINE] = now + _state(item.config).budget.seconds_for(item, now)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    state = _state(item.config)
    meta = state.tests.get(item.nodeid)
    if meta is None or call.when == "teardown" and meta.get("_done"):
        return
    if call.when == "setup" and report.passed:
        return
    credit = item.stash.get(_CREDIT, Credit())
    if report.passed:
        fraction = _fraction(credit.fraction, default=1.0)
        message = "" if fraction >= 1.0 else "partial credit"
    else:
        fraction = _fraction(credit.fraction, default=0.0)
        message = _student_message(call.excinfo, report, state.memory_mb)
    meta["score"] = round(meta["max_score"] * fraction, 6)
    meta["status"] = "passed" if fraction >= 1.0 else "failed"
    printed = state.submission.take_output()
    if printed.strip():  # the test's own message comes first: prints never read as the verdict
        message = f"{message or meta['status']}\n{PRINTED_MARKER}\n{printed}"
    meta["output"] = clean_text(message)
    meta["_done"] = True
    state.write(finished=False)


def _fraction(value, default: float) -> float:
    """The suite's partial credit as a number in [0, 1]. A fraction computed from the student's
    values can be NaN (or not a number at all): that earns nothing, and never a NaN score."""
    if value is None:
        return default
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return min(max(value, 0.0), 1.0) if math.isfinite(value) else 0.0


def _student_message(excinfo, report, memory_mb: int | None) -> str:
    """What the student reads: never a traceback of the suite (it would show hidden code)."""
    if excinfo is None:
        return "failed"
    exc = excinfo.value
    if report.skipped:
        return f"skipped: {exc}"[:500]
    if isinstance(exc, StudentCodeError):
        return str(exc)[:5000]
    if isinstance(exc, AssertionError):
        text = str(exc).strip()
        return (text or "wrong result")[:3000]
    if _out_of_memory(exc):
        return (f"checking your result needed more memory than the grader allows ({memory_mb} MB). "
                "Usually a returned array has the wrong shape, e.g. (n, 1) where (n,) is expected: combined "
                "with an (n,) array it becomes (n, n). If your shapes are right, tell the course staff")
    unchecked = _unchecked_student_value(excinfo)
    if unchecked is not None:
        return (f"your code returned {unchecked} where this test expects another kind of value (for example "
                "a single number, a float): check what the handout says this function returns. If it "
                "does return that, tell the course staff")
    return (f"the grader could not check your result ({type(exc).__name__}: {str(exc)[:500]}); "
            "if your code looks right, tell the course staff")


def _out_of_memory(exc: BaseException) -> bool:
    """numpy raises MemoryError; torch's CPU allocator a RuntimeError saying it cannot allocate."""
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))


def _unchecked_student_value(excinfo) -> str | None:
    """"an array of shape (3,)" when the suite used a student's value in a way it refuses (a
    StudentArray or StudentList raised from its own method): the value was of an unexpected kind."""
    frame = excinfo.traceback[-1].frame.raw if excinfo.traceback else None
    value = frame.f_locals.get("self") if frame is not None else None
    if isinstance(value, StudentArray):
        return f"an array of shape {value.shape}"
    if isinstance(value, StudentList):
        return f"a list of length {len(value)}"
    return None


def pytest_sessionfinish(session, exitstatus):
    if _STATE not in session.config.stash:
        return
    state = _state(session.config)
    state.submission.discard()
    for meta in state.tests.values():
        meta.pop("_done", None)
    state.write(finished=True)
