"""The two-ways task of part 3: a point passes a round obstacle on the left or on the right (given code).

A point starts just below a disc-shaped obstacle and must reach a goal above it. The expert flips a
fair coin in every episode and passes the obstacle on the left or on the right; both are equally
good. The demonstrations are therefore **bimodal**: at the start the expert's action is "up-left"
in half of them and "up-right" in the other half, never "straight up", which is what the mean of
the two is, and straight up is where the obstacle is.

    observation   the position (x, y), float32 (2,)
    action        the displacement in units of STEP_SIZE: position += STEP_SIZE * action, after the
                  action's norm is clipped to MAX_ACTION_NORM (an action of norm 1 moves one step)
    start         (0, y0) with y0 uniform in [-START_NOISE, START_NOISE]
    success       within GOAL_RADIUS of GOAL (reward 1, terminated)
    collision     inside the obstacle (reward 0, terminated); a time-out after MAX_EPISODE_STEPS
                  steps (truncated) is a failure too

The same arithmetic runs one episode at a time (`TwoWaysEnv`, a Gymnasium env registered as
TWO_WAYS_ID) and many episodes at once (`step_positions`, which the experiments use to evaluate a
policy on 100 episodes in one batch). Everything is numpy and takes microseconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from common.envs import register_project_env

TWO_WAYS_ID = "hw1/TwoWays-v0"

OBSTACLE_CENTER = np.array([0.0, 1.4])
OBSTACLE_RADIUS = 0.8
GOAL = np.array([0.0, 3.0])
GOAL_RADIUS = 0.4
STEP_SIZE = 0.2
MAX_ACTION_NORM = 2.0
START_NOISE = 0.2
MAX_EPISODE_STEPS = 40
# The expert heads for the waypoint on its side of the obstacle, then for the goal.
WAYPOINT = np.array([1.6, 1.4])     # the right one; the left one is its mirror image (-1.6, 1.4)
EXPERT_ACTION_NOISE = 0.1           # std of the Gaussian noise on each coordinate of the expert's action
LEFT, RIGHT = -1, 1


def sample_starts(num: int, rng: np.random.Generator) -> np.ndarray:
    """(num, 2) start positions (0, y0), y0 uniform in [-START_NOISE, START_NOISE]."""
    starts = np.zeros((num, 2))
    starts[:, 1] = rng.uniform(-START_NOISE, START_NOISE, size=num)
    return starts


def clip_actions(actions: np.ndarray) -> np.ndarray:
    """(..., 2) actions with their norm clipped to MAX_ACTION_NORM (directions unchanged)."""
    norms = np.linalg.norm(actions, axis=-1, keepdims=True)
    return actions * np.minimum(1.0, MAX_ACTION_NORM / np.maximum(norms, 1e-12))


def inside_obstacle(positions: np.ndarray) -> np.ndarray:
    """(..., 2) -> (...,) bool: True inside (or on the edge of) the obstacle."""
    return np.linalg.norm(positions - OBSTACLE_CENTER, axis=-1) <= OBSTACLE_RADIUS


def at_goal(positions: np.ndarray) -> np.ndarray:
    """(..., 2) -> (...,) bool: True within GOAL_RADIUS of the goal."""
    return np.linalg.norm(positions - GOAL, axis=-1) <= GOAL_RADIUS


def step_positions(positions: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of many episodes: (B, 2) positions and actions -> new positions (B, 2), collided (B,), reached (B,).

    A position that lands in the obstacle collides, even if it also lies within the goal's radius
    (it cannot: they are apart); the obstacle is checked at the positions the point lands on.
    """
    new_positions = positions + STEP_SIZE * clip_actions(np.asarray(actions, dtype=np.float64))
    return new_positions, inside_obstacle(new_positions), at_goal(new_positions)


