"""What the offline learners (cql.py, awac.py, iql.py) share: tensors of a batch, one optimizer step,
homework 3's Q-learning agent for the mazes, and a categorical actor. Nothing to implement here.

Every learner has the same face, so one training loop (offline_training.py) runs them all:

    agent.update(batch: Transitions) -> dict of metrics       one gradient step on a dataset batch
    agent.get_action(obs (N, 2), deterministic=False, epsilon=0.0, rng=None) -> actions (N,) int64
    agent.q_values(obs (N, 2)) -> (N, A) numpy                 the critic's Q(s, .), for the Q-value plots
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from common.rollouts import Transitions
from common.torch_utils import build_mlp, to_torch
from hw3_qlearning_ac.dqn import DQNAgent, DQNConfig
from hw5_exploration_offline.rnd import spread_first_layer


@dataclass
class TorchBatch:
    """A Transitions batch as tensors: observations (B, obs_dim), actions (B,) int64, rewards (B,),
    next_observations (B, obs_dim), terminated (B,) float 0/1 (truncation never stops a bootstrap)."""

    observations: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_observations: torch.Tensor
    terminated: torch.Tensor


def to_torch_batch(batch: Transitions, device: torch.device) -> TorchBatch:
    as_float = {name: to_torch(getattr(batch, name), device)
                for name in ("observations", "rewards", "next_observations", "terminated")}
    return TorchBatch(actions=torch.as_tensor(batch.actions, dtype=torch.long, device=device), **as_float)


def gradient_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, parameters: Iterable[nn.Parameter],
                  max_grad_norm: float | None) -> float:
    """zero_grad, backward, clip the global gradient norm (None: no clipping), step; returns the norm before clipping."""
    parameters = list(parameters)
    optimizer.zero_grad()
    loss.backward()
    max_norm = max_grad_norm if max_grad_norm is not None else float("inf")
    grad_norm = torch.nn.utils.clip_grad_norm_(parameters, max_norm)
    optimizer.step()
    return float(grad_norm)


def count_update(dqn: DQNAgent) -> None:
    """After a gradient step of dqn's Q-network: count it, and copy phi' <- phi every target_update_period steps."""
    dqn.num_updates += 1
    if dqn.num_updates % dqn.config.target_update_period == 0:
        dqn.target_network.load_state_dict(dqn.q_network.state_dict())


def make_dqn(obs_shape: Sequence[int], num_actions: int, config: DQNConfig | None,
             q_input_scale: float | None) -> DQNAgent:
    """Homework 3's DQNAgent, its first layer re-drawn for maze coordinates in [0, 1] (rnd.spread_first_layer)
    when q_input_scale is set, and its target network copied from the result."""
    dqn = DQNAgent(obs_shape, num_actions, config)
    if q_input_scale is not None:
        spread_first_layer(dqn.q_network, q_input_scale)
        dqn.target_network.load_state_dict(dqn.q_network.state_dict())
    return dqn


class CategoricalActor(nn.Module):
    """A policy over discrete actions: an MLP from observations (B, obs_dim) to logits (B, A),
    pi(a|s) = softmax(logits)_a. Its first layer is spread like the Q-network's when input_scale is set."""

    def __init__(self, obs_dim: int, num_actions: int, hidden_sizes: Sequence[int] = (128, 128),
                 input_scale: float | None = None):
        super().__init__()
        self.net = build_mlp(obs_dim, num_actions, tuple(hidden_sizes), activation="relu")
        if input_scale is not None:
            spread_first_layer(self.net, input_scale)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.net(observations.float())

    def act(self, observations: torch.Tensor, deterministic: bool, rng: np.random.Generator | None) -> np.ndarray:
        """The most likely action (deterministic) or one drawn from pi(.|s) with rng: (N,) int64."""
        with torch.no_grad():
            probs = torch.softmax(self(observations), dim=-1).cpu().double().numpy()
        if deterministic:
            return probs.argmax(axis=1).astype(np.int64)
        rng = rng if rng is not None else np.random.default_rng()
        cumulative = np.cumsum(probs, axis=1)
        draws = rng.random((len(probs), 1)) * cumulative[:, -1:]
        return np.minimum((cumulative < draws).sum(axis=1), probs.shape[1] - 1).astype(np.int64)


class ActorCriticAgent(nn.Module):
    """The acting side of AWACAgent and IQLAgent: a critic `self.critic` (homework 3's DQNAgent) and a
    CategoricalActor `self.actor`, set by the subclass. The agent acts with the actor: its most likely
    action (deterministic), else a sample of pi(.|s) (epsilon is ignored: the actor's own randomness
    explores online)."""

    critic: DQNAgent
    actor: CategoricalActor

    @property
    def device(self) -> torch.device:
        return self.critic.device

    def q_values(self, observations: np.ndarray) -> np.ndarray:
        return self.critic.q_values(observations)

    def get_action(self, observations: np.ndarray, deterministic: bool = False, epsilon: float = 0.0,
                   rng: np.random.Generator | None = None) -> np.ndarray:
        obs = torch.as_tensor(observations, dtype=torch.float32, device=self.device)
        return self.actor.act(obs, deterministic, rng)
