"""The policy gradient agent: REINFORCE with reward-to-go, a learned baseline and GAE (lectures 5-6).

One iteration of the algorithm (run.py drives it):

    1. sample trajectories {tau_i} with pi_theta                      (common.rollouts)
    2. estimate advantages A_hat(s_t, a_t)                            estimate_advantages
    3. theta <- theta + alpha * grad_theta J(theta), where
       grad J ~ (1/N) sum_{i,t} grad log pi_theta(a_it|s_it) A_hat_it  update_policy / policy_gradient_loss
    4. fit the baseline V_phi to the return estimates                 critics.ValueCritic.update

The actor (policy) and the critic (baseline) are separate networks with separate optimizers:
the advantages are constants for the actor's loss, and the value targets are constants for the
critic's loss, so no gradient flows from one loss into the other network.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from common.config import config_from_dict
from common.torch_utils import to_torch
from hw2_policy_gradient import returns
from hw2_policy_gradient.critics import ValueCritic
from hw2_policy_gradient.policies import CategoricalPolicy, GaussianPolicy, Policy


@dataclass
class PGAgentConfig:
    """Hyperparameters of the agent (the `agent:` section of a config file)."""

    gamma: float = 1.0                     # discount
    learning_rate: float = 5e-3            # actor Adam step size
    hidden_sizes: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    initial_log_std: float = 0.0           # Gaussian policies only
    use_reward_to_go: bool = True          # False: every step gets its trajectory's full return
    normalize_advantages: bool = True
    use_baseline: bool = False             # learn V_phi and subtract it
    baseline_learning_rate: float = 5e-3
    baseline_gradient_steps: int = 5       # critic Adam steps per iteration
    gae_lambda: float | None = None        # None: no GAE; else GAE(lambda) (needs use_baseline)
    entropy_coefficient: float = 0.0       # weight of the entropy bonus (0: plain policy gradient)

    def __post_init__(self):
        self.hidden_sizes = tuple(self.hidden_sizes)
        if self.gae_lambda is not None and not self.use_baseline:
            raise ValueError("gae_lambda needs a value function: set use_baseline: true (or gae_lambda: null)")

    @classmethod
    def from_mapping(cls, values: Mapping) -> "PGAgentConfig":
        """Build from a plain dict (what the grader sends); unknown keys raise, naming the valid ones."""
        return config_from_dict(cls, values, source="the agent settings")


def policy_gradient_loss(
    log_probs: torch.Tensor,
    advantages: torch.Tensor,
    entropies: torch.Tensor | None = None,
    entropy_coefficient: float = 0.0,
) -> torch.Tensor:
    """The surrogate whose gradient is the policy gradient, with an optional entropy bonus.

        L(theta) = -(1/N) sum_i log pi_theta(a_i|s_i) A_hat_i  -  beta * (1/N) sum_i H(pi_theta(.|s_i))

    Minimizing L ascends J(theta) (hence the minus sign) and, for beta > 0, the policy's entropy:
    the soft-optimality objective of the control-as-inference lecture, which keeps the policy from
    collapsing to a deterministic one too early. The advantages are constants (no gradient).

    log_probs: (N,) with grad, advantages: (N,), entropies: (N,) or None  ->  scalar tensor
    """
    # BEGIN SOLUTION (README 3.2)
    loss = -(log_probs * advantages.detach()).mean()
    if entropies is not None and entropy_coefficient != 0.0:
        loss = loss - entropy_coefficient * entropies.mean()
    return loss
    # END SOLUTION


class PGAgent(nn.Module):
    """Actor pi_theta plus, with `use_baseline`, a critic V_phi.

    `update(...)` takes one flat batch of trajectories laid end to end (the format of
    hw2_policy_gradient.returns) and returns the losses it logged, e.g. {"actor_loss": ...,
    "baseline_loss": ...}.
    """

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool, config: PGAgentConfig | Mapping | None = None):
        """action_dim: the number of actions when `discrete`, else the size of the action vector."""
        super().__init__()
        if config is None:
            config = PGAgentConfig()
        elif isinstance(config, Mapping):
            config = PGAgentConfig.from_mapping(config)
        self.config = config
        self.discrete = discrete
        if discrete:
            self.actor: Policy = CategoricalPolicy(obs_dim, action_dim, config.hidden_sizes, config.activation)
        else:
            self.actor = GaussianPolicy(obs_dim, action_dim, config.hidden_sizes, config.activation,
                                        config.initial_log_std)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.learning_rate)
        self.critic: ValueCritic | None = None
        if config.use_baseline:
            self.critic = ValueCritic(obs_dim, config.hidden_sizes, config.activation, config.baseline_learning_rate)

    def get_action(self, observations: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """numpy (N, obs_dim) -> actions sampled from pi_theta (or its mode)."""
        return self.actor.get_action(observations, deterministic)

    def values(self, observations: np.ndarray) -> np.ndarray:
        """V_phi(s) as numpy (N,), without gradient; zeros when there is no baseline."""
        if self.critic is None:
            return np.zeros(len(observations), dtype=np.float32)
        return self.critic.predict(observations)

    def estimate_advantages(
        self,
        rewards: np.ndarray,
        values: np.ndarray,
        next_values: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A_hat for every step, and the targets the baseline regresses onto.

        Q_hat_t is returns.reward_to_go when config.use_reward_to_go, else
        returns.discounted_return (the trajectory's full discounted return), with or without a
        baseline; both bootstrap from next_values on truncation (termination wins when both flags
        are set). Three estimators, chosen by the config:
          no baseline (gae_lambda None, use_baseline false):
                        A_hat_t = Q_hat_t; targets y_t = Q_hat_t (unused). next_values are all 0 here.
          baseline (use_baseline true, gae_lambda None):
                        A_hat_t = Q_hat_t - V_phi(s_t); targets y_t = Q_hat_t.
          GAE (gae_lambda set, which needs use_baseline):
                        A_hat_t = returns.gae_advantages(..., gamma, gae_lambda), whatever
                        use_reward_to_go says; targets y_t = A_hat_t + V_phi(s_t) (the lambda-return).

        All inputs (N,) numpy (values = V_phi(s_t), next_values = V_phi(s_{t+1}));
        returns (advantages (N,), value_targets (N,)), both float32, BEFORE any normalization.
        """
        config = self.config
        # BEGIN PROMPT
        # Hint: everything you need is in hw2_policy_gradient.returns; self.critic is None
        # when there is no baseline.
        # END PROMPT
        # BEGIN SOLUTION (README 3.3)
        if config.gae_lambda is not None:
            advantages = returns.gae_advantages(rewards, values, next_values, terminated, truncated,
                                                config.gamma, config.gae_lambda)
            return advantages, (advantages + values).astype(np.float32)
        estimator = returns.reward_to_go if config.use_reward_to_go else returns.discounted_return
        q_values = estimator(rewards, terminated, truncated, config.gamma, next_values)
        if self.critic is None:
            return q_values, q_values
        return (q_values - values).astype(np.float32), q_values
        # END SOLUTION

    def update_policy(self, observations: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor) -> dict:
        """One Adam step of the actor on policy_gradient_loss.

        Returns {"actor_loss": the loss of that step, entropy bonus included, measured before the
        step; "entropy": the mean entropy of pi_theta over the batch, before the step}.
        """
        log_probs = self.actor.log_prob(observations, actions)
        entropies = self.actor.entropy(observations)
        loss = policy_gradient_loss(log_probs, advantages, entropies, self.config.entropy_coefficient)
        self.actor_optimizer.zero_grad()
        loss.backward()
        self.actor_optimizer.step()
        return {"actor_loss": loss.item(), "entropy": entropies.mean().item()}

    def update(
        self,
        observations: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_observations: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
    ) -> dict[str, float]:
        """One iteration of learning on a flat batch of N steps.

        observations, next_observations: (N, obs_dim); actions: (N,) or (N, act_dim);
        rewards, terminated, truncated: (N,).

        In this order:
          1. V_phi(s_t) and V_phi(s_{t+1}) with the critic as it is now (no gradient): self.values;
          2. advantages and value targets (self.estimate_advantages);
          3. when config.normalize_advantages: returns.normalize(advantages). Only the advantages:
             the value targets stay as they are;
          4. the actor's update, self.update_policy(observations, actions, advantages) with torch
             tensors (actions as int64 for a discrete policy) and the advantages as constants;
          5. with a baseline, self.critic.update(observations, value_targets,
             config.baseline_gradient_steps).
        No gradient may flow from the actor's loss into the critic, nor from the value loss into
        the actor: the advantages and the targets are plain numbers.
        Returns the metrics of update_policy ("actor_loss", "entropy"), plus, with a baseline,
        "baseline_loss": what self.critic.update returned.
        """
        # BEGIN SOLUTION (README 3.3)
        values = self.values(observations)
        next_values = self.values(next_observations)
        advantages, value_targets = self.estimate_advantages(rewards, values, next_values, terminated, truncated)
        if self.config.normalize_advantages:
            advantages = returns.normalize(advantages)
        device = next(self.actor.parameters()).device
        metrics = self.update_policy(
            to_torch(observations, device=device),
            to_torch(actions, device=device, dtype=torch.long if self.discrete else torch.float32),
            to_torch(advantages, device=device),
        )
        if self.critic is not None:
            metrics["baseline_loss"] = self.critic.update(observations, value_targets,
                                                          self.config.baseline_gradient_steps)
        return metrics
        # END SOLUTION
