"""Advantage-Weighted Actor-Critic (AWAC) for discrete actions (lecture "Offline RL", implicit policy constraints).

The policy that maximizes Q while staying close to the behaviour policy pi_beta (a KL constraint)
is pi*(a|s) proportional to pi_beta(a|s) exp(A(s, a) / lambda). AWAC fits it by WEIGHTED maximum
likelihood on the dataset's own actions, so the actor never needs pi_beta and never queries an
action the data does not hold:

    critic:  y_j = r_j + gamma (1 - d_j) sum_a' pi_theta(a'|s'_j) Q_phi'(s'_j, a')        awac_q_target
             phi <- phi - lr grad (1/B) sum_j huber(Q_phi(s_j, a_j) - y_j)
    actor:   A(s_j, a_j) = Q_phi(s_j, a_j) - sum_a pi_theta(a|s_j) Q_phi(s_j, a)          awac_advantages
             w_j = min(exp(A(s_j, a_j) / lambda), w_max)                                   awac_weights
             theta <- theta - lr grad [ -(1/B) sum_j w_j log pi_theta(a_j|s_j) ]           weighted_actor_loss

lambda (`temperature`) sets how far the actor may move from the data: small lambda follows the
critic greedily, large lambda imitates the dataset. The clip w_max keeps one lucky transition from
dominating a batch (exp grows fast). The critic evaluates the ACTOR (an expectation over pi_theta
in the target, not a max), so it is policy evaluation, not Q-learning.

    agent = AWACAgent(obs_shape=(2,), num_actions=4, dqn_config=DQNConfig(), config=AWACConfig())
    metrics = agent.update(dataset.sample(batch_size, rng))
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from common.rollouts import Transitions
from hw3_qlearning_ac.dqn import DQNConfig, huber_td_loss, q_values_of_actions
from hw5_exploration_offline.offline_core import (ActorCriticAgent, CategoricalActor, count_update, gradient_step,
                                                  make_dqn, to_torch_batch)


@dataclass
class AWACConfig:
    """Hyperparameters of the AWAC actor (the `awac:` section of a config); the critic uses `agent:`."""

    temperature: float = 1.0                # lambda in exp(A / lambda)
    max_weight: float = 20.0                # w_max: weights are clipped to at most this
    actor_learning_rate: float = 1e-3
    actor_hidden_sizes: tuple[int, ...] = (128, 128)

    def __post_init__(self):
        self.actor_hidden_sizes = tuple(self.actor_hidden_sizes)
        if self.temperature <= 0 or self.max_weight <= 0:
            raise ValueError(f"temperature and max_weight must be > 0, got {self.temperature} and {self.max_weight}")


# ---------------------------------------------------------------------------------------------
# The critic: evaluate the actor
# ---------------------------------------------------------------------------------------------


def awac_q_target(rewards: torch.Tensor, terminated: torch.Tensor, next_q_target: torch.Tensor,
                  next_action_probs: torch.Tensor, gamma: float) -> torch.Tensor:
    """The critic's target: the next state's value under the ACTOR, not a max.

        y_j = r_j + gamma * (1 - d_j) * sum_a' pi(a'|s'_j) Q_phi'(s'_j, a')

    d_j = terminated[j] (truncation still bootstraps, as in homework 3).

    rewards: (B,); terminated: (B,) bool or 0/1 float; next_q_target: (B, A) target network's
    Q(s'_j, .); next_action_probs: (B, A) pi(.|s'_j), rows summing to 1.
    Returns y: (B,), without gradient (detached).
    """
    # BEGIN SOLUTION (README 5.1)
    with torch.no_grad():
        next_values = (next_action_probs * next_q_target).sum(dim=1)
        return rewards.float() + gamma * (1.0 - terminated.float()) * next_values
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# The actor: advantage-weighted regression onto the dataset's actions
# ---------------------------------------------------------------------------------------------


def awac_advantages(q_values: torch.Tensor, actions: torch.Tensor, action_probs: torch.Tensor) -> torch.Tensor:
    """Advantages of the dataset actions under the actor: A(s_j, a_j) = Q(s_j, a_j) - V(s_j),

        V(s_j) = sum_a pi(a|s_j) Q(s_j, a)     (an expectation over ALL actions, for discrete actions exact)

    q_values: (B, A) Q_phi(s_j, .); actions: (B,) int64 dataset actions; action_probs: (B, A) pi(.|s_j).
    Returns A: (B,), without gradient (the advantages only weight the actor's loss).
    """
    # BEGIN SOLUTION (README 5.2)
    with torch.no_grad():
        values = (action_probs * q_values).sum(dim=1)
        return q_values_of_actions(q_values, actions) - values
    # END SOLUTION


def awac_weights(advantages: torch.Tensor, temperature: float, max_weight: float) -> torch.Tensor:
    """The weights of advantage-weighted regression, exponentiated and then clipped from above:

        w_j = min(exp(A_j / lambda), w_max)

    Positive advantages get weights above 1, negative ones below 1 (never negative, never 0 exactly).
    No normalization over the batch. (exp(A / lambda) may overflow to inf for huge advantages; the
    clip must still return w_max there, e.g. torch.clamp(..., max=max_weight).)

    advantages: (B,); temperature lambda > 0; max_weight w_max > 0.
    Returns w: (B,), without gradient (detached).
    """
    # BEGIN SOLUTION (README 5.3)
    return torch.exp(advantages.detach() / temperature).clamp(max=max_weight)
    # END SOLUTION


def weighted_actor_loss(logits: torch.Tensor, actions: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted negative log-likelihood of the dataset's actions (the actor's loss of AWAC and IQL):

        L(theta) = -(1/B) sum_j w_j log pi_theta(a_j|s_j),     pi_theta(.|s) = softmax(logits)

    Compute log pi with torch.log_softmax (stable). A MEAN over the batch, not a sum and not divided
    by sum_j w_j. Gradient flows into logits only; the weights are constants.

    logits: (B, A) with gradient; actions: (B,) int64; weights: (B,).  Returns a scalar tensor.
    """
    # BEGIN SOLUTION (README 5.4)
    log_probs = q_values_of_actions(F.log_softmax(logits, dim=1), actions)
    return -(weights.detach() * log_probs).mean()
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# The agent
# ---------------------------------------------------------------------------------------------


class AWACAgent(ActorCriticAgent):
    """A critic (homework 3's DQNAgent: Q-network, target network, optimizer, target updates) that
    evaluates a CategoricalActor, and the actor trained by advantage-weighted regression.

    The agent acts with the actor: its most likely action (deterministic), else a sample of
    pi_theta(.|s) (epsilon is ignored: the actor's own randomness explores online).
    Attributes: critic (DQNAgent), actor (CategoricalActor), actor_optimizer, config (AWACConfig).
    """

    def __init__(self, obs_shape: Sequence[int], num_actions: int, dqn_config: DQNConfig | None = None,
                 config: AWACConfig | None = None, q_input_scale: float | None = None):
        super().__init__()
        self.config = config = config or AWACConfig()
        self.critic = make_dqn(obs_shape, num_actions, dqn_config, q_input_scale)
        self.actor = CategoricalActor(tuple(obs_shape)[0], num_actions, config.actor_hidden_sizes, q_input_scale)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_learning_rate)


    def update(self, batch: Transitions) -> dict[str, float]:
        """One critic step (awac_q_target, Huber TD loss, hw3's target updates), then one actor step
        (awac_advantages from the critic just updated, awac_weights, weighted_actor_loss)."""
        dqn_config, config = self.critic.config, self.config
        b = to_torch_batch(batch, self.device)

        with torch.no_grad():
            next_probs = torch.softmax(self.actor(b.next_observations), dim=1)
            targets = awac_q_target(b.rewards, b.terminated, self.critic.target_network(b.next_observations),
                                    next_probs, dqn_config.gamma)
        q_taken = q_values_of_actions(self.critic.q_network(b.observations), b.actions)
        q_loss = huber_td_loss(q_taken, targets, dqn_config.huber_delta)
        grad_norm = gradient_step(self.critic.optimizer, q_loss, self.critic.q_network.parameters(),
                                  dqn_config.max_grad_norm)
        count_update(self.critic)

        logits = self.actor(b.observations)
        with torch.no_grad():
            advantages = awac_advantages(self.critic.q_network(b.observations), b.actions, torch.softmax(logits, dim=1))
            weights = awac_weights(advantages, config.temperature, config.max_weight)
        actor_loss = weighted_actor_loss(logits, b.actions, weights)
        gradient_step(self.actor_optimizer, actor_loss, self.actor.parameters(), dqn_config.max_grad_norm)
        return {"q_loss": q_loss.item(), "actor_loss": actor_loss.item(), "q_values": q_taken.mean().item(),
                "target_values": targets.mean().item(), "advantage": advantages.mean().item(),
                "awac_weight": weights.mean().item(), "grad_norm": grad_norm}
