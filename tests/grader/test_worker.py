"""The sandboxed worker through the Submission proxy: values, objects, failures, isolation."""
import os

import numpy as np
import pytest

from grader.harness import client
from grader.harness.client import NotImplementedYet, StudentCodeError, StudentCrash, StudentTimeout
from grader.sandbox.launcher import bwrap_works


def plain(value):
    """A reply as the plain array or number the worker sent (suites unwrap with check_array)."""
    return getattr(client, "_plain", lambda v: v)(value)


def _write(tmp_path, functions_source):
    sub = tmp_path / "sub" / "fixhw"
    sub.mkdir(parents=True, exist_ok=True)
    (sub / "functions.py").write_text(functions_source)
    return tmp_path / "sub"


def test_reference_values_and_remote_objects(staged_submission):
    submission = staged_submission()
    got = plain(submission.call("fixhw.functions.reward_to_go", np.array([1, 1, 1], np.float32), 0.5))
    np.testing.assert_allclose(got, [1.75, 1.5, 1.0])
    policy = submission.new("fixhw.policy.LinearPolicy", 4, 2, seed=3)
    policy.set_weights(np.eye(4, 2, dtype=np.float32))
    actions = submission.act(policy, np.array([[1, 0, 0, 0], [0, 1, 0, 0]], np.float32))
    np.testing.assert_array_equal(plain(actions), [0, 1])
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
    np.testing.assert_allclose(plain(out), [[3.0, 3.0]])
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
    np.testing.assert_array_equal(plain(submission.call("fixhw.functions.normalize", np.ones(2))), [1.0, 1.0])
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
    from grader.sandbox import launcher
    monkeypatch.setenv("GRADESCOPE_SECRET", "1")
    submission = staged_submission()
    env = submission.call("os.environ.copy")
    assert "GRADESCOPE_SECRET" not in env and not any("PYTEST" in k or "GRADER" in k for k in env)
    if not bwrap_works():
        pytest.skip("filesystem isolation needs bubblewrap")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # CI's venv lives inside the repository (`python3 -m venv .venv` in a clone): then the repository's
    # path exists in the sandbox, holding that venv and nothing else
    if submission.call("os.path.exists", repo):
        venvs = [d for d in launcher._python_dirs() if d.startswith(repo + "/")]
        assert venvs and sorted(submission.call("os.listdir", repo)) == \
            sorted({d[len(repo) + 1:].split("/")[0] for d in venvs})
    for secret in ("pyproject.toml", "grader", "tests", "README.md"):
        assert submission.call("os.path.exists", f"{repo}/{secret}") is False
    assert submission.call("os.path.exists", "/course/grader/harness") is False
    # staged code, never the repository that the editable install maps `grader` and `common` to
    for module in ("fixhw.functions", "grader.wire", "common"):
        assert submission.call(f"{module}.__file__.__str__").startswith("/course/")
    if os.getuid() == 0:  # a uid of its own (see test_sandbox_host.py for two sandboxes at once)
        assert launcher.SANDBOX_UID_BASE <= submission.call("os.getuid") < \
            launcher.SANDBOX_UID_BASE + launcher.SANDBOX_UID_SLOTS


def test_fallback_mode_still_runs_and_says_so(staged_submission):
    submission = staged_submission(force_fallback=True)
    np.testing.assert_allclose(plain(submission.call("fixhw.functions.normalize", np.array([1.0, 3.0]))), [-1.0, 1.0])
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


def test_installed_copies_of_the_grader_and_solutions_are_hidden(staged_submission, monkeypatch):
    """A non-editable install puts grader/ (suites, harness) and the homework packages into a
    directory the sandbox must mount (site-packages); those copies are masked. Simulated by
    mounting the whole repository as if it were a Python directory."""
    if not bwrap_works():
        pytest.skip("filesystem isolation needs bubblewrap")
    from grader.sandbox import launcher
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    real_python_dirs = launcher._python_dirs
    monkeypatch.setattr(launcher, "_python_dirs", lambda: real_python_dirs() + [repo])
    submission = staged_submission()
    assert submission.call("os.path.isfile", f"{repo}/pyproject.toml") is True  # the mount happened
    for secret in ("grader/harness/plugin.py", "tests/fixture_hw/suites/fixhw/test_functions.py",
                   "tests/fixture_hw/fixhw/functions.py", ".git/HEAD"):
        assert submission.call("os.path.exists", f"{repo}/{secret}") is False, secret


ODD_VALUES = '''
import os, sys, threading, time
import numpy as np
import torch
from grader.wire import encode

class Sub(np.ndarray):
    def __eq__(self, other):
        return True

def strided():
    return np.arange(24, dtype=np.float64).reshape(4, 6)[::2, ::-3]

def big_endian():
    return np.arange(3, dtype=">f4")

def zero_d():
    return np.array(2.5, np.float32)

def subclass():
    return np.arange(3.0).view(Sub)

def grad_tensor():
    return torch.ones(2, requires_grad=True) * 2

def bf16_tensor():
    return torch.tensor([1.5, -2.0], dtype=torch.bfloat16)

def meta_tensor():
    return torch.zeros(2, device="meta")

def structured():
    return np.zeros(2, dtype=[("a", "f4")])

def reply_later():
    """Returns, then a thread forges the reply to the grader's next request."""
    frame = sys._getframe()
    while "reply_fd" not in frame.f_locals:
        frame = frame.f_back
    reply_fd, seq = frame.f_locals["reply_fd"], frame.f_locals["request"]["seq"]
    def forge():
        time.sleep(0.05)
        os.write(reply_fd, encode({"seq": seq + 1, "ok": True, "value": 1.0}))
    threading.Thread(target=forge).start()
    return 0.0
'''


