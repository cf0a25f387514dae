"""The value-function baseline V_phi(s) (lecture 6: "Value function fitting").

A state-dependent baseline b(s_t) = V_phi(s_t) lowers the variance of the policy gradient without
biasing it. We fit V_phi by regression on the return estimates of the current batch:

    L(phi) = (1/N) sum_i ( V_phi(s_i) - y_i )^2

with y_i the value targets of PGAgent.estimate_advantages (Q_hat: the reward-to-go, or the full
discounted return when use_reward_to_go is false; with GAE the lambda-return), taking several
gradient steps per batch.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from common.torch_utils import build_mlp, to_numpy, to_torch


class ValueCritic(nn.Module):
    """V_phi: an MLP from an observation (obs_dim,) to one number, with its own Adam optimizer."""

    def __init__(self, obs_dim: int, hidden_sizes: Sequence[int] = (64, 64), activation: str = "tanh",
                 learning_rate: float = 5e-3):
        super().__init__()
        self.value_net = build_mlp(obs_dim, 1, hidden_sizes, activation)
        self.optimizer = torch.optim.Adam(self.value_net.parameters(), lr=learning_rate)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """(N, obs_dim) -> V_phi(s) (N,)."""
        return self.value_net(observations).squeeze(-1)

    @torch.no_grad()
    def predict(self, observations: np.ndarray) -> np.ndarray:
        """numpy (N, obs_dim) -> numpy (N,) float32, without building a graph (for advantages)."""
        device = next(self.parameters()).device
        return to_numpy(self(to_torch(observations, device=device)))

    def update(self, observations: np.ndarray, targets: np.ndarray, num_steps: int) -> float:
        """Regress V_phi(s_i) onto the targets y_i with `num_steps` full-batch Adam steps.

            L(phi) = (1/N) sum_i (V_phi(s_i) - y_i)^2

        observations: (N, obs_dim), targets: (N,) numpy.
        Returns the loss of the LAST step, measured before that step (a float), or 0.0 when
        num_steps is 0. Only phi changes: the targets are constants.
        """
        device = next(self.parameters()).device
        obs = to_torch(observations, device=device)
        targets = to_torch(targets, device=device)
        # BEGIN SOLUTION (README 4.1)
        loss_value = 0.0
        for _ in range(num_steps):
            loss = nn.functional.mse_loss(self(obs), targets)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            loss_value = loss.item()
        return loss_value
        # END SOLUTION
