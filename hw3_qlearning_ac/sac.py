"""Soft actor-critic (SAC): maximum-entropy actor-critic with twin critics (lectures 8 and 19).

SAC maximises the entropy-regularised return  sum_t E[ r(s_t, a_t) + alpha H(pi(.|s_t)) ]  with
three learned pieces, updated from replay-buffer batches (run.py / sac_training.py drive it):

    critics   Q_phi_1..Q_phi_E   regress onto the soft Bellman backup                  critic_backup
                 y = r + gamma (1 - terminated) [ Q_target(s', a') - alpha log pi(a'|s') ],  a' ~ pi(.|s')
    actor     pi_theta           minimises E_{a ~ pi}[ alpha log pi(a|s) - Q(s, a) ]    actor_loss_*
    temperature alpha            keeps the policy's entropy near a target entropy       temperature_loss

and target critics phi_targ <- (1 - tau) phi_targ + tau phi after every update       polyak_update.

Actions. The policy samples u ~ N(mu_theta(s), sigma_theta(s)^2) and squashes it, a = tanh(u), so
every action lies in (-1, 1)^d; squashed_gaussian_sample_and_log_prob computes log pi(a|s) with the
change-of-variables correction. SACAgent maps (-1, 1) affinely onto the env's action box at the
edge (get_action) and back (update), so the buffer and the caller always see env actions.

Shapes: B = batch size, d = action dimension, E = number of critics, N = action samples per state.

Reuse from other homeworks:  from hw3_qlearning_ac.sac import SACAgent, SACConfig
"""
from __future__ import annotations

import copy
import math
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from common.config import config_from_dict
from common.torch_utils import to_numpy, to_torch
from hw3_qlearning_ac.sac_networks import EnsembleCritic, SquashedGaussianActor

BackupStrategy = Literal["single", "mean", "min"]


# ---------------------------------------------------------------------------------------------
# The pieces of the algorithm (the TODOs)
# ---------------------------------------------------------------------------------------------


