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
                   submission.get_state(obj) -> {name: StudentArray}  submission.set_state(obj, {...})
                   submission.act(policy, obs_batch) -> actions, a plain array whose first axis is checked
                                (one per observation); check_array it with its full shape before arithmetic
                   submission.train("pkg.mod.train", config_dict, budget_s) -> RemoteObject
                   submission.close(obj)        (all objects are forgotten after each test anyway)
                 Values are None/bool/int/float/str/list/dict and arrays (torch tensors arrive as
                 arrays). Arrays arrive as `StudentArray` and lists as `StudentList`, at any depth
                 (get_state gives {name: StudentArray}): they refuse arithmetic and numpy conversion
                 until `check_array` has checked type and shape (see rule 5). Scalars arrive as plain
                 Python numbers. When the student's code raises, hangs or crashes, the call raises a
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
    check_array(value, name, shape, dtype="float")  -> plain np.ndarray, or a student-readable failure;
                 the only way to read a student's array (shape may hold None for "any length")
    check_float(value, name)                         -> float (a number, or a one-element array/tensor)
    assert_close(actual, expected, name, rtol, atol) numpy comparison with a readable message; `actual`
                 must be checked already (an unchecked StudentArray raises TypeError)
    evaluate_policy(submission, policy, env_id, episodes, seed) -> returns (episodes,) float64
    Smoke trainings: grader.harness.smoke (train_and_load, check_same_parameters, play_episodes,
                 pay_for_return, adam_max_travel, measure_reference; docs/GRADER.md "Smoke training tests")

