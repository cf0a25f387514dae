"""Soft value iteration: the backward messages of control as inference (lecture "Control as inference").

The graphical model adds an optimality variable O_t to every step, p(O_t = 1 | s_t, a_t) = exp(r(s_t, a_t)),
and asks which actions are likely given that the agent is optimal all along, O_{1:T}. The backward
messages beta_t(s_t, a_t) = p(O_{t:T} | s_t, a_t) and beta_t(s_t) = p(O_{t:T} | s_t) answer it; in logs
they look like value functions,

    Q_t(s, a) = log beta_t(s, a),      V_t(s) = log beta_t(s) = log sum_a exp Q_t(s, a),

and the recursion from the last step back to the first is value iteration with a "soft" max:

    Q_{T-1}(s, a) = r(s, a)
    Q_t(s, a)     = r(s, a) + backup of V_{t+1} over s' ~ p(s' | s, a)
    V_t(s)        = log sum_a exp Q_t(s, a)

Two backups (section 8 of the handout explains why the second exists):

    exact inference:        Q_t = r + log E_{s'}[exp V_{t+1}(s')]   (optimistic about lucky transitions)
    variational inference:  Q_t = r + E_{s'}[V_{t+1}(s')]            (the ordinary Bellman backup)

With deterministic dynamics the two are the same number. The soft-optimal policy is
pi_t(a | s) = beta_t(s, a) / beta_t(s) = exp(Q_t(s, a) - V_t(s)).

The action prior is uniform and folded into the constant (the lecture shows any prior can be folded
into the reward), so V_t is log sum_a exp Q_t, not log mean_a exp Q_t. Time runs t = 0 .. T-1 here.

Shapes: rewards (S, A); transitions (S, A, S) with transitions[s, a, s'] = p(s' | s, a);
values V (S,) per step; q_values Q (S, A) per step; all steps stacked: Q (T, S, A), V (T, S).
"""
from __future__ import annotations

import numpy as np

from hw1_imitation.tabular_mdp import check_rewards

BACKUPS = ("exact", "variational")


def soft_max_value(q_values: np.ndarray) -> np.ndarray:
    """The soft maximum over actions, V(s) = log sum_a exp Q(s, a), over the LAST axis.

    It lies between max_a Q(s, a) and max_a Q(s, a) + log A, and tends to the max when one action's
    Q dominates. Compute it without overflow: exp(1000) is inf in float64, but
    log(exp(1000) + exp(1000)) = 1000 + log 2. Subtract the largest entry before exponentiating:
    log sum_a exp Q_a = m + log sum_a exp(Q_a - m), with m = max_a Q_a.

    q_values: (..., A) finite floats   ->   (...) float64
    Example: Q = [0, log 3] gives V = log 4.
    """
    q_values = np.asarray(q_values, dtype=np.float64)
    # BEGIN SOLUTION (README 6.2)
    largest = q_values.max(axis=-1, keepdims=True)
    return np.log(np.exp(q_values - largest).sum(axis=-1)) + largest[..., 0]
    # END SOLUTION


def exact_backup(rewards: np.ndarray, transitions: np.ndarray, next_values: np.ndarray) -> np.ndarray:
    """The exact-inference backup, Q(s, a) = r(s, a) + log E_{s' ~ p(s'|s,a)}[exp V'(s')].

    This is log beta_t(s, a) = log( p(O_t | s, a) * E_{s'}[beta_{t+1}(s')] ) from the backward message
    recursion. Compute it without overflow (V' can be large): subtract m = max_{s'} V'(s') before
    exponentiating and add it back after the log.

    rewards: (S, A); transitions: (S, A, S); next_values V_{t+1}: (S,)   ->   Q_t: (S, A) float64
    Example: r = 0, p(s'|s,a) = [0.5, 0.5], V' = [0, log 3] gives log(0.5 * 1 + 0.5 * 3) = log 2.
    """
    rewards = check_rewards(rewards, transitions)
    next_values = _check_next_values(next_values, transitions)
    # BEGIN SOLUTION (README 6.3)
    largest = next_values.max()
    return rewards + largest + np.log(transitions @ np.exp(next_values - largest))
    # END SOLUTION


