"""Pieces every hw3 training loop shares: evaluation episodes, the progress bar, resume checkpoints."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from common.logger import ProgressBar, load_checkpoint, progress_bar
from common.rollouts import Trajectory, sample_trajectories

EVAL_SEED_OFFSET = 10_000  # the evaluation env never replays the training env's episodes
RESUME_CHECKPOINT = "resume"  # <run_dir>/checkpoints/resume.pt, rewritten every checkpoint_every env steps


def evaluate(env, policy: Callable[[np.ndarray], np.ndarray], num_episodes: int) -> tuple[float, float]:
    """Mean and std of the undiscounted return of `policy` over `num_episodes` whole episodes."""
    returns = [t.episode_return for t in evaluation_episodes(env, policy, num_episodes)]
    return float(np.mean(returns)), float(np.std(returns))


def evaluation_episodes(env, policy: Callable[[np.ndarray], np.ndarray], num_episodes: int) -> list[Trajectory]:
    """`num_episodes` whole episodes of `policy` in `env` (numpy observations (N, ...) -> actions (N, ...))."""
    return sample_trajectories(env, policy, num_trajectories=num_episodes)


def make_progress_bar(total: int, desc: str, enabled: bool = True) -> ProgressBar:
    """The run's tqdm bar over env steps (hidden when `enabled` is False: batch jobs, the grader)."""
    return progress_bar(total=total, desc=desc, **({} if enabled else {"disable": True}))


def load_resume_checkpoint(path: str | Path) -> dict[str, Any]:
    """A resume checkpoint: a run directory (its checkpoints/resume.pt) or the .pt file itself."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoints" / f"{RESUME_CHECKPOINT}.pt"
    if not path.exists():
        raise FileNotFoundError(f"no resume checkpoint at {path}: give a run directory or its checkpoints/{RESUME_CHECKPOINT}.pt")
    return load_checkpoint(path)
