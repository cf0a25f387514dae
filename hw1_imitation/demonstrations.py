"""Demonstrations of a tabular policy: whole trajectories sampled in the real dynamics.

The expert of the inverse RL experiment is the soft-optimal policy of the true reward, so its
demonstrations are samples of p(tau | O_{0:T-1}) (exactly so with deterministic dynamics): mostly
good, sometimes a detour, as the lecture's model of human behavior says.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hw1_imitation.tabular_mdp import TabularMDP


@dataclass(frozen=True)
class Demonstrations:
    """N trajectories of length T: states[i, t] = s_t and actions[i, t] = a_t of trajectory i (int64)."""

    states: np.ndarray
    actions: np.ndarray

    def __post_init__(self) -> None:
        if self.states.ndim != 2 or self.states.shape != self.actions.shape:
            raise ValueError(f"states and actions must both be (N, T), got {self.states.shape} and {self.actions.shape}")

    def __len__(self) -> int:
        return self.states.shape[0]

    @property
    def horizon(self) -> int:
        return self.states.shape[1]


def sample_demonstrations(
    mdp: TabularMDP, policy: np.ndarray, num_trajectories: int, rng: np.random.Generator
) -> Demonstrations:
    """Roll out a time-dependent policy pi_t(a | s) `num_trajectories` times from p(s_0).

    policy: (T, S, A), policy[t, s] a distribution over actions; T must be mdp.horizon.
    """
    expected = (mdp.horizon, mdp.num_states, mdp.num_actions)
    if policy.shape != expected:
        raise ValueError(f"policy must have shape (T, S, A) = {expected}, got {policy.shape}")
    states = np.empty((num_trajectories, mdp.horizon), dtype=np.int64)
    actions = np.empty_like(states)
    current = sample_categorical(np.broadcast_to(mdp.initial_distribution, (num_trajectories, mdp.num_states)), rng)
    for t in range(mdp.horizon):
        states[:, t] = current
        actions[:, t] = sample_categorical(policy[t, current], rng)
        current = sample_categorical(mdp.transitions[current, actions[:, t]], rng)
    return Demonstrations(states, actions)


def sample_categorical(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of `probabilities` (N, K): indices (N,) int64."""
    cumulative = np.cumsum(probabilities, axis=1)
    draws = rng.random((len(probabilities), 1)) * cumulative[:, -1:]
    return np.minimum((draws >= cumulative).sum(axis=1), probabilities.shape[1] - 1).astype(np.int64)
