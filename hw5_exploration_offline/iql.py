"""Implicit Q-Learning (IQL) for discrete actions (lecture "Offline RL", implicit policy constraints).

Q-learning's target needs max_a' Q(s', a'), and the max is what queries actions the data does not
hold. IQL never takes it. A separate value network V_psi is fitted to the Q-values of the
DATASET's actions with an asymmetric (expectile) loss: with tau close to 1, V(s) approaches the
largest Q(s, a) among the actions the behaviour policy actually takes in s, an "in-support max".
Q then learns from V:

    value:   u_j = Q_phi'(s_j, a_j) - V_psi(s_j)
             psi <- psi - lr grad (1/B) sum_j |tau - 1(u_j < 0)| u_j^2         expectile_loss, iql_value_loss
    Q:       y_j = r_j + gamma (1 - d_j) V_psi(s'_j)                            iql_q_target
             phi <- phi - lr grad (1/B) sum_j huber(Q_phi(s_j, a_j) - y_j)
    actor:   A_j = Q_phi'(s_j, a_j) - V_psi(s_j),  w_j = min(exp(A_j / lambda), w_max)   (awac.awac_weights)
             theta <- theta - lr grad [ -(1/B) sum_j w_j log pi_theta(a_j|s_j) ]        (awac.weighted_actor_loss)

tau = 0.5 is the mean: V becomes the behaviour policy's value (SARSA-like evaluation). The policy
is extracted at the end, as in AWAC, and never influences the values: every action any network
looks at comes from the dataset.

    agent = IQLAgent(obs_shape=(2,), num_actions=4, dqn_config=DQNConfig(), config=IQLConfig())
    metrics = agent.update(dataset.sample(batch_size, rng))
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from common.rollouts import Transitions
from common.torch_utils import build_mlp
from hw3_qlearning_ac.dqn import DQNConfig, huber_td_loss, q_values_of_actions
from hw5_exploration_offline.awac import awac_weights, weighted_actor_loss
from hw5_exploration_offline.offline_core import (ActorCriticAgent, CategoricalActor, count_update, gradient_step,
                                                  make_dqn, to_torch_batch)
from hw5_exploration_offline.rnd import spread_first_layer


@dataclass
class IQLConfig:
    """Hyperparameters of IQL's value network and actor (the `iql:` section); the Q-network uses `agent:`."""

    expectile: float = 0.8                  # tau in (0, 1): 0.5 is the mean, near 1 an in-support max
    temperature: float = 1.0                # lambda in exp(A / lambda)
    max_weight: float = 20.0                # w_max
    value_learning_rate: float = 1e-3
    actor_learning_rate: float = 1e-3
    value_hidden_sizes: tuple[int, ...] = (128, 128)
    actor_hidden_sizes: tuple[int, ...] = (128, 128)

    def __post_init__(self):
        self.value_hidden_sizes = tuple(self.value_hidden_sizes)
        self.actor_hidden_sizes = tuple(self.actor_hidden_sizes)
        if not 0.0 < self.expectile < 1.0:
            raise ValueError(f"expectile tau must lie strictly between 0 and 1, got {self.expectile}")
        if self.temperature <= 0 or self.max_weight <= 0:
            raise ValueError(f"temperature and max_weight must be > 0, got {self.temperature} and {self.max_weight}")


def expectile_loss(diff: torch.Tensor, tau: float) -> torch.Tensor:
    """The expectile (asymmetric squared) loss of differences u = Q - V, averaged over the batch:

        L_tau(u) = (1/B) sum_j |tau - 1(u_j < 0)| u_j^2

    i.e. weight tau where u_j > 0 (Q above V: V should rise) and 1 - tau where u_j < 0 (V above Q).
    (The lecture writes the same loss of x = V - Q: (1 - tau) x^2 for x > 0, tau x^2 otherwise.)
    At u_j = 0 the term is 0 whichever weight is used. tau = 0.5 gives half the mean squared error.

    diff: (B,) u_j = Q(s_j, a_j) - V(s_j), with gradient; tau in (0, 1).  Returns a scalar tensor.
    """
    # BEGIN SOLUTION (README 5.5)
    weight = torch.abs(tau - (diff < 0).float())
    return (weight * diff**2).mean()
    # END SOLUTION


