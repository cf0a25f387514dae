"""The course's expert policies and their demonstrations (given; parts 1-2, README 2).

Each expert is the deterministic policy of a soft actor-critic agent trained by homework 3's
reference (`python -m hw1_imitation.make_expert --env ENV`):

    a = bias + scale * tanh(mu_phi(s))          mu_phi: an MLP of the RAW observation (no normalization)

saved as a small float32 state dict (`experts/<env>.pt`, loads with `torch.load(weights_only=True)`)
next to its metadata (`experts/<env>.json`: env id, architecture, action box, training steps and
wall time, measured return, the command that made it). Its demonstrations
(`python -m hw1_imitation.make_expert_data --env ENV`) are whole deterministic episodes in
`experts/<env>_data.npz`.

    expert = load_expert("HalfCheetah-v5")              # an nn.Module; expert.act(obs (N, obs_dim) numpy) -> (N, act_dim)
    trajectories = load_expert_trajectories("HalfCheetah-v5", num_trajectories=2)
    data = trajectories_to_dataset(trajectories)         # Dataset: observations (N, obs_dim), actions (N, act_dim)
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from common.rollouts import Trajectory
from common.torch_utils import build_mlp, to_numpy, to_torch

EXPERTS_DIR = Path(__file__).resolve().parent / "experts"
ENVS = ("HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5")
# Mean return over 10 episodes of the public CS 285 experts; the course's experts aim at 90% of these.
CS285_EXPERT_RETURNS = {"HalfCheetah-v5": 4035.0, "Hopper-v5": 3718.0, "Walker2d-v5": 5383.0, "Ant-v5": 4682.0}


@dataclass
class Dataset:
    """(observation, action) pairs to imitate: observations (N, obs_dim) float32, actions (N, act_dim) float32."""

    observations: np.ndarray
    actions: np.ndarray

    def __post_init__(self):
        self.observations = np.asarray(self.observations, dtype=np.float32)
        self.actions = np.asarray(self.actions, dtype=np.float32)
        if self.observations.ndim != 2 or self.actions.ndim != 2 or len(self.observations) != len(self.actions):
            raise ValueError(f"a Dataset holds observations (N, obs_dim) and actions (N, act_dim) of the same N; "
                             f"got {self.observations.shape} and {self.actions.shape}")

    def __len__(self) -> int:
        return len(self.observations)


class ExpertPolicy(nn.Module):
    """a = bias + scale * tanh(mu_phi(s)): the mean action of a trained SAC actor, in the env's action box.

    obs_dim, act_dim: sizes; hidden_sizes: the MLP's hidden layers (relu); action_low/high: (act_dim,).
    `act(observations (N, obs_dim) numpy) -> actions (N, act_dim) float32 numpy`.
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int] = (256, 256),
                 action_low=None, action_high=None):
        super().__init__()
        self.mean_net = build_mlp(obs_dim, act_dim, tuple(hidden_sizes), "relu")
        low = -np.ones(act_dim) if action_low is None else np.asarray(action_low, dtype=np.float64)
        high = np.ones(act_dim) if action_high is None else np.asarray(action_high, dtype=np.float64)
        self.register_buffer("action_scale", torch.as_tensor((high - low) / 2.0, dtype=torch.float32))
        self.register_buffer("action_bias", torch.as_tensor((high + low) / 2.0, dtype=torch.float32))

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """(N, obs_dim) -> env actions (N, act_dim)."""
        return self.action_bias + self.action_scale * torch.tanh(self.mean_net(observations))

    @torch.no_grad()
    def act(self, observations: np.ndarray) -> np.ndarray:
        """numpy observations (N, obs_dim) -> numpy actions (N, act_dim) float32 (a policy for common.rollouts)."""
        return to_numpy(self(to_torch(np.asarray(observations, dtype=np.float32))))


def expert_paths(env_id: str, folder: Path | str = EXPERTS_DIR) -> dict[str, Path]:
    """Where the expert of env_id lives: weights (.pt), metadata (.json) and demonstrations (_data.npz)."""
    stem = Path(folder) / env_id.replace("/", "-")
    return {"weights": stem.with_suffix(".pt"), "metadata": stem.with_suffix(".json"),
            "data": stem.parent / f"{stem.name}_data.npz"}


