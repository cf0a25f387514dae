"""The sandboxed worker through the Submission proxy: values, objects, failures, isolation."""
import os

import numpy as np
import pytest

from grader.harness.client import NotImplementedYet, StudentCodeError, StudentCrash, StudentTimeout
from grader.sandbox.launcher import bwrap_works


def _write(tmp_path, functions_source):
    sub = tmp_path / "sub" / "fixhw"
    sub.mkdir(parents=True, exist_ok=True)
    (sub / "functions.py").write_text(functions_source)
    return tmp_path / "sub"


def test_reference_values_and_remote_objects(staged_submission):
    submission = staged_submission()
    got = submission.call("fixhw.functions.reward_to_go", np.array([1, 1, 1], np.float32), 0.5)
    np.testing.assert_allclose(got, [1.75, 1.5, 1.0])
    policy = submission.new("fixhw.policy.LinearPolicy", 4, 2, seed=3)
    policy.set_weights(np.eye(4, 2, dtype=np.float32))
    actions = submission.act(policy, np.array([[1, 0, 0, 0], [0, 1, 0, 0]], np.float32))
    np.testing.assert_array_equal(actions, [0, 1])
    assert policy.attr("weights").shape == (4, 2)
    assert submission.call("os.getcwd") == ("/tmp" if bwrap_works() else submission.call("os.getcwd"))


def test_torch_tensors_come_back_as_arrays_and_state_dicts_roundtrip(staged_submission):
    submission = staged_submission()
    layer = submission.new("torch.nn.Linear", 3, 2)
    state = submission.get_state(layer)
    assert set(state) == {"weight", "bias"} and state["weight"].dtype == np.float32
    submission.set_state(layer, {"weight": np.ones((2, 3), np.float32), "bias": np.zeros(2, np.float32)})
    ones = submission.new("torch.ones", 1, 3)  # arrays arrive as numpy; a tensor must be made remotely
    out = layer.forward(ones)
    np.testing.assert_allclose(out, [[3.0, 3.0]])
    assert submission.call("torch.get_num_threads") == 1


def test_not_implemented_and_student_exceptions_read_well(staged_submission, homework):
    submission = staged_submission(homework.root / "starter")
    with pytest.raises(NotImplementedYet, match="not implemented yet: reward_to_go"):
        submission.call("fixhw.functions.reward_to_go", np.ones(3, np.float32), 0.5)
    with pytest.raises(StudentCodeError, match="could not be found|AttributeError"):
        submission.call("fixhw.functions.no_such_function")


def test_student_traceback_shows_only_student_frames(staged_submission, tmp_path):
    source = "def discounted_return(rewards, gamma):\n    return helper()\n\ndef helper():\n    return 1 / 0\n"
    submission = staged_submission(_write(tmp_path, source))
    with pytest.raises(StudentCodeError) as info:
        submission.call("fixhw.functions.discounted_return", [1.0], 0.9)
    text = str(info.value)
    assert "ZeroDivisionError" in text and 'fixhw/functions.py", line 5, in helper' in text
    assert "worker.py" not in text and "grader" not in text


def test_syntax_error_fails_the_calls_that_import_it(staged_submission, tmp_path):
    submission = staged_submission(_write(tmp_path, "def discounted_return(:\n"))
    with pytest.raises(StudentCodeError, match="SyntaxError"):
        submission.call("fixhw.functions.discounted_return", [1.0], 0.9)
    assert submission.call("numpy.add", 1, 2) == 3  # the worker itself is fine


def test_a_hang_times_out_and_the_next_call_gets_a_fresh_worker(staged_submission, tmp_path):
    source = "import time\ndef discounted_return(r, g):\n    while True:\n        time.sleep(0.01)\n\ndef normalize(x):\n    return x\n"
    submission = staged_submission(_write(tmp_path, source))
    submission.default_timeout = 1.0
    with pytest.raises(StudentTimeout, match="did not finish within 1 s"):
        submission.call("fixhw.functions.discounted_return", [1.0], 0.9)
    np.testing.assert_array_equal(submission.call("fixhw.functions.normalize", np.ones(2)), [1.0, 1.0])
    assert submission.restarts == 1


def test_os_exit_is_a_crash_and_not_a_pass(staged_submission, tmp_path):
    submission = staged_submission(_write(tmp_path, "import os\ndef discounted_return(r, g):\n    os._exit(0)\n"))
    with pytest.raises(StudentCrash, match="exited with status 0"):
        submission.call("fixhw.functions.discounted_return", [1.0], 0.9)


def test_memory_blowup_is_reported_as_out_of_memory(staged_submission, tmp_path):
    source = "import numpy as np\ndef discounted_return(r, g):\n    return np.ones(10**10).sum()\n"
    submission = staged_submission(_write(tmp_path, source))
    with pytest.raises(StudentCodeError, match="ran out of memory"):
        submission.call("fixhw.functions.discounted_return", [1.0], 0.9)


def test_environment_is_scrubbed_and_the_repository_is_invisible(staged_submission, monkeypatch):
    monkeypatch.setenv("GRADESCOPE_SECRET", "1")
    submission = staged_submission()
    env = submission.call("os.environ.copy")
    assert "GRADESCOPE_SECRET" not in env and not any("PYTEST" in k or "GRADER" in k for k in env)
    if not bwrap_works():
        pytest.skip("filesystem isolation needs bubblewrap")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert submission.call("os.path.exists", repo) is False
    assert submission.call("os.path.exists", "/course/grader/harness") is False
    # staged code, never the repository that the editable install maps `grader` and `common` to
    for module in ("fixhw.functions", "grader.wire", "common"):
        assert submission.call(f"{module}.__file__.__str__").startswith("/course/")
    if os.getuid() == 0:
        assert submission.call("os.getuid") == 65534


def test_fallback_mode_still_runs_and_says_so(staged_submission):
    submission = staged_submission(force_fallback=True)
    np.testing.assert_allclose(submission.call("fixhw.functions.normalize", np.array([1.0, 3.0])), [-1.0, 1.0])
    assert submission.sandboxed is False
    # the editable install maps `grader` and `common` to the repository: the staged copy must win
    stage = str(submission.settings.stage_dir)
    assert submission.call("grader.wire.__file__.__str__").startswith(stage)
    assert submission.call("fixhw.functions.__file__.__str__").startswith(stage)


def test_student_output_is_captured_and_capped(staged_submission, tmp_path):
    source = "def normalize(x):\n    print('start')\n    print('x' * 1_000_000)\n    print('end')\n    return x\n"
    submission = staged_submission(_write(tmp_path, source))
    submission.call("fixhw.functions.normalize", [1.0])
    output = submission.take_output()
    assert output.startswith("start") and output.rstrip().endswith("end") and len(output) < 10_000
    assert "bytes of output not shown" in output
