"""GPUs and the sandbox (grader/sandbox/gpu.py), checked by simulation: fake /dev/nvidia* nodes.

test_a_real_gpu_is_usable_in_the_sandbox_and_memory_stays_capped needs a real CUDA GPU and is
skipped without one (see docs/GRADER.md, "GPUs")."""
import resource
from pathlib import Path

import pytest

from grader.sandbox import gpu
from grader.sandbox.launcher import bwrap_works

FIXTURE_PACKAGE = Path(__file__).resolve().parent.parent / "fixture_hw" / "fixhw"


@pytest.fixture
def fake_dev(tmp_path):
    """A /dev look-alike of a two-GPU machine, with unrelated nodes that must not be bound."""
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset",
                 "null", "nvidia0p1", "nvidia-fake", "nvme0"):
        (dev / name).write_text("")
    (dev / "nvidia-caps").mkdir()
    return dev


def test_device_nodes_are_the_nvidia_ones_only(fake_dev, tmp_path):
    names = [node.name for node in gpu.device_nodes(fake_dev)]
    assert names == ["nvidia-caps", "nvidia-modeset", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia1",
                     "nvidiactl"]
    assert gpu.gpu_count(fake_dev) == 2
    assert gpu.device_nodes(tmp_path / "missing") == [] and gpu.gpu_count(tmp_path / "missing") == 0


@pytest.mark.parametrize("visible, expected", [(None, ["0", "1"]), ("1", ["1"]), ("1, 0", ["1", "0"]),
                                               ("GPU-3f2a,GPU-77b1", ["GPU-3f2a", "GPU-77b1"]),
                                               ("", []), ("-1", []), (" ", [])])
def test_available_gpus_honour_cuda_visible_devices(fake_dev, visible, expected):
    environ = {} if visible is None else {"CUDA_VISIBLE_DEVICES": visible}
    assert gpu.available(environ, fake_dev) == expected


def test_no_gpu_on_the_machine_means_none_available_whatever_the_variable(tmp_path):
    (tmp_path / "nvidiactl").write_text("")  # a driver without any GPU node
    assert gpu.available({"CUDA_VISIBLE_DEVICES": "0"}, tmp_path) == []
    assert gpu.sandbox_access({"CUDA_VISIBLE_DEVICES": "0"}, tmp_path) == gpu.GpuAccess()


def test_one_gpu_per_concurrent_worker_round_robin():
    assert gpu.assign(2, ["0", "1"]) == ["0", "1"]
    assert gpu.assign(1, ["3", "5"]) == ["3"]
    # more workers than GPUs: they share, evenly
    assert gpu.assign(5, ["0", "1"]) == ["0", "1", "0", "1", "0"]
    assert gpu.assign(3, []) == [None, None, None]