def squashed_gaussian_sample_and_log_prob(
    mean: torch.Tensor,
    log_std: torch.Tensor,
    noise: torch.Tensor,
    reparameterize: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample a = tanh(u), u = mu + sigma * noise, and return a with its exact log-density log pi(a|s).

    With u ~ N(mu, diag sigma^2) and a = tanh(u) (one-to-one, da_j/du_j = 1 - tanh(u_j)^2), the
    change of variables gives, summed over the d action dimensions:

        log pi(a|s) = sum_j [ log N(u_j; mu_j, sigma_j^2) - log(1 - tanh(u_j)^2) ]
        log N(u; mu, sigma^2) = -(u - mu)^2 / (2 sigma^2) - log sigma - log(2 pi) / 2

    Computing log(1 - tanh(u)^2) as written gives log(0) = -inf once |u| > ~9 in float32; use the
    exact, stable identity  log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2 u)). (No small constant
    inside the log and no atanh(a): both change the values where tanh saturates.)

    reparameterize=True: a is a differentiable function of (mu, sigma) (the reparameterization
        trick), so gradients flow through the sample itself.
    reparameterize=False: u is treated as a constant (detached) sample, so the actions carry no
        gradient; log pi(a|s) still depends on mu and sigma through log N(u; mu, sigma^2) (compute
        it from u, mu and sigma, not from the noise), which is what the score-function (REINFORCE)
        estimator needs.

    mean, log_std: (B, d); noise: (..., B, d) standard normal (e.g. (B, d), or (N, B, d) for N
    samples per state)  ->  actions (..., B, d) in (-1, 1), log_probs (..., B)
    """
    # BEGIN SOLUTION (README 3.1)
    std = log_std.exp()
    u = mean + std * noise
    if not reparameterize:
        u = u.detach()
    gaussian_log_prob = (-0.5 * ((u - mean) / std) ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)
    log_det_jacobian = (2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(dim=-1)
    return torch.tanh(u), gaussian_log_prob - log_det_jacobian
    # END SOLUTION


def reduce_over_critics(q_values: torch.Tensor, strategy: BackupStrategy) -> torch.Tensor:
    """Combine the E critics' estimates into one Q per sample.

        "single":  Q_1                       (the first critic only)
        "mean":    (1/E) sum_e Q_e
        "min":     min_e Q_e                 (clipped double-Q: counters overestimation)

    The reduction is over the FIRST axis (the critics); "single" takes index 0 whatever E is.
    Any other strategy raises ValueError.
    q_values: (E, ...)  ->  (...)
    """
    # BEGIN SOLUTION (README 3.2)
    if strategy == "single":
        return q_values[0]
    if strategy == "mean":
        return q_values.mean(dim=0)
    if strategy == "min":
        return q_values.min(dim=0).values
    raise ValueError(f"unknown backup strategy {strategy!r}: use 'single', 'mean' or 'min'")
    # END SOLUTION


def critic_backup(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_q_values: torch.Tensor,
    next_log_probs: torch.Tensor,
    gamma: float,
    alpha: float,
    strategy: BackupStrategy = "min",
    entropy_in_backup: bool = True,
) -> torch.Tensor:
    """The soft Bellman target y of every transition, a constant for the critics' regression.

        y = r + gamma * (1 - terminated) * ( Q_next - alpha * log pi(a'|s') )    (entropy_in_backup)
        y = r + gamma * (1 - terminated) *   Q_next                             (otherwise)

    where Q_next = reduce_over_critics(next_q_values, strategy) combines the TARGET critics'
    values Q_phi_targ_e(s', a') at a fresh action a' ~ pi(.|s'), and log pi(a'|s') is that
    action's log-probability. Only `terminated` stops the bootstrap: a transition cut by a time
    limit (truncated) still bootstraps from s', so `truncated` is not an argument. The result
    carries no gradient (it is detached), whatever its inputs carry.

    rewards: (B,); terminated: (B,) bool or 0/1 float; next_q_values: (E, B);
    next_log_probs: (B,)  ->  targets (B,)
    """
    # BEGIN SOLUTION (README 3.2)
    next_values = reduce_over_critics(next_q_values, strategy)
    if entropy_in_backup:
        next_values = next_values - alpha * next_log_probs
    not_done = 1.0 - terminated.to(rewards.dtype)
    return (rewards + gamma * not_done * next_values).detach()
    # END SOLUTION


def actor_loss_reparameterized(log_probs: torch.Tensor, q_values: torch.Tensor, alpha: float) -> torch.Tensor:
    """The actor's loss with the reparameterization trick (a differentiable in theta).

        L(theta) = (1/B) sum_i [ alpha * log pi_theta(a_i|s_i) - Q(s_i, a_i) ],   a_i = tanh(mu + sigma eps_i)

    Q(s_i, a_i) is the online critics at the fresh action a_i, combined with the config's backup
    strategy (reduce_over_critics; the agent does this). Its gradient flows through a_i into Q (whose
    own weights are not trained here) and through log pi: detach nothing. alpha is a constant here
    (the temperature has its own loss).

    log_probs: (B,); q_values: (B,), both differentiable w.r.t. theta  ->  scalar
    """
    # BEGIN SOLUTION (README 3.3)
    return (alpha * log_probs - q_values).mean()
    # END SOLUTION


def actor_loss_reinforce(log_probs: torch.Tensor, q_values: torch.Tensor, alpha: float) -> torch.Tensor:
    """The actor's loss whose gradient is the score-function (REINFORCE) estimate, N samples per state.

    For the objective J(theta) = E_{a ~ pi_theta}[ Q(s, a) - alpha log pi_theta(a|s) ]:

        grad J ~ (1/(N B)) sum_{n,i} grad log pi_theta(a_ni|s_i) * (v_ni - b_ni),
        v_ni = Q(s_i, a_ni) - alpha log pi_theta(a_ni|s_i)          (treated as constants)

    (the term E[alpha grad log pi] that differentiating log pi inside J adds is zero in expectation).
    Baseline b: with N = 1 none (b = 0); with N > 1 the mean of the OTHER N - 1 samples of the same
    state, b_ni = (sum_m v_mi - v_ni) / (N - 1), which keeps the estimate unbiased and reduces its
    variance. Return the loss L = -(1/(N B)) sum_{n,i} log pi_theta(a_ni|s_i) * (v_ni - b_ni).

    log_probs: (N, B) differentiable w.r.t. theta (the samples themselves are constants);
    q_values: (N, B) (constants)  ->  scalar
    """
    # BEGIN SOLUTION (README 3.3)
    values = (q_values - alpha * log_probs).detach()
    num_samples = values.shape[0]
    if num_samples > 1:
        baseline = (values.sum(dim=0, keepdim=True) - values) / (num_samples - 1)
        values = values - baseline
    return -(log_probs * values).mean()
    # END SOLUTION


def temperature_loss(log_alpha: torch.Tensor, log_probs: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """The loss whose minimisation tunes alpha so that the policy's entropy approaches H_target.

        L(log alpha) = -(1/B) sum_i log_alpha * ( log pi(a_i|s_i) + H_target ),   a_i ~ pi(.|s_i)

    The log-probabilities are constants here. Gradient: dL/dlog_alpha = -(mean log pi + H_target)
    = (entropy estimate - H_target): when the entropy -mean(log pi) is BELOW the target the
    gradient is negative, so gradient descent raises alpha (more reward for entropy), and the other
    way round. Optimising log alpha keeps alpha = exp(log alpha) positive. The loss multiplies
    log_alpha itself, not alpha = exp(log_alpha). H_target is usually -d.

    log_alpha: scalar tensor (requires grad); log_probs: (B,)  ->  scalar
    """
    # BEGIN SOLUTION (README 3.4)
    return -(log_alpha * (log_probs + target_entropy).detach()).mean()
    # END SOLUTION


@torch.no_grad()
def polyak_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Move every target parameter a fraction tau towards the source's, in place:

        phi_targ <- (1 - tau) * phi_targ + tau * phi

    tau = 1 copies the source; a small tau (0.005) makes the target a slow moving average.
    target and source have the same architecture (parameters in the same order).
    """
    # BEGIN SOLUTION (README 3.5)
    for target_param, param in zip(target.parameters(), source.parameters()):
        target_param.lerp_(param, tau)
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# The agent
# ---------------------------------------------------------------------------------------------


