"""Deep Q-learning: DQN, double DQN and soft Q-learning (lectures 7-8, control as inference).

Q-learning with a replay buffer and a target network (the lecture's "DQN" loop):

    1. act in the env with an exploring policy, store (s, a, r, s', terminated) in the buffer
    2. sample a mini-batch {(s_j, a_j, r_j, s'_j, d_j)} from the buffer
    3. y_j = r_j + gamma * (1 - d_j) * max_a' Q_phi'(s'_j, a')     (phi': the target network)  dqn_target
    4. phi <- phi - lr * grad_phi  mean_j  huber(Q_phi(s_j, a_j) - y_j)                         huber_td_loss
    5. every K gradient steps: phi' <- phi                                                      DQNAgent.update

d_j is `terminated`, never `truncated`: a time limit does not make s' worth 0, so the target still
bootstraps from s' there (common.replay_buffer keeps both flags and the true s').

Double DQN picks the next action with the online network and values it with the target network,
which removes most of the upward bias of max over noisy estimates:
    y_j = r_j + gamma * (1 - d_j) * Q_phi'(s'_j, argmax_a' Q_phi(s'_j, a'))

Soft Q-learning (control as inference) replaces the hard max by a soft one with temperature alpha,
and acts with the Boltzmann policy pi(a|s) = exp((Q(s,a) - V(s)) / alpha):
    y_j = r_j + gamma * (1 - d_j) * alpha * log sum_a' exp(Q_phi'(s'_j, a') / alpha)
As alpha -> 0 the soft max becomes the max and the Boltzmann policy the greedy one: DQN again.

Other homeworks use this agent as it is:

    from hw3_qlearning_ac.dqn import DQNAgent, DQNConfig
    agent = DQNAgent(obs_shape=(4,), num_actions=2, config=DQNConfig(double_q=True))
    actions = agent.get_action(observations, deterministic=True)      # numpy in, numpy out
    metrics = agent.update(buffer.sample(agent.config.batch_size, rng))
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from common.config import config_from_dict
from common.rollouts import Transitions
from common.torch_utils import to_torch
from hw3_qlearning_ac.q_networks import make_q_network


@dataclass
class DQNConfig:
    """Hyperparameters of the Q-learning agent (the `agent:` section of a config file)."""

    gamma: float = 0.99
    learning_rate: float = 1e-3             # Adam step size
    hidden_sizes: tuple[int, ...] = (256, 256)  # MLP Q-network (vector observations only)
    activation: str = "relu"
    batch_size: int = 128                   # transitions per gradient step
    double_q: bool = False                  # double DQN targets (hard max only)
    alpha: float | None = None              # soft Q-learning temperature; None: DQN's hard max
    target_update_period: int = 500         # gradient steps between hard updates phi' <- phi
    huber_delta: float = 1.0                # where the Huber loss turns from quadratic to linear
    max_grad_norm: float | None = 10.0      # clip the gradient's global norm; None: no clipping

    def __post_init__(self):
        self.hidden_sizes = tuple(self.hidden_sizes)
        if self.alpha is not None and self.alpha <= 0:
            raise ValueError(f"alpha must be > 0 for soft Q-learning (or null for DQN), got {self.alpha}")
        if self.alpha is not None and self.double_q:
            raise ValueError("double_q applies to DQN's hard max: set double_q: false for soft Q-learning")
        if self.target_update_period < 1:
            raise ValueError(f"target_update_period must be >= 1 gradient step, got {self.target_update_period}")

    @classmethod
    def from_mapping(cls, values: Mapping) -> "DQNConfig":
        """Build from a plain dict (what the grader sends); unknown keys raise, naming the valid ones."""
        return config_from_dict(cls, values, source="the agent settings")


# ---------------------------------------------------------------------------------------------
# Acting
# ---------------------------------------------------------------------------------------------


def epsilon_greedy(q_values: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """With probability epsilon a uniformly random action, else the greedy one, for each row.

        a_i = argmax_a Q(s_i, a)            with probability 1 - epsilon
        a_i ~ Uniform{0, ..., A - 1}        with probability epsilon

    (The random draw can hit the greedy action too, so it is chosen with probability
    1 - epsilon + epsilon / A.) Each row decides on its own. On a tie the greedy action is the
    first maximal index (as np.argmax). Any order of draws is fine, as long as every one comes from rng.

    q_values: (N, A) numpy; epsilon in [0, 1]; rng: numpy Generator for every random draw.
    Returns actions (N,) int64.
    """
    # BEGIN SOLUTION (README 2.2)
    num_rows, num_actions = q_values.shape
    greedy = np.argmax(q_values, axis=1)
    random_actions = rng.integers(0, num_actions, size=num_rows)
    explore = rng.random(num_rows) < epsilon
    return np.where(explore, random_actions, greedy).astype(np.int64)
    # END SOLUTION


def boltzmann_policy(q_values: torch.Tensor, alpha: float) -> torch.Tensor:
    """The soft-optimal policy of a soft Q-function: pi(a|s) = exp(Q(s,a) / alpha) / sum_a' exp(Q(s,a') / alpha).

    Equivalently pi(a|s) = exp((Q(s,a) - V(s)) / alpha) with V(s) = alpha log sum_a' exp(Q(s,a') / alpha).
    Compute it stably (subtract the row's max, or use torch.softmax): Q-values of 1000 with
    alpha = 0.01 must not overflow. Small alpha -> the greedy policy; large alpha -> uniform.

    q_values: (N, A); alpha > 0.  Returns probabilities (N, A), each row summing to 1.
    """
    # BEGIN SOLUTION (README 2.11)
    return torch.softmax(q_values / alpha, dim=-1)
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# Targets and loss
# ---------------------------------------------------------------------------------------------


def q_values_of_actions(q_values: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Q(s_j, a_j): from each row of Q-values, the entry of the action taken.

    q_values: (B, A); actions: (B,) int64 in [0, A).  Returns (B,), with gradient flowing into
    q_values. (torch.gather along the ACTION axis, dim 1, or indexing q_values[arange(B), actions].)
    """
    # BEGIN SOLUTION (README 2.3)
    return q_values.gather(1, actions.long().unsqueeze(1)).squeeze(1)
    # END SOLUTION


def dqn_target(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_q_target: torch.Tensor,
    gamma: float,
    next_q_online: torch.Tensor | None = None,
) -> torch.Tensor:
    """The Q-learning target, with the hard max (DQN) or double DQN's decoupled max.

    DQN (next_q_online is None):
        y_j = r_j + gamma * (1 - d_j) * max_a' Q_phi'(s'_j, a')
    double DQN (next_q_online given):
        y_j = r_j + gamma * (1 - d_j) * Q_phi'(s'_j, a*_j),   a*_j = argmax_a' Q_phi(s'_j, a')
    i.e. the ONLINE network picks the action and the TARGET network says what it is worth.

    d_j = terminated[j]: nothing follows a terminal state, so y_j = r_j there. Truncation is not
    passed in on purpose: a time limit still bootstraps from s'_j.

    rewards: (B,) float; terminated: (B,) bool or 0/1 float; next_q_target = Q_phi'(s', .): (B, A);
    next_q_online = Q_phi(s', .): (B, A) or None.  Returns y: (B,), without gradient (detached).
    """
    # BEGIN SOLUTION (README 2.4)
    with torch.no_grad():
        if next_q_online is None:
            next_values = next_q_target.max(dim=1).values
        else:
            next_actions = next_q_online.argmax(dim=1)
            next_values = next_q_target.gather(1, next_actions.unsqueeze(1)).squeeze(1)
        not_terminal = 1.0 - terminated.float()
        return rewards.float() + gamma * not_terminal * next_values
    # END SOLUTION


def soft_q_target(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    next_q_target: torch.Tensor,
    gamma: float,
    alpha: float,
) -> torch.Tensor:
    """The soft Q-learning target: the max over next actions becomes a soft max at temperature alpha.

        V_phi'(s') = alpha * log sum_a' exp(Q_phi'(s', a') / alpha)
        y_j = r_j + gamma * (1 - d_j) * V_phi'(s'_j)

    Divide by alpha INSIDE the log-sum-exp and multiply by alpha outside; use torch.logsumexp
    (stable for large Q / alpha). As alpha -> 0, V(s') -> max_a' Q(s', a'): the DQN target.
    d_j = terminated[j] as in dqn_target (truncation still bootstraps).

    rewards: (B,); terminated: (B,) bool or 0/1 float; next_q_target: (B, A); alpha > 0.
    Returns y: (B,), without gradient (detached).
    """
    # BEGIN SOLUTION (README 2.10)
    with torch.no_grad():
        next_values = alpha * torch.logsumexp(next_q_target / alpha, dim=1)
        return rewards.float() + gamma * (1.0 - terminated.float()) * next_values
    # END SOLUTION


def huber_td_loss(q_taken: torch.Tensor, targets: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """Mean Huber loss of the TD errors delta_j = Q(s_j, a_j) - y_j.

        huber(x) = x^2 / 2                    if |x| <= delta
                   delta * (|x| - delta / 2)   otherwise
        L = (1/B) sum_j huber(Q(s_j, a_j) - y_j)

    Quadratic near zero like the squared error, linear for large errors, so one huge TD error
    cannot blow up the gradient (its gradient is at most delta in size). The targets are constants:
    no gradient flows into them.

    q_taken: (B,) with grad; targets: (B,).  Returns a scalar tensor.
    """
    # BEGIN SOLUTION (README 2.5)
    return F.huber_loss(q_taken, targets.detach(), reduction="mean", delta=delta)
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# The agent
# ---------------------------------------------------------------------------------------------


class DQNAgent(nn.Module):
    """An online Q-network Q_phi, its target copy Q_phi', and one Adam optimizer for phi.

    obs_shape: shape of one observation, (obs_dim,) or stacked frames (C, 84, 84) (uint8 pixels);
    num_actions: size of the discrete action space. The config decides the target: DQN,
    double DQN (config.double_q) or soft Q-learning (config.alpha set).

    Attributes: q_network, target_network (never trained by the optimizer, only copied into),
    optimizer, num_updates (gradient steps taken so far).
    """

    def __init__(self, obs_shape: Sequence[int], num_actions: int, config: DQNConfig | Mapping | None = None):
        super().__init__()
        if config is None:
            config = DQNConfig()
        elif isinstance(config, Mapping):
            config = DQNConfig.from_mapping(config)
        self.config = config
        self.obs_shape = tuple(obs_shape)
        self.num_actions = int(num_actions)
        self.q_network = make_q_network(self.obs_shape, self.num_actions, config.hidden_sizes, config.activation)
        self.target_network = copy.deepcopy(self.q_network)
        self.target_network.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.q_network.parameters(), lr=config.learning_rate)
        self.num_updates = 0

    @property
    def device(self) -> torch.device:
        return next(self.q_network.parameters()).device

    @property
    def is_soft(self) -> bool:
        return self.config.alpha is not None

    def q_values(self, observations: np.ndarray) -> np.ndarray:
        """Q_phi(s, .) for a batch of observations: numpy (N, *obs_shape) -> numpy (N, A), no gradient."""
        with torch.no_grad():
            obs = to_torch(observations, self.device, dtype=None)
            return self.q_network(obs).cpu().numpy()

    def get_action(self, observations: np.ndarray, deterministic: bool = False, epsilon: float = 0.0,
                   rng: np.random.Generator | None = None) -> np.ndarray:
        """Actions (N,) int64 for observations (N, *obs_shape).

        deterministic: the greedy action argmax_a Q(s, a) (evaluation, experts).
        Otherwise DQN acts epsilon-greedily, and soft Q-learning samples its Boltzmann policy
        (epsilon is then ignored: the temperature alpha does the exploring).
        rng: numpy Generator for the random draws (a fresh unseeded one when None).
        """
        q_values = self.q_values(observations)
        if deterministic:
            return np.argmax(q_values, axis=1).astype(np.int64)
        rng = rng if rng is not None else np.random.default_rng()
        if self.is_soft:
            probs = boltzmann_policy(torch.as_tensor(q_values, dtype=torch.float64), self.config.alpha).numpy()
            # inverse-CDF sampling, one uniform number per row
            cumulative = np.cumsum(probs, axis=1)
            draws = rng.random((len(probs), 1)) * cumulative[:, -1:]
            return np.minimum((cumulative < draws).sum(axis=1), self.num_actions - 1).astype(np.int64)
        return epsilon_greedy(q_values, epsilon, rng)

    def compute_targets(self, rewards: torch.Tensor, next_observations: torch.Tensor,
                        terminated: torch.Tensor) -> torch.Tensor:
        """The regression targets y (B,) for a batch, as the config asks, without gradient.

        soft Q-learning (config.alpha set): soft_q_target with the target network's Q(s', .);
        double DQN (config.double_q): dqn_target with the target network's AND the online
        network's Q(s', .); DQN: dqn_target with the target network's Q(s', .) only.
        rewards: (B,), next_observations: (B, *obs_shape), terminated: (B,) bool or 0/1 float
        (update passes float32).
        """
        config = self.config
        # BEGIN SOLUTION (README 2.6)
        with torch.no_grad():
            next_q_target = self.target_network(next_observations)
            if config.alpha is not None:
                return soft_q_target(rewards, terminated, next_q_target, config.gamma, config.alpha)
            next_q_online = self.q_network(next_observations) if config.double_q else None
            return dqn_target(rewards, terminated, next_q_target, config.gamma, next_q_online)
        # END SOLUTION

    def update(self, batch: Transitions) -> dict[str, float]:
        """One gradient step on a mini-batch from the replay buffer, then maybe a target update.

        In this order:
          1. the batch as tensors on self.device (actions int64; observations keep their dtype);
          2. targets y = self.compute_targets(rewards, next_observations, terminated): the mask
             is `terminated`, never `truncated`;
          3. Q(s_j, a_j) with q_values_of_actions on the online network, and huber_td_loss with
             config.huber_delta;
          4. one Adam step, after clipping the gradient's global norm to config.max_grad_norm
             (torch.nn.utils.clip_grad_norm_; no clipping when it is None);
          5. self.num_updates += 1, and when it is a multiple of config.target_update_period,
             the hard update phi' <- phi (copy the online weights into the target network).

        Returns {"q_loss": the loss before the step, "q_values": mean Q(s_j, a_j),
                 "target_values": mean y_j, "grad_norm": the global gradient norm before clipping,
                 also when max_grad_norm is None}.
        """
        config = self.config
        # BEGIN SOLUTION (README 2.7)
        device = self.device
        observations = to_torch(batch.observations, device, dtype=None)
        next_observations = to_torch(batch.next_observations, device, dtype=None)
        actions = to_torch(batch.actions, device, dtype=torch.int64)
        rewards = to_torch(batch.rewards, device)
        terminated = to_torch(batch.terminated, device)

        targets = self.compute_targets(rewards, next_observations, terminated)
        q_taken = q_values_of_actions(self.q_network(observations), actions)
        loss = huber_td_loss(q_taken, targets, config.huber_delta)

        self.optimizer.zero_grad()
        loss.backward()
        max_norm = config.max_grad_norm if config.max_grad_norm is not None else float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(self.q_network.parameters(), max_norm)
        self.optimizer.step()

        self.num_updates += 1
        if self.num_updates % config.target_update_period == 0:
            self.target_network.load_state_dict(self.q_network.state_dict())
        return {"q_loss": loss.item(), "q_values": q_taken.mean().item(),
                "target_values": targets.mean().item(), "grad_norm": float(grad_norm)}
        # END SOLUTION