def test_sandbox_access_binds_every_node_and_passes_the_assignment(fake_dev):
    access = gpu.sandbox_access({"CUDA_VISIBLE_DEVICES": "1", "CUDA_DEVICE_ORDER": "PCI_BUS_ID", "SECRET": "x",
                                 "CUDA_LAUNCH_BLOCKING": "1"}, fake_dev)
    assert access.enabled
    assert access.env == {"CUDA_VISIBLE_DEVICES": "1", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    targets = [target for _, target in access.binds]
    assert targets == [f"/dev/{node.name}" for node in gpu.device_nodes(fake_dev)]
    assert "/dev/null" not in targets and "/dev/nvme0" not in targets
    arguments = gpu.bwrap_arguments(access)
    assert arguments[:3] == ["--dev-bind-try", str(fake_dev / "nvidia-caps"), "/dev/nvidia-caps"]
    assert arguments.count("--dev-bind-try") == len(targets) == 7
    # no assignment: every GPU, as CUDA would see them outside
    assert gpu.sandbox_access({}, fake_dev).env == {} and gpu.sandbox_access({}, fake_dev).enabled


@pytest.mark.parametrize("visible", ["", "-1", "NoDevFiles"])
def test_a_grading_given_no_gpu_gets_no_device_at_all(fake_dev, visible):
    access = gpu.sandbox_access({"CUDA_VISIBLE_DEVICES": visible}, fake_dev)
    assert not access.enabled and gpu.bwrap_arguments(access) == []


def _limits_and_devices(submission):
    return {"data": tuple(submission.call("resource.getrlimit", resource.RLIMIT_DATA)),
            "as": tuple(submission.call("resource.getrlimit", resource.RLIMIT_AS)),
            "nodes": sorted(n for n in submission.call("os.listdir", "/dev") if n.startswith("nvidia")),
            "visible": submission.call("os.environ.get", "CUDA_VISIBLE_DEVICES")}


def test_the_sandbox_without_a_gpu_is_unchanged(staged_submission, homework, monkeypatch):
    if not bwrap_works():
        pytest.skip("device binds need bubblewrap")
    monkeypatch.setattr(gpu, "sandbox_access", lambda: gpu.GpuAccess())
    seen = _limits_and_devices(staged_submission())
    memory = homework.limits.memory_mb * 2**20
    assert seen == {"data": (resource.RLIM_INFINITY,) * 2, "as": (memory, memory), "nodes": [], "visible": None}


def test_the_sandbox_with_a_gpu_sees_the_nodes_and_its_assignment(staged_submission, homework, fake_dev,
                                                                   monkeypatch):
    if not bwrap_works():
        pytest.skip("device binds need bubblewrap")
    access = gpu.sandbox_access({"CUDA_VISIBLE_DEVICES": "1", "HOME": "/root"}, fake_dev)
    monkeypatch.setattr(gpu, "sandbox_access", lambda: access)
    submission = staged_submission()
    seen = _limits_and_devices(submission)
    memory = homework.limits.memory_mb * 2**20
    # CUDA reserves address space: the data segment is capped instead, at the same limit
    assert seen == {"data": (memory, memory), "as": (resource.RLIM_INFINITY,) * 2, "visible": "1",
                    "nodes": ["nvidia-caps", "nvidia-modeset", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0",
                              "nvidia1", "nvidiactl"]}
    assert submission.call("os.environ.get", "HOME") == "/tmp"  # only the GPU variables are passed on
    assert submission.call("os.path.isdir", "/dev/nvidia-caps") is True


def test_the_memory_limit_still_holds_with_a_gpu(staged_submission, fake_dev, tmp_path, monkeypatch):
    from grader.harness.client import StudentCodeError
    if not bwrap_works():
        pytest.skip("device binds need bubblewrap")
    access = gpu.sandbox_access({}, fake_dev)
    monkeypatch.setattr(gpu, "sandbox_access", lambda: access)
    sub = tmp_path / "sub" / "fixhw"
    sub.mkdir(parents=True)
    sub.joinpath("functions.py").write_text(
        "import numpy as np\ndef discounted_return(r, g):\n    return np.ones(10**10).sum()\n")
    submission = staged_submission(tmp_path / "sub")
    with pytest.raises(StudentCodeError, match="ran out of memory"):
        submission.call("fixhw.functions.discounted_return", [1.0], 0.9)


@pytest.mark.skipif(gpu.gpu_count() == 0, reason="no NVIDIA GPU on this machine")
def test_a_real_gpu_is_usable_in_the_sandbox_and_memory_stays_capped(homework, tmp_path, monkeypatch):
    import dataclasses

    from grader.harness.client import StudentCodeError, Submission
    from grader.harness.staging import stage
    from grader.sandbox.launcher import SandboxSettings
    if not bwrap_works():
        pytest.skip("device binds need bubblewrap")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", gpu.available()[0])
    sub = tmp_path / "sub" / "fixhw"
    sub.mkdir(parents=True)
    sub.joinpath("functions.py").write_text(
        "import numpy as np, torch\n"
        "def discounted_return(r, g):\n"
        "    x = torch.ones(1024, 1024, device='cuda')\n"
        "    return float((x @ x).sum().item()) + torch.cuda.device_count()\n"
        "def normalize(v):\n"
        "    return np.ones(10**10).sum()\n")
    tmp_path.chmod(0o755)
    stage(homework, tmp_path / "sub", tmp_path / "stage")
    # a real homework's memory limit (the fixture's 1 GB is tight for torch plus a CUDA context)
    limits = dataclasses.replace(homework.limits, memory_mb=4096)
    submission = Submission(SandboxSettings(tmp_path / "stage", limits), default_timeout=120, wrap_arrays=False)
    try:
        # one GPU visible (the assigned one), and student code computes on it
        assert submission.call("fixhw.functions.discounted_return", [1.0], 0.9) == 1024.0 ** 3 + 1
        with pytest.raises(StudentCodeError, match="ran out of memory"):
            submission.call("fixhw.functions.normalize", [1.0])
    finally:
        submission.discard()


def test_worker_environments_one_gpu_per_worker_or_none(fake_dev, tmp_path):
    assert gpu.worker_environments(3, True, {}, fake_dev) == [{"CUDA_VISIBLE_DEVICES": g} for g in ("0", "1", "0")]
    assert gpu.worker_environments(2, True, {"CUDA_VISIBLE_DEVICES": "1"}, fake_dev) == \
        [{"CUDA_VISIBLE_DEVICES": "1"}] * 2
    assert gpu.worker_environments(2, False, {}, fake_dev) == [{"CUDA_VISIBLE_DEVICES": ""}] * 2
    assert gpu.worker_environments(2, True, {}, tmp_path / "missing") == [{}, {}]  # no GPU: nothing changes


def test_a_local_batch_gives_each_concurrent_grading_its_own_gpu(monkeypatch, tmp_path):
    """grader.batch.local_engine with 2 workers on a simulated 2-GPU machine: no GPU ever holds two
    gradings at once, and a homework without `gpu: true` gets none."""
    import dataclasses
    import threading
    import time

    from grader import batch
    from grader.manifest import find_homework
    monkeypatch.setattr(gpu, "gpu_count", lambda dev="/dev": 2)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    real = find_homework(str(FIXTURE_PACKAGE))
    wants = {}
    monkeypatch.setattr(batch, "find_homework", lambda hw: dataclasses.replace(
        real, limits=dataclasses.replace(real.limits, gpu=wants["gpu"])))
    lock, holding, seen = threading.Lock(), {}, []

    def fake_run(self, unsandboxed=False, env=None):
        device = (env or {}).get("CUDA_VISIBLE_DEVICES")
        with lock:
            seen.append(device)
            holding[device] = holding.get(device, 0) + 1
            assert device in ("", None) or holding[device] == 1, "two gradings on one GPU"
        time.sleep(0.05)
        with lock:
            holding[device] -= 1
        return batch.Row(submission=self.name, status="graded", score=1.0, max_score=1.0, parts={}, seed=1,
                         seconds=0.0)

    monkeypatch.setattr(batch.Task, "run", fake_run)
    tasks = [batch.Task(hw=str(FIXTURE_PACKAGE), submission=f"s{i}", out_dir=str(tmp_path / f"s{i}"), seed=1, key="", name=f"s{i}")
             for i in range(6)]
    wants["gpu"] = True
    assert len(list(batch.local_engine(2)(tasks))) == 6
    assert len(seen) == 6 and set(seen) == {"0", "1"}
    seen.clear()
    wants["gpu"] = False
    assert len(list(batch.local_engine(2)(tasks))) == 6
    assert seen == [""] * 6