@dataclass
class SACConfig:
    """Hyperparameters of SAC (the `agent:` section of a config file)."""

    gamma: float = 0.99
    tau: float = 0.005                       # Polyak step of the target critics
    batch_size: int = 256
    hidden_sizes: tuple[int, ...] = (256, 256)   # actor and every critic
    activation: str = "relu"
    actor_learning_rate: float = 3e-4
    critic_learning_rate: float = 3e-4
    alpha_learning_rate: float = 3e-4
    num_critics: int = 2
    backup: BackupStrategy = "min"           # how the critics' targets combine the E target critics
    entropy_in_backup: bool = True           # the -alpha log pi(a'|s') term of the soft backup
    actor_gradient: Literal["reparameterize", "reinforce"] = "reparameterize"
    reinforce_samples: int = 1               # N actions per state for actor_gradient: reinforce
    initial_alpha: float = 1.0
    auto_alpha: bool = True                  # tune alpha with temperature_loss; False: alpha stays fixed
    target_entropy: float | None = None      # None: -d (minus the action dimension)
    overlap_actor_critic: bool = False       # compute the actor's and critics' gradients on two threads at once

    def __post_init__(self):
        self.hidden_sizes = tuple(self.hidden_sizes)
        if self.backup == "single" and self.num_critics != 1:
            raise ValueError("backup 'single' uses one critic: set num_critics: 1 (or backup: min / mean)")
        if self.reinforce_samples < 1:
            raise ValueError(f"reinforce_samples must be at least 1, got {self.reinforce_samples}")
        if self.initial_alpha <= 0:
            raise ValueError(f"initial_alpha must be positive, got {self.initial_alpha}")

    @classmethod
    def from_mapping(cls, values: Mapping) -> SACConfig:
        """Build from a plain dict (what the grader sends); unknown keys raise, naming the valid ones."""
        return config_from_dict(cls, values, source="the SAC agent settings")


