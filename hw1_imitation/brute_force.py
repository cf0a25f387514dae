"""Brute force over every trajectory of a tiny MDP: the definitions, without any message passing.

Used to check the message-passing answers on MDPs small enough to enumerate ((S * A)^T paths):

    Z               = sum_tau p(tau) exp(sum_t r(s_t, a_t)),   p(tau) = p(s_0) prod_t p(s_{t+1} | s_t, a_t)
    p(s_t, a_t | O) = sum over the tau through (s_t, a_t) of p(tau) exp(sum_t r) / Z
    p(s_t | O_{0:t-1}) from the weights p(tau) exp(sum_{k<t} r(s_k, a_k))
    soft objective of a policy q: E_{tau ~ q, p}[ sum_t r(s_t, a_t) - log q_t(a_t | s_t) ]

Actions carry no prior weight in p(tau) (the uniform prior folded into the constant, as in
soft_value_iteration.py), so log Z = log sum_s p(s_0 = s) exp V_0(s) with the exact backup.
"""
from __future__ import annotations

import numpy as np

from hw1_imitation.tabular_mdp import TabularMDP

MAX_TRAJECTORIES = 200_000


def enumerate_trajectories(mdp: TabularMDP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (s_0, a_0, ..., s_{T-1}, a_{T-1}) with p(s_0) prod p(s_{t+1}|s_t, a_t) > 0.

    ->  states (M, T) int64, actions (M, T) int64, dynamics probability p(tau) (M,) float64
    """
    if (mdp.num_states * mdp.num_actions) ** mdp.horizon > MAX_TRAJECTORIES * mdp.num_states:
        raise ValueError("this MDP has too many trajectories to enumerate: use a smaller one")
    (starts,) = np.nonzero(mdp.initial_distribution)
    states, actions = starts[:, None], np.empty((len(starts), 0), dtype=np.int64)
    probability = mdp.initial_distribution[starts]
    for t in range(mdp.horizon):
        # every path so far, extended by every action (and then, before the last step, every next state)
        paths, chosen = np.repeat(np.arange(len(states)), mdp.num_actions), np.tile(np.arange(mdp.num_actions), len(states))
        states, actions = states[paths], np.column_stack([actions[paths], chosen])
        probability = probability[paths]
        if t == mdp.horizon - 1:
            break
        next_probability = mdp.transitions[states[:, -1], chosen]  # (M, S)
        paths, next_states = np.nonzero(next_probability)
        states = np.column_stack([states[paths], next_states])
        actions, probability = actions[paths], probability[paths] * next_probability[paths, next_states]
    return states.astype(np.int64), actions.astype(np.int64), probability


def log_partition(rewards: np.ndarray, mdp: TabularMDP) -> float:
    """log Z = log sum_tau p(tau) exp(sum_t r(s_t, a_t))."""
    states, actions, probability = enumerate_trajectories(mdp)
    returns = rewards[states, actions].sum(axis=1)
    return float(_log_sum(np.log(probability) + returns))


def posterior_visitation(rewards: np.ndarray, mdp: TabularMDP) -> np.ndarray:
    """p(s_t = s, a_t = a | O_{0:T-1}) for every t: (T, S, A)."""
    states, actions, probability = enumerate_trajectories(mdp)
    weights = _normalized(np.log(probability) + rewards[states, actions].sum(axis=1))
    visitation = np.zeros((mdp.horizon, mdp.num_states, mdp.num_actions))
    for t in range(mdp.horizon):
        np.add.at(visitation[t], (states[:, t], actions[:, t]), weights)
    return visitation


def filtered_state_marginals(rewards: np.ndarray, mdp: TabularMDP) -> np.ndarray:
    """p(s_t = s | O_{0:t-1}) for every t: (T, S) (the forward messages, by definition)."""
    states, actions, probability = enumerate_trajectories(mdp)
    marginals = np.zeros((mdp.horizon, mdp.num_states))
    rewards_so_far = np.zeros(len(states))  # sum_{k<t} r(s_k, a_k); the steps after t add a constant
    for t in range(mdp.horizon):
        np.add.at(marginals[t], states[:, t], _normalized(np.log(probability) + rewards_so_far))
        rewards_so_far = rewards_so_far + rewards[states[:, t], actions[:, t]]
    return marginals


def soft_objective(policy: np.ndarray, rewards: np.ndarray, mdp: TabularMDP) -> float:
    """E_{tau ~ q}[sum_t r(s_t, a_t) + H(q_t(. | s_t))] of a time-dependent policy q: (T, S, A).

    The variational lower bound on log p(O_{0:T-1}) of the lecture, maximized by the soft-optimal
    policy of the variational backup (its value is then sum_s p(s_0 = s) V_0(s)).
    """
    states, actions, probability = enumerate_trajectories(mdp)
    steps = np.arange(mdp.horizon)
    chosen = policy[steps, states, actions]  # (M, T): q_t(a_t | s_t) along each path
    path_probability = probability * chosen.prod(axis=1)
    with np.errstate(divide="ignore"):
        log_chosen = np.where(chosen > 0, np.log(chosen), 0.0)  # never-taken actions add nothing
    per_path = rewards[states, actions].sum(axis=1) - log_chosen.sum(axis=1)
    return float(np.sum(path_probability * per_path))


def expected_return(policy: np.ndarray, rewards: np.ndarray, mdp: TabularMDP) -> float:
    """E_{tau ~ q}[sum_t r(s_t, a_t)] of a time-dependent policy q: (T, S, A), in the real dynamics."""
    states, actions, probability = enumerate_trajectories(mdp)
    path_probability = probability * policy[np.arange(mdp.horizon), states, actions].prod(axis=1)
    return float(np.sum(path_probability * rewards[states, actions].sum(axis=1)))


def _log_sum(log_terms: np.ndarray) -> float:
    largest = log_terms.max()
    return largest + np.log(np.exp(log_terms - largest).sum())


def _normalized(log_weights: np.ndarray) -> np.ndarray:
    return np.exp(log_weights - _log_sum(log_weights))
