"""Maximum-entropy inverse RL with a linear reward (lecture "Inverse reinforcement learning").

The expert is modeled as soft-optimal for an unknown reward r_psi(s, a) = psi^T f(s, a):
p(tau | O, psi) = p(tau) exp(r_psi(tau)) / Z(psi), with r_psi(tau) = sum_t r_psi(s_t, a_t). Maximum
likelihood on N demonstrations maximizes

    L(psi) = (1/N) sum_i r_psi(tau_i) - log Z(psi)

whose gradient is the expert's feature counts minus the feature counts the model expects:

    grad L = (1/N) sum_i sum_t f(s_{i,t}, a_{i,t})  -  sum_t sum_{s,a} mu_t(s, a) f(s, a)

mu_t is the state-action visitation of the soft-optimal policy for the current psi (forward and
backward messages). The algorithm (lecture slide "The MaxEnt IRL algorithm"):

    1. backward messages Q_t, V_t for r_psi          (soft_value_iteration.backward_messages)
    2. forward messages alpha_t for r_psi             (forward_messages.forward_messages)
    3. mu_t(s, a) proportional to alpha_t(s) beta_t(s, a)   (forward_messages.state_action_visitation)
    4. the gradient above                             (maxent_irl_gradient)
    5. psi <- psi + learning_rate * gradient

Shapes: features f (S, A, K); psi (K,); demonstrations states, actions (N, T); visitation mu (T, S, A).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hw1_imitation.demonstrations import Demonstrations
from hw1_imitation.forward_messages import forward_messages, state_action_visitation
from hw1_imitation.soft_value_iteration import backward_messages
from hw1_imitation.tabular_mdp import TabularMDP


def expert_feature_counts(features: np.ndarray, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """The expert's feature counts, averaged over demonstrations and summed over time:

        f_expert = (1/N) sum_{i=1}^{N} sum_{t=0}^{T-1} f(s_{i,t}, a_{i,t})

    features: (S, A, K); states, actions: (N, T) integer indices   ->   (K,) float64
    Example: K = 1, f(s, a) = s, two demonstrations with states [0, 1] and [1, 1] give [1.5].
    """
    features = np.asarray(features, dtype=np.float64)
    states, actions = np.asarray(states), np.asarray(actions)
    if features.ndim != 3:
        raise ValueError(f"features must be (S, A, K), got shape {features.shape}")
    if states.ndim != 2 or states.shape != actions.shape:
        raise ValueError(f"states and actions must both be (N, T), got {states.shape} and {actions.shape}")
    # BEGIN SOLUTION (README 7.1)
    return features[states, actions].sum(axis=1).mean(axis=0)
    # END SOLUTION


def maxent_irl_gradient(features: np.ndarray, expert_counts: np.ndarray, visitation: np.ndarray) -> np.ndarray:
    """The gradient of the demonstrations' log-likelihood L(psi) for a linear reward psi^T f:

        grad L = f_expert - sum_{t=0}^{T-1} sum_{s, a} mu_t(s, a) f(s, a)

    It points toward rewards that make the expert's behavior MORE likely: ascend it, psi <- psi + eta grad.
    It is zero when the soft-optimal policy of r_psi visits the features as often as the expert.

    features: (S, A, K); expert_counts f_expert: (K,); visitation mu: (T, S, A), every mu_t sums to 1
    ->  gradient: (K,) float64
    Example: f = 1 everywhere (K = 1) gives f_expert - T.
    """
    features = np.asarray(features, dtype=np.float64)
    expert_counts, visitation = np.asarray(expert_counts, dtype=np.float64), np.asarray(visitation, dtype=np.float64)
    if visitation.ndim != 3 or visitation.shape[1:] != features.shape[:2]:
        raise ValueError(f"visitation must be (T, S, A) with (S, A) = {features.shape[:2]}, got {visitation.shape}")
    if expert_counts.shape != features.shape[2:]:
        raise ValueError(f"expert_counts must have shape ({features.shape[2]},), got {expert_counts.shape}")
    # BEGIN SOLUTION (README 7.2)
    expected_counts = np.einsum("tsa,sak->k", visitation, features)
    return expert_counts - expected_counts
    # END SOLUTION


@dataclass
class IRLStep:
    """What one MaxEnt IRL iteration computed, for logging: psi before the step and its gradient."""

    iteration: int
    psi: np.ndarray          # (K,)
    gradient: np.ndarray     # (K,)
    visitation: np.ndarray   # (T, S, A) of the soft-optimal policy for psi
    log_likelihood: float    # L(psi) of the demonstrations


def maxent_irl(
    mdp: TabularMDP,
    features: np.ndarray,
    demonstrations: Demonstrations,
    iterations: int,
    learning_rate: float,
    callback: Callable[[IRLStep], None] | None = None,
) -> np.ndarray:
    """Fit psi by gradient ascent on L(psi), from psi = 0; returns psi (K,).

    `callback`, when given, sees every iteration's IRLStep (the run script logs them).
    The exact backup is the one of this likelihood, p(tau | O, psi) proportional to p(tau) exp(r_psi(tau)).
    """
    if demonstrations.horizon != mdp.horizon:
        raise ValueError(f"demonstrations have horizon {demonstrations.horizon}, the MDP {mdp.horizon}")
    f_expert = expert_feature_counts(features, demonstrations.states, demonstrations.actions)
    psi = np.zeros(features.shape[2])
    for iteration in range(iterations):
        rewards = features @ psi
        q_values, values = backward_messages(rewards, mdp.transitions, mdp.horizon, backup="exact")
        alpha = forward_messages(rewards, mdp.transitions, mdp.initial_distribution, mdp.horizon)
        visitation = state_action_visitation(alpha, q_values)
        gradient = maxent_irl_gradient(features, f_expert, visitation)
        if callback is not None:
            log_likelihood = float(f_expert @ psi - log_partition_from_values(values[0], mdp.initial_distribution))
            callback(IRLStep(iteration, psi.copy(), gradient, visitation, log_likelihood))
        psi = psi + learning_rate * gradient
    return psi


def log_partition_from_values(first_values: np.ndarray, initial_distribution: np.ndarray) -> float:
    """log Z = log sum_s p(s_0 = s) exp V_0(s), with V_0 from the exact backward messages."""
    reachable = initial_distribution > 0
    log_terms = np.log(initial_distribution[reachable]) + first_values[reachable]
    largest = log_terms.max()
    return float(largest + np.log(np.exp(log_terms - largest).sum()))


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """TV(p, q) = (1/2) sum_x |p(x) - q(x)| between two distributions of the same shape."""
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


def reward_correlation(recovered: np.ndarray, true: np.ndarray) -> float:
    """Pearson correlation of two rewards over states: blind to the shift (and scale) that IRL cannot fix."""
    recovered, true = np.ravel(recovered), np.ravel(true)
    if recovered.std() == 0 or true.std() == 0:
        return 0.0
    return float(np.corrcoef(recovered, true)[0, 1])
