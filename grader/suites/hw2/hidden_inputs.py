"""Random inputs for the hw2 hidden tests, shaped like what a real rollout produces.

Every input comes from the test's `rng` (new on every grading run). A flat batch is episodes laid end
to end (common.rollouts): each ends terminated, truncated, or both (a time limit on a terminal step;
termination wins). Values are consistent as a critic would make them: inside an episode
next_values[t] == values[t + 1] (both are V(s_{t+1})); at an episode's last step next_values is
V of that episode's final observation, which has nothing to do with values[t + 1] (the first
observation of the next episode) and is not 0 after a termination either (the critic does not know
the episode ended). So an estimator may read V(s_{t+1}) from values[t + 1] inside an episode or from
next_values: both readings are right on a real batch, and both score full marks.
"""
from __future__ import annotations

import numpy as np

ENDINGS = ("terminated", "truncated", "both")


def episode_flags(rng: np.random.Generator, num_episodes: int = 8, max_length: int = 12,
                  min_length: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """terminated, truncated (N,) for episodes of random lengths; every ending kind occurs at least once."""
    lengths = rng.integers(min_length, max_length + 1, size=num_episodes)
    endings = np.array([ENDINGS[k % 3] for k in range(num_episodes)])
    rng.shuffle(endings)
    n = int(lengths.sum())
    terminated, truncated = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for end, ending in zip(np.cumsum(lengths) - 1, endings):
        terminated[end] = ending in ("terminated", "both")
        truncated[end] = ending in ("truncated", "both")
    return terminated, truncated


def consistent_values(rng: np.random.Generator, terminated: np.ndarray, truncated: np.ndarray,
                      scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """values V(s_t) and next_values V(s_{t+1}) (N,) as a critic evaluates them on a real batch."""
    n = len(terminated)
    values = rng.normal(0.0, scale, size=n).astype(np.float32)
    next_values = np.append(values[1:], 0.0).astype(np.float32)
    ends = terminated | truncated
    next_values[ends] = rng.normal(0.0, scale, size=int(ends.sum())).astype(np.float32)
    return values, next_values


def random_batch(rng: np.random.Generator, num_episodes: int = 8, max_length: int = 12):
    """rewards, values, next_values, terminated, truncated of a random flat batch."""
    terminated, truncated = episode_flags(rng, num_episodes, max_length)
    rewards = rng.normal(size=len(terminated)).astype(np.float32)
    values, next_values = consistent_values(rng, terminated, truncated)
    return rewards, values, next_values, terminated, truncated


def random_gamma(rng: np.random.Generator, low: float = 0.8, high: float = 0.99) -> float:
    return round(float(rng.uniform(low, high)), 3)


def observation_batch(rng: np.random.Generator, terminated: np.ndarray, truncated: np.ndarray, obs_dim: int):
    """observations and next_observations (N, obs_dim): next_observations[t] == observations[t + 1]
    inside an episode, a final observation of its own at each episode end."""
    n = len(terminated)
    observations = rng.normal(size=(n, obs_dim)).astype(np.float32)
    next_observations = np.roll(observations, -1, axis=0)
    ends = terminated | truncated
    next_observations[ends] = rng.normal(size=(int(ends.sum()), obs_dim)).astype(np.float32)
    return observations, next_observations
