"""Policies for multimodal demonstrations: a Gaussian, a mixture of Gaussians and a flow-matching head (part 3).

All three map an observation s (N, obs_dim) to actions a (N, act_dim) and share two methods:

    loss(observations, actions)   torch (N, obs_dim), (N, act_dim) -> scalar tensor to minimize
    act(observations)             numpy (N, obs_dim) -> numpy (N, act_dim): the action the evaluation takes

The Gaussian and the mixture are trained by maximum likelihood (behavior cloning,
L = -(1/N) sum_i log pi(a_i | s_i)); the flow-matching head by regressing a velocity field.
Evaluation: the Gaussian takes its MEAN action (README 5.1); the mixture and the flow take a SAMPLE
(their mean would average the modes again, README 5.2-5.3).

Flow time is written tau (not t, which counts the steps of an episode): tau = 0 is pure noise,
tau = 1 is an action. See `flow_matching_loss` and `euler_sample`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from common.torch_utils import build_mlp, to_numpy, to_torch

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


def gaussian_log_prob(means: torch.Tensor, log_stds: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """log N(a; mu, diag(sigma^2)) of a diagonal Gaussian, summed over the LAST axis (the action dimensions).

        log N(a; mu, sigma) = sum_j [ -(a_j - mu_j)^2 / (2 sigma_j^2) - log sigma_j - (1/2) log(2 pi) ]

    means, log_stds (log sigma), actions: (..., act_dim), broadcastable against each other
    (e.g. means (N, K, d) against actions (N, 1, d))   ->   (...) one log-density per sample.
    Example: mu = 0, log sigma = 0, a = 0 in 2 dimensions gives -log(2 pi).
    """
    # BEGIN SOLUTION (README 5.1)
    squared = ((actions - means) * torch.exp(-log_stds)) ** 2
    return (-0.5 * squared - log_stds - 0.5 * math.log(2 * math.pi)).sum(dim=-1)
    # END SOLUTION


def behavior_cloning_loss(policy: nn.Module, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """The behavior cloning loss: the negative mean log-likelihood of the expert's actions.

        L(theta) = -(1/N) sum_i log pi_theta(a_i | s_i)

    Use `policy.log_prob(observations, actions)` ((N,) log pi(a_i | s_i)); it works for the Gaussian
    and the mixture alike. The expert's actions go into the log-likelihood: do not sample actions
    from the policy.

    observations: (N, obs_dim); actions: (N, act_dim)  ->  scalar tensor (0-dim), differentiable
    """
    # BEGIN SOLUTION (README 5.1)
    return -policy.log_prob(observations, actions).mean()
    # END SOLUTION


def mixture_log_prob(logits: torch.Tensor, means: torch.Tensor, log_stds: torch.Tensor,
                     actions: torch.Tensor) -> torch.Tensor:
    """log-likelihood of a mixture of K diagonal Gaussians:

        log pi(a | s) = log sum_k w_k N(a; mu_k, sigma_k),     w = softmax(logits)

    computed as a logsumexp over k of log w_k + log N(a; mu_k, sigma_k), never by exponentiating the
    log-densities: an action far from every component has log N of -1000, exp(-1000) = 0 in float32,
    and the log of 0 is -inf. The logits are unnormalized (any real numbers); the weights are their
    softmax. Use `gaussian_log_prob` for log N.

    logits: (N, K); means, log_stds: (N, K, act_dim); actions: (N, act_dim)  ->  (N,)
    Example: K = 2 identical components give the log-density of that one Gaussian, whatever the logits.
    """
    # BEGIN SOLUTION (README 5.2)
    log_weights = torch.log_softmax(logits, dim=-1)
    component_log_probs = gaussian_log_prob(means, log_stds, actions[:, None, :])   # (N, K)
    return torch.logsumexp(log_weights + component_log_probs, dim=-1)
    # END SOLUTION


def flow_matching_loss(policy: "FlowPolicy", observations: torch.Tensor, actions: torch.Tensor,
                       noise: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
    """The conditional flow-matching loss for a batch, with the given noise and flow times.

    Flow time tau runs from 0 (noise) to 1 (the expert's action). For each sample i, with
    x_0 = noise_i ~ N(0, I) and a_i the expert's action, the point at time tau_i on the straight
    line from the noise to the action is

        x_tau = (1 - tau) x_0 + tau a                  (x at tau = 0 is the noise, at tau = 1 the action)

    and its velocity, the regression target, is d x_tau / d tau = a - x_0 (it points from the noise
    towards the action). The loss is the squared error of the network's velocity
    v_theta(s, x_tau, tau) = `policy.velocity(observations, x_tau, taus)`, summed over the action
    dimensions and averaged over the batch:

        L(theta) = (1/N) sum_i || v_theta(s_i, x_tau_i, tau_i) - (a_i - x_0_i) ||^2

    observations: (N, obs_dim); actions, noise: (N, act_dim); taus: (N,) in [0, 1]
    ->  scalar tensor (0-dim), differentiable
    """
    # BEGIN SOLUTION (README 5.3)
    tau = taus[:, None]
    points = (1 - tau) * noise + tau * actions
    target_velocity = actions - noise
    velocity = policy.velocity(observations, points, taus)
    return ((velocity - target_velocity) ** 2).sum(dim=-1).mean()
    # END SOLUTION


def euler_sample(policy: "FlowPolicy", observations: torch.Tensor, noise: torch.Tensor, num_steps: int) -> torch.Tensor:
    """Actions from the flow: integrate dx/dtau = v_theta(s, x, tau) from tau = 0 (the noise) to tau = 1.

    Euler's method with K = num_steps equal steps of size 1/K:

        x = noise;   for k = 0, 1, ..., K - 1:   x <- x + (1/K) v_theta(s, x, k/K)

    so the first step evaluates the network at tau = 0 and the last at tau = (K - 1)/K; the result is
    x at tau = 1. Call `policy.velocity(observations, x, taus)` with taus (N,) all equal to k/K.

    observations: (N, obs_dim); noise: (N, act_dim) (x at tau = 0); num_steps: K >= 1  ->  actions (N, act_dim)
    Example: a velocity that is always c gives noise + c, for any K.
    """
    # BEGIN SOLUTION (README 5.3)
    x = noise
    for k in range(num_steps):
        taus = torch.full((noise.shape[0],), k / num_steps, dtype=noise.dtype, device=noise.device)
        x = x + policy.velocity(observations, x, taus) / num_steps
    return x
    # END SOLUTION


class GaussianPolicy(nn.Module):
    """pi_theta(a | s) = N(mu_theta(s), diag(sigma^2)): an MLP mean and a state-independent log-std.

    Unimodal: the maximum-likelihood fit to two modes puts the mean between them (README 5.1).
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int] = (128, 128),
                 activation: str = "relu", initial_log_std: float = 0.0):
        super().__init__()
        self.mean_net = build_mlp(obs_dim, act_dim, hidden_sizes, activation)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(initial_log_std)))

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """(N, obs_dim) -> means mu_theta(s) (N, act_dim)."""
        return self.mean_net(observations)

    def log_prob(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log pi_theta(a | s): (N, obs_dim), (N, act_dim) -> (N,)."""
        return gaussian_log_prob(self(observations), self.log_std, actions)

    def sample(self, observations: torch.Tensor) -> torch.Tensor:
        """a = mu_theta(s) + sigma * eps, eps ~ N(0, I) (differentiable in theta): (N, obs_dim) -> (N, act_dim)."""
        means = self(observations)
        return means + self.log_std.exp() * torch.randn_like(means)

    def loss(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return behavior_cloning_loss(self, observations, actions)

    @torch.no_grad()
    def act(self, observations: np.ndarray) -> np.ndarray:
        """The evaluation's action: the MEAN mu_theta(s), not a sample.

        observations: (N, obs_dim) numpy  ->  (N, act_dim) float32 numpy
        """
        # BEGIN SOLUTION (README 5.1)
        return to_numpy(self(to_torch(observations)))
        # END SOLUTION


class MixturePolicy(nn.Module):
    """pi_theta(a | s) = sum_k w_k(s) N(a; mu_k(s), diag(sigma_k(s)^2)), K components, all outputs state-dependent.

    One MLP trunk outputs, per observation, K logits, K means and K log-stds (clamped to
    [LOG_STD_MIN, LOG_STD_MAX] so that a component cannot collapse onto one data point).
    """

    def __init__(self, obs_dim: int, act_dim: int, num_components: int = 5, hidden_sizes: Sequence[int] = (128, 128),
                 activation: str = "relu"):
        super().__init__()
        self.num_components, self.act_dim = num_components, act_dim
        self.net = build_mlp(obs_dim, num_components * (1 + 2 * act_dim), hidden_sizes, activation)

    def forward(self, observations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(N, obs_dim) -> logits (N, K), means (N, K, act_dim), log_stds (N, K, act_dim)."""
        out = self.net(observations)
        k, d = self.num_components, self.act_dim
        logits = out[:, :k]
        means = out[:, k:k + k * d].reshape(-1, k, d)
        log_stds = out[:, k + k * d:].reshape(-1, k, d).clamp(LOG_STD_MIN, LOG_STD_MAX)
        return logits, means, log_stds

    def log_prob(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log pi_theta(a | s): (N, obs_dim), (N, act_dim) -> (N,)."""
        return mixture_log_prob(*self(observations), actions)

    def sample(self, observations: torch.Tensor) -> torch.Tensor:
        """Pick a component k ~ softmax(logits), then a ~ N(mu_k, sigma_k): (N, obs_dim) -> (N, act_dim)."""
        logits, means, log_stds = self(observations)
        k = torch.distributions.Categorical(logits=logits).sample()
        rows = torch.arange(len(k))
        return means[rows, k] + log_stds[rows, k].exp() * torch.randn_like(means[rows, k])

    def loss(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return behavior_cloning_loss(self, observations, actions)

    @torch.no_grad()
    def act(self, observations: np.ndarray) -> np.ndarray:
        """The evaluation's action: a sample (the mixture's mean would average the modes)."""
        return to_numpy(self.sample(to_torch(observations)))


class FlowPolicy(nn.Module):
    """A flow-matching action head: a velocity field v_theta(s, x, tau) that carries noise to actions.

    The MLP takes [s, x, tau] (obs_dim + act_dim + 1) and outputs a velocity (act_dim). Sampling
    integrates it from tau = 0 (x ~ N(0, I)) to tau = 1 with `num_steps` Euler steps.
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int] = (128, 128),
                 activation: str = "relu", num_steps: int = 10):
        super().__init__()
        self.act_dim, self.num_steps = act_dim, num_steps
        self.velocity_net = build_mlp(obs_dim + act_dim + 1, act_dim, hidden_sizes, activation)

    def velocity(self, observations: torch.Tensor, points: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        """v_theta(s, x, tau): (N, obs_dim), (N, act_dim), (N,) -> (N, act_dim)."""
        return self.velocity_net(torch.cat([observations, points, taus[:, None]], dim=-1))

    def sample(self, observations: torch.Tensor) -> torch.Tensor:
        noise = torch.randn(observations.shape[0], self.act_dim)
        return euler_sample(self, observations, noise, self.num_steps)

    def loss(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """flow_matching_loss with fresh noise x_0 ~ N(0, I) and flow times tau ~ U(0, 1)."""
        noise = torch.randn_like(actions)
        taus = torch.rand(actions.shape[0])
        return flow_matching_loss(self, observations, actions, noise, taus)

    @torch.no_grad()
    def act(self, observations: np.ndarray) -> np.ndarray:
        """The evaluation's action: a sample, Euler-integrated from fresh noise."""
        return to_numpy(self.sample(to_torch(observations)))


POLICIES = {"gaussian": GaussianPolicy, "mixture": MixturePolicy, "flow": FlowPolicy}
