"""Offline DQN and Conservative Q-Learning (CQL) for discrete actions (lecture "Offline RL", part 2).

Offline DQN is homework 3's DQNAgent updated on batches of a FIXED dataset D, never acting in the
env. Its target y = r + gamma max_a' Q_phi'(s', a') takes the max over every action, also the ones
the behaviour policy never took in s': their Q-values are never corrected by data, and the max
picks exactly the ones the network overestimates. Nothing online fixes it, so the errors compound.

CQL adds a term that pushes the Q-values of all actions down, through a soft maximum, and pushes
those of the dataset's actions back up (the lecture's L_CQL with mu(a|s) proportional to exp Q(s, a)):

    R(s_j, a_j) = log sum_a exp Q(s_j, a) - Q(s_j, a_j)                         cql_regularizer
    L(phi) = (1/B) sum_j huber(Q(s_j, a_j) - y_j) + alpha (1/B) sum_j R(s_j, a_j)   cql_loss

with homework 3's targets y_j (DQN or double DQN). alpha = 0 is offline DQN. A large alpha makes the
learned Q-values a lower bound on the dataset policy's values, and the greedy policy stays close
to the actions that the data supports.

    agent = CQLAgent(obs_shape=(2,), num_actions=4, dqn_config=DQNConfig(), alpha=1.0)
    metrics = agent.update(dataset.sample(batch_size, rng))
    actions = agent.get_action(observations, deterministic=True)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from common.rollouts import Transitions
from hw3_qlearning_ac.dqn import DQNConfig, huber_td_loss, q_values_of_actions
from hw5_exploration_offline.offline_core import count_update, gradient_step, make_dqn, to_torch_batch


def cql_regularizer(q_values: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """CQL's conservative term, averaged over the batch:

        (1/B) sum_j [ log sum_a exp Q(s_j, a) - Q(s_j, a_j) ]

    The log-sum-exp runs over ALL A actions of row j (a soft maximum: it pushes down the largest
    Q-values, whichever actions they belong to); a_j is the DATASET's action, whose Q-value is
    pushed up. Use torch.logsumexp (stable for large Q). Each row's term is >= 0, and it equals
    log A when all of the row's Q-values are equal. Gradient flows into q_values through both parts.

    q_values: (B, A) Q_phi(s_j, .) of the online network; actions: (B,) int64 dataset actions.
    Returns a scalar tensor.
    """
    # BEGIN SOLUTION (README 4.2)
    return (torch.logsumexp(q_values, dim=1) - q_values_of_actions(q_values, actions)).mean()
    # END SOLUTION


def cql_loss(q_values: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor, alpha: float,
             huber_delta: float = 1.0) -> torch.Tensor:
    """The CQL critic loss: homework 3's TD loss plus alpha times the conservative term.

        L = huber_td_loss(Q(s_j, a_j), y_j, huber_delta) + alpha * cql_regularizer(Q(s_j, .), a_j)

    Q(s_j, a_j) is q_values' entry of the dataset action (hw3's q_values_of_actions); the targets
    are constants. alpha = 0 gives exactly offline DQN's loss.

    q_values: (B, A) with gradient; actions: (B,) int64; targets: (B,) y_j; alpha >= 0.
    Returns a scalar tensor.
    """
    # BEGIN SOLUTION (README 4.3)
    td_loss = huber_td_loss(q_values_of_actions(q_values, actions), targets, huber_delta)
    return td_loss + alpha * cql_regularizer(q_values, actions)
    # END SOLUTION


class CQLAgent(nn.Module):
    """Homework 3's DQNAgent (its networks, optimizer, targets and target updates) trained with cql_loss.

    alpha: the CQL weight (0: offline DQN's loss). q_input_scale: re-draw the Q-network's first layer
    for inputs in [0, 1] (hw5_exploration_offline.rnd.spread_first_layer); None keeps hw3's init.
    Attributes: dqn (hw3_qlearning_ac.dqn.DQNAgent), alpha.
    """

    def __init__(self, obs_shape: Sequence[int], num_actions: int, dqn_config: DQNConfig | None = None,
                 alpha: float = 1.0, q_input_scale: float | None = None):
        super().__init__()
        if alpha < 0:
            raise ValueError(f"the CQL weight alpha must be >= 0 (0 is offline DQN), got {alpha}")
        self.dqn = make_dqn(obs_shape, num_actions, dqn_config, q_input_scale)
        self.alpha = float(alpha)

    @property
    def device(self) -> torch.device:
        return self.dqn.device

    def q_values(self, observations: np.ndarray) -> np.ndarray:
        return self.dqn.q_values(observations)

    def get_action(self, observations: np.ndarray, deterministic: bool = False, epsilon: float = 0.0,
                   rng: np.random.Generator | None = None) -> np.ndarray:
        """Greedy (deterministic) or epsilon-greedy actions (N,) int64 on the Q-values."""
        return self.dqn.get_action(observations, deterministic=deterministic, epsilon=epsilon, rng=rng)

    def update(self, batch: Transitions) -> dict[str, float]:
        """One gradient step of cql_loss on a dataset batch, then hw3's target-network schedule.

        Returns q_loss (the CQL loss), cql_regularizer, q_values (mean Q(s_j, a_j) on the dataset's
        actions), ood_q_values (mean over the batch of max_a Q(s_j, a)), target_values, grad_norm.
        """
        config = self.dqn.config
        b = to_torch_batch(batch, self.device)
        targets = self.dqn.compute_targets(b.rewards, b.next_observations, b.terminated)
        q_values = self.dqn.q_network(b.observations)
        loss = cql_loss(q_values, b.actions, targets, self.alpha, config.huber_delta)
        grad_norm = gradient_step(self.dqn.optimizer, loss, self.dqn.q_network.parameters(), config.max_grad_norm)
        count_update(self.dqn)
        with torch.no_grad():
            return {"q_loss": loss.item(), "cql_regularizer": cql_regularizer(q_values, b.actions).item(),
                    "q_values": q_values_of_actions(q_values, b.actions).mean().item(),
                    "ood_q_values": q_values.max(dim=1).values.mean().item(),
                    "target_values": targets.mean().item(), "grad_norm": grad_norm}


class OfflineDQNAgent(CQLAgent):
    """Offline DQN: homework 3's own DQNAgent.update, on dataset batches (the loss of CQL with alpha = 0)."""

    def __init__(self, obs_shape: Sequence[int], num_actions: int, dqn_config: DQNConfig | None = None,
                 q_input_scale: float | None = None):
        super().__init__(obs_shape, num_actions, dqn_config, alpha=0.0, q_input_scale=q_input_scale)

    def update(self, batch: Transitions) -> dict[str, float]:
        """hw3's DQNAgent.update on the batch; adds ood_q_values (mean max_a Q(s_j, a)) as CQLAgent logs it."""
        metrics = self.dqn.update(batch)
        metrics["ood_q_values"] = float(self.dqn.q_values(batch.observations).max(axis=1).mean())
        return metrics
