"""Inputs shaped like homework 5's real runs, and the twin (reference, student) objects the tests compare.

Mini-batches are drawn (with the test's `rng`) from the datasets the course ships: PointMass
transitions as an exploration run stores them, observations in [0, 1]^2, rewards -1 (0 at the
goal, which terminates), some episodes truncated by the time limit. Twins hold the same weights and
fresh Adam optimizers, so an update can be compared number by number.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from common.replay_buffer import ReplayBuffer
from grader.harness.twins import (  # noqa: F401 (the tests import them from here)
    assert_same_parameters, remote_tensor, state_of, student_parameters, with_prefix)
from hw5_exploration_offline.make_datasets import DEFAULT_OUT, DEFAULT_STEPS, dataset_name
from hw5_exploration_offline.pointmass import MAZES

OBS_DIM, NUM_ACTIONS = 2, 4
TRANSITION_FIELDS = ("observations", "actions", "rewards", "next_observations", "terminated", "truncated")


@lru_cache(maxsize=None)
def shipped(maze: str, method: str) -> ReplayBuffer:
    return ReplayBuffer.load(DEFAULT_OUT / dataset_name(maze, method, DEFAULT_STEPS))


def dataset_batch(rng: np.random.Generator, n: int, maze: str | None = None, method: str | None = None) -> dict:
    """The fields of common.rollouts.Transitions for n transitions of a shipped dataset (a replay sample).

    Of the datasets that reached the goal (all but Medium's random walk), unless maze and method are
    given; the batch holds a few goal transitions (terminated) and a few truncated ones, so that every
    flag occurs."""
    if maze is None or method is None:
        choices = [(m, k) for m in MAZES for k in ("random", "rnd") if shipped(m, k).terminated.any()]
        maze, method = choices[int(rng.integers(len(choices)))]
    buffer = shipped(maze, method)
    size = len(buffer)
    rows = rng.integers(0, size, size=n)
    position = 0
    for flag in (buffer.terminated[:size], buffer.truncated[:size]):
        where = np.flatnonzero(flag)
        for row in rng.choice(where, size=min(3, len(where), n // 4), replace=False) if len(where) else ():
            rows[position] = row
            position += 1
    rng.shuffle(rows)
    return {name: getattr(buffer, name)[rows].copy() for name in TRANSITION_FIELDS}


def visited_states(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 2) float32 observations of a shipped dataset (states an exploration run visited)."""
    return dataset_batch(rng, n)["next_observations"]


def q_table(rng: np.random.Generator, n: int, scale: float | None = None) -> np.ndarray:
    """(n, 4) float32 Q-values as a maze critic outputs them: rewards of -1 per step put a state's value
    between about -100 and 0, spread over the actions (an offline critic overestimates some of them)."""
    scale = float(rng.uniform(0.5, 10.0)) if scale is None else scale
    state_values = rng.uniform(-100.0, 0.0, size=(n, 1))
    return (state_values + rng.normal(0.0, scale, size=(n, NUM_ACTIONS))).astype(np.float32)


def probabilities(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 4) float32 rows of pi(.|s) as a softmax actor gives them: positive, summing to 1, some peaked."""
    logits = rng.normal(0.0, rng.uniform(0.3, 4.0), size=(n, NUM_ACTIONS))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


def seeded(rng: np.random.Generator) -> None:
    torch.manual_seed(int(rng.integers(1 << 30)))

