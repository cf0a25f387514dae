"""The one place where numpy meets torch: device, threads, allocator, seeding, MLPs, conversion.

Thread count. PyTorch uses every core by default. For the small MLPs of this course that is a
loss: on a 2-core machine with another process busy, one Adam step of a 2x64 MLP on a batch of
5000 took 4.6 ms with 1 thread and 28.2 ms with 2 (measured by the course staff), and
acting on one observation was no faster with 2. So the default is 1 thread; set
DEEPRL_TORCH_THREADS (or call `set_torch_threads(n)`) to use more for large batches on an idle machine.
"""
from __future__ import annotations

import ctypes
import os
import random
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

DEVICE_ENV_VAR = "DEEPRL_DEVICE"
THREADS_ENV_VAR = "DEEPRL_TORCH_THREADS"

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def get_device(name: str | None = None) -> torch.device:
    """Choose where tensors live.

    `name` is "auto" (CUDA when present, else CPU), "cpu", "cuda" or "cuda:N". When `name` is None,
    the DEEPRL_DEVICE environment variable decides, and "auto" when it is unset.
    """
    name = (name or os.environ.get(DEVICE_ENV_VAR) or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for but CUDA is not available: use 'cpu' or 'auto'")
    if name != "cpu" and not name.startswith("cuda"):
        raise ValueError(f"unknown device {name!r}: use 'auto', 'cpu' or 'cuda'")
    return torch.device(name)


def set_torch_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count: `n`, else DEEPRL_TORCH_THREADS, else 1 (see module docstring)."""
    if n is None:
        text = os.environ.get(THREADS_ENV_VAR, "1")
        try:
            n = int(text)
        except ValueError:
            raise ValueError(f"{THREADS_ENV_VAR} must be a whole number such as 1 or 4, got {text!r}") from None
    if n < 1:
        raise ValueError(f"thread count must be at least 1, got {n}")
    torch.set_num_threads(n)
    return n


def keep_freed_memory() -> None:
    """Let the C allocator reuse freed memory instead of handing it back to the OS (glibc only).

    Tensors of a few megabytes allocated at every step (hw4's planning: (E, N, hidden) activations)
    are served by default with fresh pages from the OS and returned when freed, so every step pays
    page faults again: in hw4's obstacles run a third of the CPU time went to the kernel (system time
    5.8 s, 0.3 s with this call; total CPU 19.1 s -> 10.6 s). Serving them from the heap (mmap
    threshold 32 MB) and keeping the heap (trim threshold 512 MB) removes that cost, for at most
    512 MB of freed memory kept by the process. Elsewhere (macOS, Windows, musl) this does nothing.
    hw3's SAC does not need it: `benchmarks/sac_speed.py --steps 300 --rounds 2` (HalfCheetah,
    256x256, batch 256) spent 0.4 s of ~26 s in the kernel with and without it, and ran 83-85
    reference env steps per CPU second either way (load average 4-12).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3   # from glibc's malloc.h
    libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)
    libc.mallopt(m_trim_threshold, 512 * 1024 * 1024)


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, numpy's global generator and torch (CPU and CUDA).

    Environments are seeded separately, through `env.reset(seed=...)` (see common.envs).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_mlp(
    input_size: int,
    output_size: int,
    hidden_sizes: Sequence[int] = (64, 64),
    activation: str = "tanh",
    output_activation: str | None = None,
) -> nn.Sequential:
    """A fully connected network: Linear -> activation, repeated, then a Linear output layer.

    input_size -> hidden_sizes[0] -> ... -> hidden_sizes[-1] -> output_size, so the network maps
    (B, input_size) -> (B, output_size). `activation` and `output_activation` are names from ACTIVATIONS.
    """
    layers: list[nn.Module] = []
    size = input_size
    for hidden in hidden_sizes:
        layers += [nn.Linear(size, hidden), _activation(activation)]
        size = hidden
    layers.append(nn.Linear(size, output_size))
    if output_activation is not None:
        layers.append(_activation(output_activation))
    return nn.Sequential(*layers)


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def to_torch(array, device: torch.device | str | None = None, dtype: torch.dtype | None = torch.float32) -> torch.Tensor:
    """numpy array (or anything np.asarray takes) -> tensor of the same shape on `device` (CPU when None).

    `dtype=None` keeps the array's own dtype (use it for integer actions). On the CPU with an
    unchanged dtype the tensor shares the array's memory, as torch.as_tensor does.
    """
    return torch.as_tensor(np.asarray(array), dtype=dtype, device=device)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """tensor (any device, with or without grad) -> numpy array of the same shape."""
    return tensor.detach().cpu().numpy()