def test_odd_arrays_and_tensors_arrive_as_plain_arrays_or_are_refused(staged_submission, tmp_path):
    submission = staged_submission(_write(tmp_path, ODD_VALUES))
    got = {name: plain(submission.call(f"fixhw.functions.{name}"))
           for name in ("strided", "big_endian", "zero_d", "subclass", "grad_tensor", "bf16_tensor")}
    np.testing.assert_array_equal(got["strided"], np.arange(24.0).reshape(4, 6)[::2, ::-3])
    assert got["big_endian"].dtype == np.float32 and got["big_endian"].dtype.isnative
    assert got["zero_d"].shape == () and got["zero_d"] == 2.5
    np.testing.assert_array_equal(got["grad_tensor"], [2.0, 2.0])
    np.testing.assert_array_equal(got["bf16_tensor"], [1.5, -2.0])
    assert all(type(value) is np.ndarray for value in got.values())  # never a subclass
    for name in ("meta_tensor", "structured"):
        with pytest.raises(StudentCodeError, match="cannot be graded"):
            submission.call(f"fixhw.functions.{name}")
    assert submission.restarts == 0  # refusing a value does not need a new worker


def test_a_reply_written_out_of_turn_is_never_taken_as_an_answer(staged_submission, tmp_path):
    submission = staged_submission(_write(tmp_path, ODD_VALUES))
    assert plain(submission.call("fixhw.functions.reply_later")) == 0.0
    import time
    time.sleep(0.3)  # the forged reply (value 1.0, the right sequence number) is in the pipe now
    with pytest.raises(StudentCrash, match="out of turn"):
        submission.call("fixhw.functions.zero_d")
    assert plain(submission.call("fixhw.functions.zero_d")) == 2.5  # a fresh worker


def test_a_flood_of_empty_files_in_tmp_stops_the_worker(staged_submission, tmp_path):
    """Each tmpfs file costs kernel memory that no rlimit counts: the harness caps the number."""
    if not bwrap_works():
        pytest.skip("the private /tmp needs bubblewrap")
    from grader.sandbox import launcher
    source = ("def normalize(x):\n    n = 0\n    while True:\n        open(f'/tmp/f{n}', 'w').close()\n"
              "        n += 1\n")
    submission = staged_submission(_write(tmp_path, source))
    with pytest.raises(StudentCrash, match=f"more than {launcher.MAX_TMP_FILES} files in /tmp"):
        submission.call("fixhw.functions.normalize", [1.0])


SHARED_MEMORY_BOMBS = '''
import ctypes, os, time

def memfd_bomb():
    """memfd files held open: memory outside the address space limit (and under the file size one)."""
    fds = []
    while True:
        fd = os.memfd_create("bomb")
        os.write(fd, b"x" * (8 * 2**20 - 1))
        fds.append(fd)

def shared_mapping_bomb():
    """MAP_SHARED anonymous memory: RLIMIT_DATA (the limit used with a GPU) does not count it."""
    import mmap
    maps = []
    while True:
        block = mmap.mmap(-1, 64 * 2**20, flags=mmap.MAP_SHARED)
        block.write(b"x" * (64 * 2**20))
        maps.append(block)

def sysv_bomb():
    """Detached SysV segments: they stay allocated without any address space. Returns the MB it got."""
    libc = ctypes.CDLL(None)
    libc.shmat.restype = ctypes.c_void_p
    for held in range(8):  # at most 1 GB, even if the cap failed
        segment = libc.shmget(0, 128 * 2**20, 0o1600)
        if segment < 0:
            return held * 128
        address = libc.shmat(segment, None, 0)
        ctypes.memset(address, 1, 128 * 2**20)
        libc.shmdt(ctypes.c_void_p(address))
    return 8 * 128
'''


@pytest.mark.parametrize("bomb", ["memfd_bomb", "sysv_bomb", "shared_mapping_bomb"])
def test_memory_outside_the_address_space_limit_is_capped(homework, tmp_path, bomb, monkeypatch):
    if not bwrap_works():
        pytest.skip("the watch on the sandbox needs bubblewrap")
    import dataclasses
    from grader.harness.client import Submission
    from grader.harness.staging import stage
    from grader.sandbox.launcher import SandboxSettings
    tmp_path.chmod(0o755)
    stage(homework, _write(tmp_path, SHARED_MEMORY_BOMBS), tmp_path / "stage")
    limits = dataclasses.replace(homework.limits, memory_mb=512)
    if bomb == "shared_mapping_bomb":  # as on a GPU machine: the data segment is capped, not the address space
        from grader.sandbox import gpu
        fake_node = tmp_path / "nvidia0"
        fake_node.write_text("")
        monkeypatch.setattr(gpu, "sandbox_access", lambda: gpu.GpuAccess(((str(fake_node), "/dev/nvidia0"),)))
    submission = Submission(SandboxSettings(tmp_path / "stage", limits), default_timeout=20)
    try:
        # stopped by the sandbox's memory cgroup where there is one, else from outside by the harness's watch
        stopped = "memory limit exceeded|MB in memfd files or shared mappings"
        if bomb != "sysv_bomb":
            with pytest.raises(StudentCrash, match=stopped):
                submission.call(f"fixhw.functions.{bomb}")
        elif os.getuid() == 0:  # capped inside the sandbox's IPC namespace (set up as root), or killed by the cgroup
            try:
                assert plain(submission.call(f"fixhw.functions.{bomb}")) <= 512
            except StudentCrash as err:
                assert "memory limit exceeded" in str(err)
        else:
            pytest.skip("SysV shared memory is capped only when the grader runs as root")
    finally:
        submission.discard()
