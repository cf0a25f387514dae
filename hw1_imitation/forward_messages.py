"""Forward messages and state-action visitation (lectures "Control as inference" and "Inverse RL").

The forward message is the probability of a state given that the agent was optimal BEFORE it:

    alpha_t(s_t) = p(s_t | O_{0:t-1}),      alpha_0(s) = p(s_0 = s)
    alpha_{t+1}(s') = (1 / Z_t) sum_{s, a} p(s' | s, a) exp(r(s, a)) alpha_t(s)

where Z_t = p(O_t | O_{0:t-1}) makes alpha_{t+1} sum to 1 over s' (the uniform action prior
p(a | s) = 1/A is a constant, absorbed by Z_t). Combined with the backward messages of
soft_value_iteration.py, beta_t(s, a) = exp(Q_t(s, a)), it gives the state-action marginal of the
posterior over trajectories p(tau | O_{0:T-1}) proportional to p(tau) exp(sum_t r(s_t, a_t)):

    mu_t(s, a) = p(s_t = s, a_t = a | O_{0:T-1})  proportional to  alpha_t(s) beta_t(s, a)

normalized over all (s, a) at each t. These are the expected visitations that maximum-entropy
inverse RL compares with the expert's. With deterministic dynamics, mu_t is also what running the
soft-optimal policy exp(Q_t - V_t) from p(s_0) visits (`policy_state_marginals` below).

Shapes: rewards (S, A); transitions (S, A, S); initial_distribution (S,); alpha (T, S);
q_values (T, S, A) from the EXACT backup; visitation mu (T, S, A).
"""
from __future__ import annotations

import numpy as np

from hw1_imitation.tabular_mdp import check_dynamics, check_rewards


def forward_messages(
    rewards: np.ndarray, transitions: np.ndarray, initial_distribution: np.ndarray, horizon: int
) -> np.ndarray:
    """alpha_t(s) = p(s_t = s | O_{0:t-1}) for t = 0 .. T-1, each row a distribution over states.

        alpha_0(s)      = initial_distribution[s]
        alpha_{t+1}(s') = sum_{s, a} p(s' | s, a) exp(r(s, a)) alpha_t(s)   / Z_t

    Normalize every step (Z_t is whatever makes alpha_{t+1} sum to 1): the messages are conditional
    probabilities, and unnormalized ones grow or shrink like exp(t * r) until they overflow. A
    constant subtracted from r before the exp cancels in Z_t, which keeps exp(r) finite.

    rewards: (S, A); transitions: (S, A, S); initial_distribution: (S,); horizon: T
    ->  alpha: (T, S) float64, every row sums to 1
    Example: with 2 states where every action leads to state 1, alpha_1 = [0, 1] whatever the rewards.
    """
    rewards = check_rewards(rewards, transitions)
    initial_distribution = np.asarray(initial_distribution, dtype=np.float64)
    check_dynamics(transitions, initial_distribution, horizon)
    # BEGIN SOLUTION (README 6.6)
    optimality = np.exp(rewards - rewards.max())  # p(O_t | s, a) up to a constant that Z_t removes
    alpha = np.empty((horizon, len(initial_distribution)))
    alpha[0] = initial_distribution
    for t in range(horizon - 1):
        unnormalized = np.einsum("s,sa,sap->p", alpha[t], optimality, transitions)
        alpha[t + 1] = unnormalized / unnormalized.sum()
    return alpha
    # END SOLUTION


def state_action_visitation(alpha: np.ndarray, q_values: np.ndarray) -> np.ndarray:
    """mu_t(s, a) = p(s_t = s, a_t = a | O_{0:T-1}), proportional to alpha_t(s) exp(Q_t(s, a)).

    alpha from `forward_messages`, q_values from `backward_messages` with the EXACT backup (then
    exp(Q_t) is the backward message beta_t(s, a)). Normalize each step t over all (s, a) pairs, so
    every mu_t sums to 1. Work in logs, log alpha_t(s) + Q_t(s, a), and subtract the largest entry
    of step t before exponentiating: Q can be large. alpha_t(s) = 0 (an unreachable state) must give
    mu_t(s, .) = 0.

    alpha: (T, S); q_values: (T, S, A)   ->   mu: (T, S, A) float64, every mu[t] sums to 1
    Example: alpha_t = [1, 0] and Q_t = [[0, log 3], [5, 5]] give mu_t = [[0.25, 0.75], [0, 0]].
    """
    alpha, q_values = np.asarray(alpha, dtype=np.float64), np.asarray(q_values, dtype=np.float64)
    if alpha.ndim != 2 or q_values.shape[:2] != alpha.shape:
        raise ValueError(f"alpha must be (T, S) and q_values (T, S, A) with the same T and S, got {alpha.shape} and {q_values.shape}")
    # BEGIN SOLUTION (README 6.7)
    with np.errstate(divide="ignore"):  # log 0 = -inf: an unreachable state gets weight 0
        log_weights = np.log(alpha)[:, :, None] + q_values
    log_weights -= log_weights.max(axis=(1, 2), keepdims=True)
    weights = np.exp(log_weights)
    return weights / weights.sum(axis=(1, 2), keepdims=True)
    # END SOLUTION


def state_visitation(visitation: np.ndarray) -> np.ndarray:
    """The time-averaged state distribution d(s) = (1/T) sum_t sum_a mu_t(s, a).

    visitation mu: (T, S, A)   ->   d: (S,), sums to 1
    """
    return visitation.sum(axis=2).mean(axis=0)


def policy_state_marginals(
    policy: np.ndarray, transitions: np.ndarray, initial_distribution: np.ndarray
) -> np.ndarray:
    """p(s_t = s) when the time-dependent policy runs in the real dynamics from p(s_0).

        p(s_0) = initial_distribution,   p(s_{t+1} = s') = sum_{s, a} p(s_t = s) pi_t(a | s) p(s' | s, a)

    policy: (T, S, A); transitions: (S, A, S); initial_distribution: (S,)   ->   (T, S)
    """
    horizon = policy.shape[0]
    marginals = np.empty((horizon, len(initial_distribution)))
    marginals[0] = initial_distribution
    for t in range(horizon - 1):
        marginals[t + 1] = np.einsum("s,sa,sap->p", marginals[t], policy[t], transitions)
    return marginals