class SACAgent(nn.Module):
    """Actor, E critics, their targets and the temperature, with one Adam optimizer each.

    obs_dim, act_dim: sizes of a (flat) observation and action.
    action_low, action_high: the env's action box, (act_dim,) each; None means [-1, 1]. Actions
        given to and returned by the agent are in these env units.

    get_action(obs (N, obs_dim) numpy) -> actions (N, act_dim) numpy, sampled (or tanh(mu)).
    update(observations, actions, rewards, next_observations, terminated) -> dict of metrics.
    """

    def __init__(self, obs_dim: int, act_dim: int, config: SACConfig | Mapping | None = None,
                 action_low=None, action_high=None):
        super().__init__()
        config = SACConfig() if config is None else config
        self.config = config if isinstance(config, SACConfig) else SACConfig.from_mapping(config)
        cfg = self.config
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.target_entropy = float(-act_dim if cfg.target_entropy is None else cfg.target_entropy)
        low = -np.ones(act_dim) if action_low is None else np.asarray(action_low, dtype=np.float64)
        high = np.ones(act_dim) if action_high is None else np.asarray(action_high, dtype=np.float64)
        self.register_buffer("action_scale", torch.as_tensor((high - low) / 2.0, dtype=torch.float32))
        self.register_buffer("action_bias", torch.as_tensor((high + low) / 2.0, dtype=torch.float32))

        self.actor = SquashedGaussianActor(obs_dim, act_dim, cfg.hidden_sizes, cfg.activation)
        self.critic = EnsembleCritic(obs_dim, act_dim, cfg.num_critics, cfg.hidden_sizes, cfg.activation)
        self.target_critic = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = nn.Parameter(torch.tensor(math.log(cfg.initial_alpha)))
        # fused: one kernel per step for all of a network's tensors (about 3x faster than the default on a CPU)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=cfg.actor_learning_rate, fused=True)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_learning_rate, fused=True)
        self.alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=cfg.alpha_learning_rate)

    @property
    def alpha(self) -> float:
        return self.log_alpha.detach().exp().item()

    @property
    def device(self) -> torch.device:
        return self.log_alpha.device

    # --- acting ------------------------------------------------------------------------------

    @torch.no_grad()
    def get_action(self, observations: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """observations (N, obs_dim) -> env actions (N, act_dim) float32: a sample, or tanh(mu) when deterministic."""
        mean, log_std = self.actor(to_torch(observations, device=self.device))
        if deterministic:
            squashed = torch.tanh(mean)
        else:
            squashed, _ = squashed_gaussian_sample_and_log_prob(mean, log_std, torch.randn_like(mean))
        return to_numpy(squashed * self.action_scale + self.action_bias)

    # --- learning ----------------------------------------------------------------------------

    def update(self, observations, actions, rewards, next_observations, terminated) -> dict[str, float]:
        """One gradient step of the critics, the actor and the temperature, then the targets.

        observations, next_observations: (B, obs_dim); actions: (B, act_dim) in env units;
        rewards: (B,); terminated: (B,) bool (truncated transitions bootstrap: pass terminated only).
        numpy arrays or tensors. Returns critic_loss, actor_loss, q_mean (mean over critics and batch
        of Q(s, a) at the buffer's actions, before the critic step), entropy (-mean log pi of the
        actor step's actions), alpha (after the temperature step) and, with auto_alpha, temperature_loss.

        Order: critic step, then the actor step against the UPDATED critics, then the temperature
        and the targets. With config.overlap_actor_critic the actor's gradient is computed on a
        second thread at the same time as the critics' (against the critics before their step, as
        in the SAC paper's simultaneous updates); both optimizers step afterwards.
        """
        obs = to_torch(observations, device=self.device)
        next_obs = to_torch(next_observations, device=self.device)
        act = (to_torch(actions, device=self.device) - self.action_bias) / self.action_scale
        rew = to_torch(rewards, device=self.device)
        term = to_torch(terminated, device=self.device)
        alpha = self.alpha  # one value for this whole update; the temperature step comes last
        # All random numbers are drawn here, in a fixed order, whichever thread uses them.
        b, d = act.shape
        next_noise = torch.randn(b, d, device=self.device)
        actor_noise = torch.randn(self.config.reinforce_samples if self.config.actor_gradient == "reinforce" else 1,
                                  b, d, device=self.device)

        if self.config.overlap_actor_critic:
            with ThreadPoolExecutor(max_workers=1) as pool:
                actor_future = pool.submit(self.actor_backward, obs, alpha, actor_noise)
                critic_loss, q_values = self.critic_backward(obs, act, rew, next_obs, term, alpha, next_noise)
                actor_loss, log_probs = actor_future.result()
            self.critic_optimizer.step()
            self.actor_optimizer.step()
        else:
            critic_loss, q_values = self.critic_backward(obs, act, rew, next_obs, term, alpha, next_noise)
            self.critic_optimizer.step()
            actor_loss, log_probs = self.actor_backward(obs, alpha, actor_noise)
            self.actor_optimizer.step()
        metrics = {"critic_loss": critic_loss.item(), "q_mean": q_values.mean().item(),
                   "actor_loss": actor_loss.item(), "entropy": -log_probs.mean().item()}
        if self.config.auto_alpha:
            loss = temperature_loss(self.log_alpha, log_probs.detach(), self.target_entropy)
            self.alpha_optimizer.zero_grad()
            loss.backward()
            self.alpha_optimizer.step()
            metrics["temperature_loss"] = loss.item()
        polyak_update(self.target_critic, self.critic, self.config.tau)
        metrics["alpha"] = self.alpha
        return metrics

    def critic_backward(self, obs, act, rew, next_obs, term, alpha: float, next_noise) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradients of L = sum_e (1/B) sum_i (Q_e(s_i, a_i) - y_i)^2 in the critics' .grad.

        next_noise: (B, d), the noise of a' ~ pi(.|s'). Returns the loss and q_values (E, B).
        """
        cfg = self.config
        with torch.no_grad():
            next_mean, next_log_std = self.actor(next_obs)
            next_actions, next_log_probs = squashed_gaussian_sample_and_log_prob(next_mean, next_log_std, next_noise)
            next_q = self.target_critic(next_obs, next_actions)
            targets = critic_backup(rew, term, next_q, next_log_probs, cfg.gamma, alpha,
                                    cfg.backup, cfg.entropy_in_backup)
        q_values = self.critic(obs, act)  # (E, B)
        loss = ((q_values - targets) ** 2).mean(dim=1).sum()
        self.critic_optimizer.zero_grad()
        loss.backward()
        return loss, q_values.detach()

    def actor_backward(self, obs, alpha: float, noise) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradients of the actor's loss in the actor's .grad; the critics' weights get none.

        noise: (N, B, d) (N = 1 for the reparameterized loss). Returns the loss and the
        log-probabilities (B,) of the first sample of every state (for the temperature).
        """
        cfg = self.config
        mean, log_std = self.actor(obs)
        # detach_weights: the critics' weights enter as constants, so backpropagation reaches the
        # actions (and so the actor) but computes no critic weight gradients (they would be thrown away).
        if cfg.actor_gradient == "reparameterize":
            actions, log_probs = squashed_gaussian_sample_and_log_prob(mean, log_std, noise[0])
            q_values = reduce_over_critics(self.critic(obs, actions, detach_weights=True), cfg.backup)
            loss = actor_loss_reparameterized(log_probs, q_values, alpha)
            first_log_probs = log_probs
        else:
            n, (b, d) = noise.shape[0], mean.shape
            actions, log_probs = squashed_gaussian_sample_and_log_prob(mean, log_std, noise, reparameterize=False)
            with torch.no_grad():
                q_all = self.critic(obs.repeat(n, 1), actions.reshape(n * b, d))
                q_values = reduce_over_critics(q_all, cfg.backup).reshape(n, b)
            loss = actor_loss_reinforce(log_probs, q_values, alpha)
            first_log_probs = log_probs[0]
        self.actor_optimizer.zero_grad()
        loss.backward()
        return loss, first_log_probs

    # --- saving ------------------------------------------------------------------------------

    def training_state(self) -> dict:
        """Everything needed to resume training: networks, temperature and the optimizers' moments."""
        return {
            "agent": self.state_dict(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "alpha_optimizer": self.alpha_optimizer.state_dict(),
        }

    def load_training_state(self, state: Mapping) -> None:
        self.load_state_dict(state["agent"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.alpha_optimizer.load_state_dict(state["alpha_optimizer"])