Rules for every hidden suite (issues 8 and 9; docs/GRADER.md "Writing a hidden test" explains them)
    1. Fresh inputs: draw every input (data, sizes, coefficients, seeds) from `rng`. Messages show at
       most one expected entry (assert_close does this), never a whole expected array.
    2. Real inputs: only inputs a real rollout/use can produce (e.g. within an episode
       next_values[t] == values[t + 1]); every legitimate reading of the handout scores full marks.
    3. Coverage: every option the handout's experiments (configs) use is exercised by a test at a value
       where it matters (a nonzero coefficient, a minibatch smaller than the batch, lambda = 0 as a
       value, not as "off"), including every combination of options the configs use. Code that keeps
       state across calls (an optimizer's moments) is called twice in a row in some test, so state
       that is rebuilt or lost on each call shows.
    4. No vacuous tests: a test that checks a property (no gradient into X, takes n steps, returns a
       loss) also checks a value the harness computes itself (from the reference, or from get_state),
       so a stub cannot pass it. A smoke training pays only for weights the student's learning
       produced (check the update against the reference, bound the distance from the seeded initial
       weights, evaluate the weights in the harness's own network).
    5. Read student arrays only through check_array, with the expected shape, before any arithmetic.
    6. Fair weights: each TODO gets several independent tests, so one bug costs its share of the part,
       not all of it, and one lucky property does not pay it all. A test never tests a TODO that the
       public tests leave untouched.
    7. Budgets in env steps (or CPU seconds), never wall time; a threshold comes with its measured
       spread over >= 10 seeds on a loaded machine and the command that measured it.
    8. Time: a full grade within 5 minutes on 2 cores (the test time limits add up to at most
       total_timeout_s).
    Prove it: grader/suites/hwN/mutants.py plants bugs (must lose points), correct variants (must score
    full marks) and cheats (must score 0) and CI grades each (tests/test_hw2_mutants.py).

What the student sees of a failing test: the assertion's message (write one!) or the
StudentCodeError text, and their own prints. Never the suite's source: assertions are not rewritten
(`--assert=plain`), so `assert x == y` without a message just reads "wrong result".

Worked example (see docs/GRADER.md for the full version):

    import numpy as np
    from grader.harness.api import assert_close, check_array, points, time_limit
    from hw2_policy_gradient.returns import reward_to_go as reference_reward_to_go

    @points(4, part="returns")
    def test_reward_to_go_matches_reference_on_random_rewards(submission, rng):
        n, gamma = int(rng.integers(10, 100)), float(rng.uniform(0.8, 0.99))
        rewards = rng.normal(size=n).astype(np.float32)
        got = submission.call("hw2_policy_gradient.returns.reward_to_go", rewards, gamma)
        got = check_array(got, "reward_to_go", shape=(n,))      # a StudentArray until checked
        assert_close(got, reference_reward_to_go(rewards, gamma), "reward_to_go")
"""
from __future__ import annotations

import numpy as np
import pytest

from grader.harness.client import (NotImplementedYet, RemoteObject, StudentArray, StudentCodeError, StudentList,
                                   Submission, _plain)
from grader.harness.evaluation import evaluate_policy

__all__ = ["points", "time_limit", "check_array", "check_float", "assert_close", "evaluate_policy", "Submission",
           "RemoteObject", "StudentArray", "StudentList", "StudentCodeError", "NotImplementedYet"]


def points(value: float, part: str, visibility: str = "visible"):
    """Mark a test as worth `value` points of `part`."""
    return pytest.mark.points(value, part=part, visibility=visibility)


def time_limit(seconds: float):
    """Wall-clock limit for one test, all its calls into the submission included."""
    return pytest.mark.time_limit(seconds)


def check_array(value, name: str, shape: tuple | None, dtype: str | None = "float") -> np.ndarray:
    """The student's `value` as a plain ndarray of the expected shape and kind, or a failure the student reads.

    This is the only way a suite reads a student's array (a `StudentArray` or `StudentList` refuses
    everything else): type and shape are checked before any arithmetic can broadcast them.
    shape: the expected shape; None in it means "any length on this axis"; `shape=None` (any shape)
        only where the suite does no arithmetic with the array (e.g. to load it into a network whose
        own parameter shapes are then enforced by torch).
    dtype: "float", "int", "bool" or None (any). Lists and Python numbers are accepted and converted.
    NaN and inf fail.
    """
    value = _plain(value)
    if isinstance(value, (list, int, float)) and not isinstance(value, bool):
        try:
            value = np.asarray(value)
        except ValueError:  # ragged lists
            pass
    if not isinstance(value, np.ndarray) or value.dtype == object:
        raise AssertionError(f"{name} must return a numpy array (or torch tensor), got {type(value).__name__}")
    if shape is not None and (value.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(value.shape, shape))):
        wanted = "(" + ", ".join("N" if want is None else str(want) for want in shape) + (",)" if len(shape) == 1 else ")")
        raise AssertionError(f"{name} returned an array of shape {tuple(value.shape)}, expected {wanted}")
    kinds = {"float": "fc", "int": "iu", "bool": "b"}
    if dtype is not None and value.dtype.kind not in kinds[dtype]:
        raise AssertionError(f"{name} returned dtype {value.dtype}, expected a {dtype} array")
    if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        where = np.argwhere(~np.isfinite(value))[0].tolist()
        raise AssertionError(f"{name} returned NaN or inf (first at index {where})")
    return value


def check_float(value, name: str) -> float:
    """A student's scalar (a Python number, or a 0-d or one-element array or tensor) as a finite float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, StudentArray, np.ndarray, list)):
        raise AssertionError(f"{name} must return a number, got {type(value).__name__}")
    array = check_array(value, name, shape=None, dtype=None)
    if array.dtype.kind not in "iuf":
        raise AssertionError(f"{name} must return a number, got dtype {array.dtype}")
    if array.size != 1:
        raise AssertionError(f"{name} must return one number, got an array of shape {array.shape}")
    return float(array.reshape(()))


def assert_close(actual, expected, name: str, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """|actual - expected| <= atol + rtol |expected| elementwise, with a short readable message.

    `actual` must already be checked (an ndarray from check_array, or a float): an unchecked
    StudentArray is a bug of the suite and raises TypeError. Shapes are compared before arithmetic.
    The message shows one entry, never the whole expected array.
    """
    if isinstance(actual, (StudentArray, StudentList)) or not isinstance(actual, (np.ndarray, float, int, np.number)):
        raise TypeError(f"assert_close({name}): pass the student's value through check_array first, "
                        f"got {type(actual).__name__}")
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name} returned shape {actual.shape}, expected {expected.shape}")
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
    if bad.any():
        index = tuple(np.argwhere(bad)[0].tolist())
        raise AssertionError(
            f"{name} is wrong at {bad.sum()} of {bad.size} entries; first at index {index}: "
            f"got {actual[index]:.6g}, expected {expected[index]:.6g}")
