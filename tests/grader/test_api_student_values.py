"""A student's arrays reach a suite only through check_array (issue 9, "broadcast bomb").

A reply of shape (K, 1) where the suite expects (K,), combined by the suite's arithmetic with a (1, K)
array, would make the trusted harness allocate K x K (K = 140 000: about 150 GB in float64). Replies
arrive wrapped (StudentArray / StudentList), which refuse every arithmetic and numpy conversion until
`check_array(value, name, shape, dtype)` has checked type and shape.
"""
import tracemalloc

import numpy as np
import pytest

from grader.harness.api import StudentArray, StudentList, assert_close, check_array, check_float
from grader.harness.client import Submission, _wrap
from grader.harness.staging import stage
from grader.sandbox.launcher import SandboxSettings

K = 140_000
BOMB_SOURCE = """
import numpy as np

def reward_to_go(rewards, gamma):
    return np.ones((len(rewards), 1))          # (K, 1) where (K,) is expected

def normalize(values):
    return [[1.0] * 3, [2.0] * 3]              # a nested list
"""


def attempts(value, other):
    """Every way a suite's author might combine a student's value with the harness's own array."""
    return {
        "value * other": lambda: value * other,
        "other * value": lambda: other * value,
        "other - value": lambda: other - value,
        "np.subtract": lambda: np.subtract(other, value),
        "np.isclose": lambda: np.isclose(value, other),
        "np.allclose": lambda: np.allclose(other, value),
        "np.asarray": lambda: np.asarray(value),
        "np.testing": lambda: np.testing.assert_allclose(value, other),
        "np.concatenate": lambda: np.concatenate([value, value]),
    }


def test_a_student_array_refuses_arithmetic_before_anything_is_allocated():
    value = _wrap(np.ones((K, 1)))
    other = np.ones((1, K))
    assert isinstance(value, StudentArray) and value.shape == (K, 1)
    tracemalloc.start()
    try:
        for what, attempt in attempts(value, other).items():
            with pytest.raises(TypeError):
                attempt()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MiB allocated while refusing"


@pytest.mark.parametrize("use", ["bool", "float", "len", "index", "iter", "compare", "setattr"])
def test_a_student_array_refuses_python_protocols_too(use):
    value = _wrap(np.arange(3.0))
    action = {"bool": lambda: bool(value), "float": lambda: float(value), "len": lambda: len(value),
              "index": lambda: value[0], "iter": lambda: list(value), "compare": lambda: value == 1.0,
              "setattr": lambda: setattr(value, "_array", np.zeros(3))}[use]
    with pytest.raises(TypeError, match="check_array"):
        action()


def test_a_student_list_keeps_list_operations_but_refuses_numpy():
    value = _wrap([[1.0, 2.0], np.ones(2)])
    assert isinstance(value, StudentList) and len(value) == 2 and isinstance(value[1], StudentArray)
    for what, attempt in attempts(value, np.ones((1, 2))).items():
        if what != "np.concatenate":
            with pytest.raises(TypeError):
                attempt()
    assert check_array(value, "pair", shape=(2, 2)).tolist() == [[1.0, 2.0], [1.0, 1.0]]


def test_check_array_checks_shape_before_handing_out_the_array():
    with pytest.raises(AssertionError, match=r"shape \(140000, 1\), expected \(140000,\)"):
        check_array(_wrap(np.ones((K, 1))), "reward_to_go", shape=(K,))
    with pytest.raises(AssertionError, match=r"expected \(N, 3\)"):
        check_array(_wrap(np.ones((4, 2))), "x", shape=(None, 3))
    with pytest.raises(AssertionError, match="dtype"):
        check_array(_wrap(np.ones(3, bool)), "x", shape=(3,))
    with pytest.raises(AssertionError, match="NaN"):
        check_array(_wrap(np.array([1.0, np.nan])), "x", shape=(2,))
    with pytest.raises(AssertionError, match="numpy array"):
        check_array({"a": 1}, "x", shape=(1,))
    got = check_array(_wrap(np.arange(4.0)), "x", shape=(None,))
    assert type(got) is np.ndarray and got.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert check_float(_wrap(np.array(2.5)), "x") == 2.5 and check_float(3, "x") == 3.0
    with pytest.raises(AssertionError, match="one number"):
        check_float(_wrap(np.ones(2)), "x")


def test_assert_close_takes_only_checked_values():
    with pytest.raises(TypeError, match="check_array"):
        assert_close(_wrap(np.ones(3)), np.ones(3), "x")
    with pytest.raises(TypeError, match="check_array"):
        assert_close(_wrap([1.0, 1.0]), [1.0, 1.0], "x")
    with pytest.raises(AssertionError, match=r"shape \(3, 1\), expected \(1, 3\)"):
        assert_close(np.ones((3, 1)), np.ones((1, 3)), "x")  # shapes compared before any arithmetic
    assert_close(check_array(_wrap(np.ones(3)), "x", shape=(3,)), np.ones(3), "x")


def test_a_real_workers_reply_arrives_wrapped_and_unusable_until_checked(homework, tmp_path):
    submission_dir = tmp_path / "sub" / "fixhw"
    submission_dir.mkdir(parents=True)
    (submission_dir / "functions.py").write_text(BOMB_SOURCE)
    tmp_path.chmod(0o755)
    stage(homework, tmp_path / "sub", tmp_path / "stage")
    submission = Submission(SandboxSettings(tmp_path / "stage", homework.limits), default_timeout=30)
    try:
        reply = submission.call("fixhw.functions.reward_to_go", np.zeros(K, np.float32), 0.9)
        assert isinstance(reply, StudentArray) and reply.shape == (K, 1)
        with pytest.raises(TypeError, match="check_array"):
            reply * np.ones((1, K))
        with pytest.raises(AssertionError, match="expected"):
            check_array(reply, "reward_to_go", shape=(K,))
        nested = submission.call("fixhw.functions.normalize", np.ones(3))
        assert isinstance(nested, StudentList) and isinstance(nested[0], StudentList)
        with pytest.raises(TypeError):
            np.ones((1, 3)) * nested
    finally:
        submission.discard()
