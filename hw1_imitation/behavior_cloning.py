"""Behavior cloning on MuJoCo tasks: a Gaussian MLP policy fitted to an expert's (observation, action) pairs (part 1).

    pi_theta(a | s) = N( mu_theta(s), diag(sigma^2) )       mu_theta: an MLP of the normalized observation,
                                                            log sigma: one learned number per action dimension

Training maximizes the log-likelihood of the EXPERT's actions (README 3.1):

    L(theta) = -(1/N) sum_i log pi_theta(a_i | s_i),       (s_i, a_i) from the expert's demonstrations

by minibatch Adam steps (README 3.3). Evaluation runs the MEAN action mu_theta(s) (README 3.2): the
spread sigma only says how unsure the fit is, and sampling from it would add noise the expert never had.

Shapes: N = number of pairs, B = batch size, obs_dim, act_dim as the env's.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from common.torch_utils import build_mlp, to_numpy, to_torch
from hw1_imitation.experts import Dataset


class BCPolicy(nn.Module):
    """pi_theta(a | s) = N(mu_theta((s - obs_mean) / obs_std), diag(exp(log_std)^2)).

    obs_mean, obs_std (obs_dim,): the normalization of the observations (the expert data's mean and
    std, from `observation_stats`), stored as buffers so that they travel with the weights.
    The MLP has `hidden_sizes` hidden layers with `activation`; log_std is a parameter (act_dim,).
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int] = (64, 64), activation: str = "tanh",
                 obs_mean=None, obs_std=None, initial_log_std: float = -1.0):
        super().__init__()
        self.mean_net = build_mlp(obs_dim, act_dim, tuple(hidden_sizes), activation)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(initial_log_std)))
        mean = np.zeros(obs_dim) if obs_mean is None else np.asarray(obs_mean)
        std = np.ones(obs_dim) if obs_std is None else np.asarray(obs_std)
        self.register_buffer("obs_mean", torch.as_tensor(mean, dtype=torch.float32).clone())
        self.register_buffer("obs_std", torch.as_tensor(std, dtype=torch.float32).clone())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """(N, obs_dim) -> the means mu_theta(s) (N, act_dim)."""
        return self.mean_net((observations - self.obs_mean) / self.obs_std)

    def distribution(self, observations: torch.Tensor) -> torch.distributions.Normal:
        """pi_theta(. | s) as a torch Normal of batch shape (N, act_dim): one independent Gaussian per action dimension.

        Its `.log_prob(actions)` is (N, act_dim), one log-density per dimension (sum them for the
        log-density of the whole action vector); `.mean` is mu_theta(s).
        """
        return torch.distributions.Normal(self(observations), self.log_std.exp())

    @torch.no_grad()
    def act(self, observations: np.ndarray) -> np.ndarray:
        """The action the evaluation takes: the MEAN mu_theta(s) of the policy, not a sample.

        observations: numpy (N, obs_dim)  ->  numpy (N, act_dim) float32
        (`common.torch_utils.to_torch` and `to_numpy` convert.)
        """
        # BEGIN SOLUTION (README 3.2)
        return to_numpy(self(to_torch(observations)))
        # END SOLUTION


def observation_stats(observations: np.ndarray, min_std: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std of (N, obs_dim) observations; a std below min_std becomes min_std
    (an observation entry that never moves would otherwise divide by zero)."""
    observations = np.asarray(observations, dtype=np.float64)
    return observations.mean(axis=0), np.maximum(observations.std(axis=0), min_std)


def bc_loss(policy: BCPolicy, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """The behavior cloning loss: the negative log-likelihood of the expert's actions, averaged over the batch.

        L(theta) = -(1/B) sum_i log pi_theta(a_i | s_i),
        log pi_theta(a | s) = sum_j log N(a_j; mu_theta(s)_j, sigma_j)     (summed over the act_dim dimensions)

    Use `policy.distribution(observations)`. The expert's actions `actions` go into the
    log-likelihood: do not sample actions from the policy.

    observations: (B, obs_dim); actions: (B, act_dim), the expert's  ->  scalar tensor (0-dim), differentiable
    """
    # BEGIN SOLUTION (README 3.1)
    return -policy.distribution(observations).log_prob(actions).sum(dim=-1).mean()
    # END SOLUTION


def train_bc(policy: BCPolicy, optimizer: torch.optim.Optimizer, dataset: Dataset, num_steps: int, batch_size: int,
             rng: np.random.Generator) -> float:
    """`num_steps` minibatch gradient steps of `optimizer` on bc_loss over `dataset`; returns the mean loss.

    Each step draws a minibatch of `batch_size` pairs uniformly WITH replacement,
        index = rng.integers(len(dataset), size=batch_size)
    (one call per step, in this order: the grader replays it with the same rng), computes
    bc_loss(policy, observations[index], actions[index]) as torch tensors, and takes one step
    (zero the gradients, backward, optimizer.step()). The optimizer keeps its state between calls:
    DAgger calls train_bc again on a grown dataset with the same optimizer.

    dataset: a Dataset (observations (N, obs_dim), actions (N, act_dim), numpy float32); num_steps >= 1
    ->  the mean over the steps of the loss values (each taken before its step), a Python float
    """
    # BEGIN SOLUTION (README 3.3)
    observations, actions = to_torch(dataset.observations), to_torch(dataset.actions)
    losses = []
    for _ in range(num_steps):
        index = torch.as_tensor(rng.integers(len(dataset), size=batch_size))
        loss = bc_loss(policy, observations[index], actions[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))
    # END SOLUTION
