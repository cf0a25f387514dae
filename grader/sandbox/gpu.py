"""GPUs for the sandboxed worker: which device nodes it gets and which GPU it is told to use.

A grading's GPU is chosen by the process that starts it, with the usual CUDA variable: the harness
inherits `CUDA_VISIBLE_DEVICES` from the grader (set by `python -m grader batch` for each of its
workers, by Ray for a task that asked for a GPU, or by the instructor), and `sandbox_access` turns it
into what bubblewrap needs:
- no NVIDIA device nodes on this machine: nothing (the worker runs on CPU, exactly as before);
- `CUDA_VISIBLE_DEVICES` empty or -1 (this grading was given no GPU): nothing, so the worker has no
  GPU at all, not merely a hidden one;
- otherwise every /dev/nvidia* node is bound into the sandbox (`--dev-bind`) and the variable is
  passed on unchanged (with `CUDA_DEVICE_ORDER` when set), so CUDA inside sees only the assigned GPU.

The nodes of all GPUs are bound, not only the assigned one's: /dev/nvidiaN is numbered by the
driver's minor number while CUDA_VISIBLE_DEVICES counts in CUDA's order, and the two need not agree.
`CUDA_VISIBLE_DEVICES` therefore shares the GPUs out fairly between cooperating gradings; it is not
a wall: code that rewrites the variable before CUDA starts can reach another GPU of the machine.
GPU memory has no per-sandbox limit (host memory keeps its cgroup and RLIMIT_DATA; see launcher).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

# /dev/nvidia0.., nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset, the nvidia-caps directory
NODE_NAME = re.compile(r"nvidia(\d+|ctl|-uvm|-uvm-tools|-modeset|-caps)")
GPU_NODE = re.compile(r"nvidia\d+")
NO_GPU = ("", "-1", "none", "NoDevFiles")  # values of CUDA_VISIBLE_DEVICES that mean "no GPU"
PASSED_ON = ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")


@dataclass(frozen=True)
class GpuAccess:
    """What the sandbox gets: device nodes (host path, path inside) and environment variables."""
    binds: tuple[tuple[str, str], ...] = ()
    env: dict = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.binds)


def device_nodes(dev: str | Path = "/dev") -> list[Path]:
    """The NVIDIA device nodes (and the nvidia-caps directory) under `dev`, sorted."""
    try:
        entries = sorted(Path(dev).iterdir())
    except OSError:
        return []
    return [entry for entry in entries if NODE_NAME.fullmatch(entry.name)]


def gpu_count(dev: str | Path = "/dev") -> int:
    """How many GPUs the driver exposes here (one /dev/nvidiaN node each)."""
    return sum(1 for node in device_nodes(dev) if GPU_NODE.fullmatch(node.name))


def available(environ=None, dev: str | Path = "/dev") -> list[str]:
    """The GPUs this process may hand out, as CUDA_VISIBLE_DEVICES entries: the entries of its own
    CUDA_VISIBLE_DEVICES when set, else "0".."n-1" for the n GPUs of the machine."""
    environ = os.environ if environ is None else environ
    count = gpu_count(dev)
    if count == 0:
        return []
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return [str(i) for i in range(count)]
    if visible.strip() in NO_GPU:
        return []
    return [entry.strip() for entry in visible.split(",") if entry.strip()]


def assign(workers: int, gpus: list[str]) -> list[str | None]:
    """CUDA_VISIBLE_DEVICES for each of `workers` concurrent gradings: one GPU each, round robin.

    With more workers than GPUs, workers share: worker i gets GPU i mod n (so two gradings on one GPU
    at most ceil(workers / n)). Without GPUs every worker gets None (CPU, nothing changes)."""
    if not gpus:
        return [None] * workers
    return [gpus[i % len(gpus)] for i in range(workers)]


def worker_environments(workers: int, wants_gpu: bool, environ=None, dev: str | Path = "/dev") -> list[dict]:
    """Variables for each of `workers` concurrent gradings of a batch (added to the grading's
    environment). A homework with `gpu: true` gets one GPU per worker (`assign`); any other homework
    gets none at all (CUDA_VISIBLE_DEVICES empty), so parallel gradings never contend for a GPU
    nobody scheduled. On a machine without a GPU: nothing."""
    if gpu_count(dev) == 0:
        return [{} for _ in range(workers)]
    if not wants_gpu:
        return [{"CUDA_VISIBLE_DEVICES": ""} for _ in range(workers)]
    return [{} if g is None else {"CUDA_VISIBLE_DEVICES": g} for g in assign(workers, available(environ, dev))]


def sandbox_access(environ=None, dev: str | Path = "/dev") -> GpuAccess:
    """The device binds and variables the sandbox of a grading started from `environ` gets."""
    environ = os.environ if environ is None else environ
    nodes = device_nodes(dev)
    if not any(GPU_NODE.fullmatch(node.name) for node in nodes):
        return GpuAccess()
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in NO_GPU:
        return GpuAccess()
    binds = tuple((str(node), f"/dev/{node.name}") for node in nodes)
    return GpuAccess(binds, {name: environ[name] for name in PASSED_ON if name in environ})


def bwrap_arguments(access: GpuAccess) -> list[str]:
    """bubblewrap options for `access` (device binds; the variables go through --setenv with the rest)."""
    arguments = []
    for source, target in access.binds:
        arguments += ["--dev-bind-try", source, target]
    return arguments
