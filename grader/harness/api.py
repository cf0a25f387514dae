"""Writing a hidden test: the suite API.

A hidden suite (`grader/suites/hwN/test_*.py`) is ordinary pytest run by the trusted harness. It
never imports the student's code: it talks to it through the `submission` fixture, a proxy to a
sandboxed worker process. It may import the instructor's reference solution directly (the harness
is trusted) to compute expected values.

Fixtures (provided by the grader's plugin, `grader.harness.plugin`)
    submission   `Submission` proxy (grader.harness.client):
                   submission.call("pkg.mod.func", *args, **kwargs) -> value
                   submission.new("pkg.mod.Class", *args, **kwargs) -> RemoteObject
                   obj.method_name(*args, **kwargs) -> value       (obj.method("name", ...) also works)
                   obj.new_from("method", ...) -> RemoteObject       obj.attr("name") -> value
                   submission.get_state(obj) -> {name: np.ndarray}  submission.set_state(obj, {...})
                   submission.act(policy, obs_batch) -> actions (checked: one per observation)
                   submission.train("pkg.mod.train", config_dict, budget_s) -> RemoteObject
                   submission.close(obj)        (all objects are forgotten after each test anyway)
                 Values are None/bool/int/float/str/list/dict/np.ndarray (torch tensors arrive as
                 numpy). When the student's code raises, hangs or crashes, the call raises a
                 StudentCodeError with a message for the student and the test fails; the worker is
                 restarted for the next test.
    credit       partial credit: `credit.fraction = 0.5` (0..1) before the test ends; a passing test
                 that never sets it earns full points, a failing one earns `fraction` (default 0).
    rng          np.random.Generator seeded from the run's seed and the test's name: new inputs on
                 every grading run (`--seed N` reproduces one), distinct across tests.

Markers (decorators)
    @points(3, part="returns", visibility="visible")   required; part must be in submission.yaml,
                 and each part's tests must add up to the manifest's points. visibility is one of
                 "visible", "hidden", "after_due_date", "after_published" (Gradescope's).
    @time_limit(20)   wall-clock seconds for the whole test (default: the manifest's test_timeout_s).

Helpers
    check_array(value, name, shape=None, dtype="float")   -> np.ndarray, or a student-readable failure
    assert_close(actual, expected, name, rtol, atol)       numpy comparison with a readable message
    evaluate_policy(submission, policy, env_id, episodes, seed) -> returns (episodes,) float64

What the student sees of a failing test: the assertion's message (write one!) or the
StudentCodeError text, and their own prints. Never the suite's source: assertions are not rewritten
(`--assert=plain`), so `assert x == y` without a message just reads "wrong result".

Worked example (see docs/GRADER.md for the full version):

    import numpy as np
    from grader.harness.api import assert_close, check_array, points, time_limit
    from hw2_policy_gradient.returns import reward_to_go as reference_reward_to_go

    @points(4, part="returns")
    def test_reward_to_go_matches_reference_on_random_rewards(submission, rng):
        rewards = rng.normal(size=50).astype(np.float32)
        got = submission.call("hw2_policy_gradient.returns.reward_to_go", rewards, 0.99)
        got = check_array(got, "reward_to_go", shape=(50,))
        assert_close(got, reference_reward_to_go(rewards, 0.99), "reward_to_go")
"""
from __future__ import annotations

import numpy as np
import pytest

from grader.harness.client import NotImplementedYet, RemoteObject, StudentCodeError, Submission
from grader.harness.evaluation import evaluate_policy

__all__ = ["points", "time_limit", "check_array", "assert_close", "evaluate_policy", "Submission",
           "RemoteObject", "StudentCodeError", "NotImplementedYet"]


def points(value: float, part: str, visibility: str = "visible"):
    """Mark a test as worth `value` points of `part`."""
    return pytest.mark.points(value, part=part, visibility=visibility)


def time_limit(seconds: float):
    """Wall-clock limit for one test, all its calls into the submission included."""
    return pytest.mark.time_limit(seconds)


def check_array(value, name: str, shape: tuple | None = None, dtype: str | None = "float") -> np.ndarray:
    """`value` as an ndarray of the expected shape and kind; fails with a message the student reads.

    dtype: "float", "int", "bool" or None (any). Lists are accepted and converted. NaN and inf fail.
    """
    if isinstance(value, (list, tuple, int, float)) and not isinstance(value, bool):
        try:
            value = np.asarray(value)
        except ValueError:
            pass
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{name} must return a numpy array (or torch tensor), got {type(value).__name__}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise AssertionError(f"{name} returned an array of shape {tuple(value.shape)}, expected {tuple(shape)}")
    kinds = {"float": "fc", "int": "iu", "bool": "b"}
    if dtype is not None and value.dtype.kind not in kinds[dtype]:
        raise AssertionError(f"{name} returned dtype {value.dtype}, expected a {dtype} array")
    if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        where = np.argwhere(~np.isfinite(value))[0].tolist()
        raise AssertionError(f"{name} returned NaN or inf (first at index {where})")
    return value


def assert_close(actual, expected, name: str, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """|actual - expected| <= atol + rtol |expected| elementwise, with a short readable message."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name} returned shape {actual.shape}, expected {expected.shape}")
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
    if bad.any():
        index = tuple(np.argwhere(bad)[0].tolist())
        raise AssertionError(
            f"{name} is wrong at {bad.sum()} of {bad.size} entries; first at index {index}: "
            f"got {actual[index]:.6g}, expected {expected[index]:.6g}")