def variational_backup(rewards: np.ndarray, transitions: np.ndarray, next_values: np.ndarray) -> np.ndarray:
    """The variational backup, Q(s, a) = r(s, a) + E_{s' ~ p(s'|s,a)}[V'(s')].

    The backup of the variational posterior q(tau) = p(s_0) prod_t p(s_{t+1}|s_t, a_t) q(a_t|s_t), which
    keeps the real dynamics: it averages the next values (an ordinary Bellman backup) instead of
    the optimistic log E[exp V'].

    rewards: (S, A); transitions: (S, A, S); next_values V_{t+1}: (S,)   ->   Q_t: (S, A) float64
    Example: r = 0, p(s'|s,a) = [0.5, 0.5], V' = [0, log 3] gives 0.5 * log 3.
    """
    rewards = check_rewards(rewards, transitions)
    next_values = _check_next_values(next_values, transitions)
    # BEGIN SOLUTION (README 8.1)
    return rewards + transitions @ next_values
    # END SOLUTION


def backward_messages(
    rewards: np.ndarray, transitions: np.ndarray, horizon: int, backup: str = "exact"
) -> tuple[np.ndarray, np.ndarray]:
    """Soft value iteration over a finite horizon: Q_t and V_t for every step t = 0 .. T-1.

        Q_{T-1}(s, a) = r(s, a)                                   (nothing follows the last step)
        Q_t(s, a)     = backup(r, p, V_{t+1})                     for t = T-2 down to 0
        V_t(s)        = soft_max_value(Q_t)(s) = log sum_a exp Q_t(s, a)

    where backup is `exact_backup` (backup="exact") or `variational_backup` (backup="variational"):
    `backup_step` below is already that function; call it and `soft_max_value`.

    rewards: (S, A); transitions: (S, A, S); horizon: T >= 1; backup: "exact" or "variational"
    ->  q_values Q: (T, S, A) float64, values V: (T, S) float64 (index 0 is the first step)
    Example: T = 1 gives Q = [r] and V = [log sum_a exp r].
    """
    rewards = check_rewards(rewards, transitions)
    backup_step = backup_function(backup)
    num_states, num_actions = rewards.shape
    # BEGIN SOLUTION (README 6.4)
    q_values = np.empty((horizon, num_states, num_actions))
    values = np.empty((horizon, num_states))
    q_values[-1] = rewards
    values[-1] = soft_max_value(q_values[-1])
    for t in reversed(range(horizon - 1)):
        q_values[t] = backup_step(rewards, transitions, values[t + 1])
        values[t] = soft_max_value(q_values[t])
    return q_values, values
    # END SOLUTION


def soft_optimal_policy(q_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The soft-optimal policy pi(a | s) = beta(s, a) / beta(s) = exp(Q(s, a) - V(s)).

    Works for one step (Q (S, A), V (S,)) or all steps at once (Q (T, S, A), V (T, S)). When V is
    the soft max of Q, every pi(. | s) sums to 1.

    q_values: (..., A); values: (...)   ->   policy: (..., A) float64
    Example: Q = [0, log 3], V = log 4 gives pi = [0.25, 0.75].
    """
    q_values, values = np.asarray(q_values, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if values.shape != q_values.shape[:-1]:
        raise ValueError(f"values must have shape {q_values.shape[:-1]} (q_values without the action axis), got {values.shape}")
    # BEGIN SOLUTION (README 6.5)
    return np.exp(q_values - values[..., None])
    # END SOLUTION


def backup_function(backup: str):
    """exact_backup for "exact", variational_backup for "variational"."""
    if backup == "exact":
        return exact_backup
    if backup == "variational":
        return variational_backup
    raise ValueError(f"backup must be one of {BACKUPS}, got {backup!r}")


def _check_next_values(next_values: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    next_values = np.asarray(next_values, dtype=np.float64)
    if next_values.shape != (transitions.shape[0],):
        raise ValueError(f"next_values must have shape ({transitions.shape[0]},) (one value per state), got {next_values.shape}")
    return next_values
