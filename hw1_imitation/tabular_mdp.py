"""A finite-horizon MDP with known dynamics, stored as arrays (the setting of the soft optimality lectures).

    S states, A actions, horizon T (time steps t = 0 .. T-1 in code, t = 1 .. T in the lecture)
    transitions[s, a, s'] = p(s' | s, a)            (S, A, S), each transitions[s, a] sums to 1
    initial_distribution[s] = p(s_0 = s)            (S,), sums to 1
    rewards[s, a] = r(s, a)                         (S, A), the same at every time step

A trajectory visits s_0, a_0, s_1, a_1, ..., s_{T-1}, a_{T-1}: T states and T actions, T rewards.
Rewards are not part of the MDP object because inverse RL changes them while the dynamics stay.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TabularMDP:
    """Known dynamics of a finite MDP. See the module docstring for the shapes."""

    transitions: np.ndarray
    initial_distribution: np.ndarray
    horizon: int
    state_names: tuple[str, ...] | None = None
    action_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_dynamics(self.transitions, self.initial_distribution, self.horizon)

    @property
    def num_states(self) -> int:
        return self.transitions.shape[0]

    @property
    def num_actions(self) -> int:
        return self.transitions.shape[1]

    @property
    def deterministic(self) -> bool:
        """True when every (s, a) leads to one next state with probability 1."""
        return bool(np.all(self.transitions.max(axis=2) == 1.0))


def check_dynamics(transitions: np.ndarray, initial_distribution: np.ndarray, horizon: int) -> None:
    """Raise a ValueError that says what to fix when the arrays do not describe an MDP."""
    if transitions.ndim != 3 or transitions.shape[0] != transitions.shape[2]:
        raise ValueError(f"transitions must have shape (S, A, S), got {transitions.shape}")
    if np.any(transitions < 0) or not np.allclose(transitions.sum(axis=2), 1.0):
        raise ValueError("every transitions[s, a] must be a probability distribution over next states (>= 0, sums to 1)")
    if initial_distribution.shape != (transitions.shape[0],):
        raise ValueError(
            f"initial_distribution must have shape ({transitions.shape[0]},) (one entry per state), "
            f"got {initial_distribution.shape}"
        )
    if np.any(initial_distribution < 0) or not np.isclose(initial_distribution.sum(), 1.0):
        raise ValueError("initial_distribution must be a probability distribution (>= 0, sums to 1)")
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a whole number >= 1, got {horizon}")


def check_rewards(rewards: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """rewards as float64 (S, A); a ValueError naming the expected shape otherwise."""
    rewards = np.asarray(rewards, dtype=np.float64)
    expected = transitions.shape[:2]
    if rewards.shape != expected:
        raise ValueError(f"rewards must have shape (S, A) = {expected}, got {rewards.shape}")
    return rewards


def random_mdp(
    num_states: int, num_actions: int, horizon: int, rng: np.random.Generator, deterministic: bool = False
) -> TabularMDP:
    """A random MDP to test with: Dirichlet transitions (or one random next state per (s, a)) and p(s_0)."""
    if deterministic:
        transitions = np.eye(num_states)[rng.integers(num_states, size=(num_states, num_actions))]
    else:
        transitions = rng.dirichlet(np.ones(num_states), size=(num_states, num_actions))
    return TabularMDP(transitions, rng.dirichlet(np.ones(num_states)), horizon)