def expert_actions(positions: np.ndarray, sides: np.ndarray, passed: np.ndarray) -> np.ndarray:
    """The expert's noiseless actions: unit vectors towards its side's waypoint, then towards the goal.

    positions (B, 2); sides (B,) LEFT (-1) or RIGHT (+1); passed (B,) bool, True once the expert has
    reached its waypoint (within one step)  ->  (B, 2) actions of norm 1 (shorter for the last step).
    """
    waypoints = WAYPOINT * np.stack([sides, np.ones_like(sides)], axis=1)
    targets = np.where(passed[:, None], GOAL, waypoints)
    offsets = (targets - positions) / STEP_SIZE
    return clip_to_unit(offsets)


def clip_to_unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1.0)


@dataclass
class Demonstrations:
    """The expert's demonstrations, flattened into (observation, action) pairs for supervised learning.

    observations, actions: (M, 2) float32, every step of every demonstration;
    paths: (N, L + 1, 2) positions of each demonstration, padded with its last position (L steps at most);
    sides: (N,) LEFT or RIGHT.
    """

    observations: np.ndarray
    actions: np.ndarray
    paths: np.ndarray
    sides: np.ndarray


def make_demonstrations(num: int, rng: np.random.Generator) -> Demonstrations:
    """`num` (even) expert demonstrations, half of them on each side: each is the mirror image of another.

    Mirrored pairs make the data exactly symmetric, so "left" and "right" are equally likely at
    every start, as a fair coin would make them on average. The expert's actions carry Gaussian
    noise (EXPERT_ACTION_NOISE per coordinate), and every demonstration succeeds.
    """
    if num < 2 or num % 2:
        raise ValueError(f"num must be a positive even number (mirrored pairs), got {num}")
    half = num // 2
    starts = sample_starts(half, rng)
    noise = rng.normal(scale=EXPERT_ACTION_NOISE, size=(MAX_EPISODE_STEPS, half, 2))
    mirror = np.array([-1.0, 1.0])
    positions = np.concatenate([starts, starts * mirror])
    noise = np.concatenate([noise, noise * mirror], axis=1)
    sides = np.concatenate([np.full(half, RIGHT), np.full(half, LEFT)])
    passed = np.zeros(num, bool)
    active = np.ones(num, bool)
    observations, actions, paths = [], [], [positions.copy()]
    for t in range(MAX_EPISODE_STEPS):
        clean = expert_actions(positions, sides, passed)
        action = clean + noise[t]
        observations.append(positions[active])
        actions.append(action[active])
        new_positions, collided, reached = step_positions(positions, action)
        positions = np.where(active[:, None], new_positions, positions)
        if np.any(collided & active):
            raise RuntimeError("an expert demonstration hit the obstacle: the expert's noise is too large")
        waypoints = WAYPOINT * np.stack([sides, np.ones(num)], axis=1)
        passed |= np.linalg.norm(positions - waypoints, axis=-1) <= STEP_SIZE
        active &= ~reached
        paths.append(positions.copy())
        if not active.any():
            break
    if active.any():
        raise RuntimeError("an expert demonstration did not reach the goal in time")
    return Demonstrations(np.concatenate(observations).astype(np.float32), np.concatenate(actions).astype(np.float32),
                          np.stack(paths, axis=1), sides)


class TwoWaysEnv(gym.Env):
    """One episode of the two-ways task as a Gymnasium env (see the module docstring)."""

    metadata = {"render_modes": []}

    def __init__(self):
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-MAX_ACTION_NORM, MAX_ACTION_NORM, shape=(2,), dtype=np.float32)
        self._position = np.zeros(2)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._position = sample_starts(1, self.np_random)[0]
        return self._position.astype(np.float32), {}

    def step(self, action):
        positions, collided, reached = step_positions(self._position[None], np.asarray(action)[None])
        self._position = positions[0]
        info = {"success": bool(reached[0]), "collision": bool(collided[0])}
        return self._position.astype(np.float32), float(reached[0]), bool(collided[0] or reached[0]), False, info


register_project_env(TWO_WAYS_ID, TwoWaysEnv, max_episode_steps=MAX_EPISODE_STEPS)