def iql_value_loss(values: torch.Tensor, target_q_values: torch.Tensor, actions: torch.Tensor,
                   tau: float) -> torch.Tensor:
    """IQL's value loss: V(s_j) regressed onto Q(s_j, a_j) of the DATASET action a_j with expectile_loss.

        L_V(psi) = expectile_loss(Q_phi'(s_j, a_j) - V_psi(s_j), tau)

    Never a max over actions and never the policy's action: only a_j, the action the data holds.
    The Q-values are constants here (only V learns from this loss).

    values: (B,) V_psi(s_j) with gradient; target_q_values: (B, A) Q_phi'(s_j, .) of the target
    network; actions: (B,) int64 dataset actions; tau in (0, 1).  Returns a scalar tensor.
    """
    # BEGIN SOLUTION (README 5.6)
    q_taken = q_values_of_actions(target_q_values.detach(), actions)
    return expectile_loss(q_taken - values, tau)
    # END SOLUTION


def iql_q_target(rewards: torch.Tensor, terminated: torch.Tensor, next_values: torch.Tensor,
                 gamma: float) -> torch.Tensor:
    """IQL's Q target, from the value network instead of a max over next actions:

        y_j = r_j + gamma * (1 - d_j) * V_psi(s'_j)

    d_j = terminated[j] (truncation still bootstraps).

    rewards: (B,); terminated: (B,) bool or 0/1 float; next_values: (B,) V_psi(s'_j).
    Returns y: (B,), without gradient (detached).
    """
    # BEGIN SOLUTION (README 5.7)
    with torch.no_grad():
        return rewards.float() + gamma * (1.0 - terminated.float()) * next_values
    # END SOLUTION


class IQLAgent(ActorCriticAgent):
    """IQL: a Q-network (homework 3's DQNAgent: networks, optimizer, target updates), a value network
    V_psi (B, obs_dim) -> (B,), and a CategoricalActor extracted by advantage-weighted regression.

    The agent acts with the actor (as AWACAgent). Attributes: critic (DQNAgent), value_network,
    value_optimizer, actor, actor_optimizer, config (IQLConfig).
    """

    def __init__(self, obs_shape: Sequence[int], num_actions: int, dqn_config: DQNConfig | None = None,
                 config: IQLConfig | None = None, q_input_scale: float | None = None):
        super().__init__()
        self.config = config = config or IQLConfig()
        obs_dim = tuple(obs_shape)[0]
        self.critic = make_dqn(obs_shape, num_actions, dqn_config, q_input_scale)
        self.value_network = build_mlp(obs_dim, 1, config.value_hidden_sizes, activation="relu")
        if q_input_scale is not None:
            spread_first_layer(self.value_network, q_input_scale)
        self.value_optimizer = torch.optim.Adam(self.value_network.parameters(), lr=config.value_learning_rate)
        self.actor = CategoricalActor(obs_dim, num_actions, config.actor_hidden_sizes, q_input_scale)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_learning_rate)


    def values(self, observations: torch.Tensor) -> torch.Tensor:
        """V_psi(s): (B, obs_dim) -> (B,)."""
        return self.value_network(observations.float()).squeeze(-1)

    def update(self, batch: Transitions) -> dict[str, float]:
        """One value step (iql_value_loss), one Q step (iql_q_target from the updated V, Huber TD loss,
        hw3's target updates), one actor step (awac_weights of Q_phi'(s, a) - V(s), weighted_actor_loss)."""
        dqn_config, config = self.critic.config, self.config
        b = to_torch_batch(batch, self.device)
        with torch.no_grad():
            target_q_values = self.critic.target_network(b.observations)

        value_loss = iql_value_loss(self.values(b.observations), target_q_values, b.actions, config.expectile)
        gradient_step(self.value_optimizer, value_loss, self.value_network.parameters(), dqn_config.max_grad_norm)

        with torch.no_grad():
            targets = iql_q_target(b.rewards, b.terminated, self.values(b.next_observations), dqn_config.gamma)
        q_taken = q_values_of_actions(self.critic.q_network(b.observations), b.actions)
        q_loss = huber_td_loss(q_taken, targets, dqn_config.huber_delta)
        grad_norm = gradient_step(self.critic.optimizer, q_loss, self.critic.q_network.parameters(),
                                  dqn_config.max_grad_norm)
        count_update(self.critic)

        with torch.no_grad():
            advantages = q_values_of_actions(target_q_values, b.actions) - self.values(b.observations)
            weights = awac_weights(advantages, config.temperature, config.max_weight)
        actor_loss = weighted_actor_loss(self.actor(b.observations), b.actions, weights)
        gradient_step(self.actor_optimizer, actor_loss, self.actor.parameters(), dqn_config.max_grad_norm)
        return {"q_loss": q_loss.item(), "value_loss": value_loss.item(), "actor_loss": actor_loss.item(),
                "q_values": q_taken.mean().item(), "target_values": targets.mean().item(),
                "advantage": advantages.mean().item(), "iql_weight": weights.mean().item(), "grad_norm": grad_norm}