def load_metadata(env_id: str, folder: Path | str = EXPERTS_DIR) -> dict:
    path = expert_paths(env_id, folder)["metadata"]
    if not path.exists():
        raise FileNotFoundError(f"no expert for {env_id} in {Path(folder)} (expected {path.name}); the course "
                                f"ships experts for {', '.join(ENVS)}; make one with "
                                f"`python -m hw1_imitation.make_expert --env {env_id}`")
    return json.loads(path.read_text())


def load_expert(env_id: str, folder: Path | str = EXPERTS_DIR) -> ExpertPolicy:
    """The shipped expert of env_id, ready to act (eval mode, no gradients)."""
    meta = load_metadata(env_id, folder)
    expert = ExpertPolicy(meta["obs_dim"], meta["act_dim"], meta["hidden_sizes"], meta["action_low"],
                          meta["action_high"])
    expert.load_state_dict(torch.load(expert_paths(env_id, folder)["weights"], weights_only=True))
    return expert.eval().requires_grad_(False)


def save_trajectories(path: Path | str, trajectories: Sequence[Trajectory]) -> Path:
    """Whole episodes laid end to end in one compressed .npz, with `lengths` (num_trajectories,) to split them.

    Within an episode s_{t+1} is the next step's observation, so only each episode's last next
    observation is stored (`final_observations`, (num_trajectories, obs_dim)).
    """
    for t in trajectories:
        if not np.array_equal(t.next_observations[:-1], t.observations[1:]):
            raise ValueError("save_trajectories takes whole episodes: next_observations[t] must equal observations[t + 1]")
    np.savez_compressed(
        path,
        lengths=np.array([len(t.rewards) for t in trajectories]),
        observations=np.concatenate([t.observations for t in trajectories]).astype(np.float32),
        actions=np.concatenate([t.actions for t in trajectories]).astype(np.float32),
        rewards=np.concatenate([t.rewards for t in trajectories]).astype(np.float32),
        terminated=np.concatenate([t.terminated for t in trajectories]),
        truncated=np.concatenate([t.truncated for t in trajectories]),
        final_observations=np.stack([t.next_observations[-1] for t in trajectories]).astype(np.float32),
    )
    return Path(path)


def load_trajectories(path: Path | str, num_trajectories: int | None = None) -> list[Trajectory]:
    """The first `num_trajectories` (None: all) episodes saved by `save_trajectories`."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    lengths = arrays["lengths"]
    if num_trajectories is not None and not 1 <= num_trajectories <= len(lengths):
        raise ValueError(f"{path} holds {len(lengths)} trajectories; asked for {num_trajectories}")
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    trajectories = []
    for i in range(len(lengths) if num_trajectories is None else num_trajectories):
        part = {name: arrays[name][bounds[i]:bounds[i + 1]]
                for name in ("observations", "actions", "rewards", "terminated", "truncated")}
        part["next_observations"] = np.concatenate([part["observations"][1:], arrays["final_observations"][i:i + 1]])
        trajectories.append(Trajectory(**part))
    return trajectories


def load_expert_trajectories(env_id: str, num_trajectories: int | None = None,
                             folder: Path | str = EXPERTS_DIR) -> list[Trajectory]:
    """The shipped demonstrations of env_id's expert (deterministic episodes, made by make_expert_data)."""
    path = expert_paths(env_id, folder)["data"]
    if not path.exists():
        raise FileNotFoundError(f"no demonstrations for {env_id} at {path}: "
                                f"`python -m hw1_imitation.make_expert_data --env {env_id}` makes them")
    return load_trajectories(path, num_trajectories)


def trajectories_to_dataset(trajectories: Sequence[Trajectory]) -> Dataset:
    """Every (observation, action) pair of the trajectories, in order."""
    return Dataset(np.concatenate([t.observations for t in trajectories]),
                   np.concatenate([t.actions for t in trajectories]))
