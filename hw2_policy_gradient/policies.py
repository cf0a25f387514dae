"""Stochastic policies pi_theta(a|s) for discrete and continuous actions (lecture 5).

Both policies are torch modules with the same three methods the agent needs:

    get_action(obs)          numpy (N, obs_dim) -> numpy actions, sampled from pi_theta(.|s)
    log_prob(obs, actions)   torch (N, obs_dim), (N, ...) -> (N,)  log pi_theta(a|s)
    entropy(obs)             torch (N, obs_dim) -> (N,)  H(pi_theta(.|s))

For a continuous action a in R^d the policy is a product of d independent Gaussians, so
log pi(a|s) is the SUM of the d per-dimension log-densities (one number per sample), and so is
the entropy.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import distributions, nn

from common.torch_utils import build_mlp, to_numpy, to_torch


class Policy(nn.Module):
    """What both policies share: numpy in/out for acting, torch in/out for learning."""

    def distribution(self, observations: torch.Tensor) -> distributions.Distribution:
        raise NotImplementedError

    def log_prob(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def entropy(self, observations: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def mode(self, observations: torch.Tensor) -> torch.Tensor:
        """The most likely action, used for deterministic evaluation."""
        raise NotImplementedError

    @torch.no_grad()
    def get_action(self, observations: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """Sample a ~ pi_theta(.|s) for a batch of observations (or take the mode).

        observations: (N, obs_dim) numpy  ->  actions: (N,) int64 (discrete) or (N, act_dim) float32
        """
        obs = to_torch(observations, device=self.device)
        if deterministic:
            return to_numpy(self.mode(obs))
        return to_numpy(self.distribution(obs).sample())

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


class CategoricalPolicy(Policy):
    """pi_theta(a|s) = softmax(f_theta(s))_a over `num_actions` discrete actions.

    The network f_theta maps an observation (obs_dim,) to unnormalized log-probabilities (logits)
    (num_actions,).
    """

    def __init__(self, obs_dim: int, num_actions: int, hidden_sizes: Sequence[int] = (64, 64), activation: str = "tanh"):
        super().__init__()
        self.logits_net = build_mlp(obs_dim, num_actions, hidden_sizes, activation)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """(N, obs_dim) -> logits (N, num_actions)."""
        return self.logits_net(observations)

    def distribution(self, observations: torch.Tensor) -> distributions.Categorical:
        return distributions.Categorical(logits=self(observations))

    def mode(self, observations: torch.Tensor) -> torch.Tensor:
        return self(observations).argmax(dim=-1)

    def log_prob(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log pi_theta(a_t|s_t) = log softmax(f_theta(s_t))[a_t].

        observations: (N, obs_dim) float, actions: (N,) integer indices  ->  (N,)
        """
        # BEGIN SOLUTION (README 3.1)
        return self.distribution(observations).log_prob(actions.long())
        # END SOLUTION

    def entropy(self, observations: torch.Tensor) -> torch.Tensor:
        """H(pi_theta(.|s)) = -sum_a pi(a|s) log pi(a|s).   (N, obs_dim) -> (N,)"""
        # BEGIN SOLUTION (README 3.1)
        return self.distribution(observations).entropy()
        # END SOLUTION


class GaussianPolicy(Policy):
    """pi_theta(a|s) = N(mu_theta(s), diag(sigma^2)) with a state-independent log-std.

    mu_theta is an MLP (obs_dim,) -> (act_dim,); log sigma is a free parameter vector (act_dim,),
    shared by all states, initialised to `initial_log_std`.
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: str = "tanh",
        initial_log_std: float = 0.0,
    ):
        super().__init__()
        self.mean_net = build_mlp(obs_dim, act_dim, hidden_sizes, activation)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(initial_log_std)))

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """(N, obs_dim) -> means mu_theta(s) (N, act_dim)."""
        return self.mean_net(observations)

    def distribution(self, observations: torch.Tensor) -> distributions.Normal:
        """The d independent Gaussians, one per action dimension (batch shape (N, act_dim))."""
        return distributions.Normal(self(observations), self.log_std.exp())

    def mode(self, observations: torch.Tensor) -> torch.Tensor:
        return self(observations)

    def log_prob(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log pi_theta(a|s) = sum_{j=1}^{d} log N(a_j; mu_theta(s)_j, sigma_j^2).

        observations: (N, obs_dim), actions: (N, act_dim)  ->  (N,): one number per sample,
        summed over the action dimensions.
        """
        # BEGIN SOLUTION (README 3.1)
        return self.distribution(observations).log_prob(actions).sum(dim=-1)
        # END SOLUTION

    def entropy(self, observations: torch.Tensor) -> torch.Tensor:
        """H(pi_theta(.|s)) = sum_j (1/2) log(2 pi e sigma_j^2), the same for every state.

        observations: (N, obs_dim)  ->  (N,)
        """
        # BEGIN SOLUTION (README 3.1)
        return self.distribution(observations).entropy().sum(dim=-1)
        # END SOLUTION

