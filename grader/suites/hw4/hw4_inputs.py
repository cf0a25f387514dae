"""Inputs shaped like homework 4's real runs, and the twin (reference, student) objects the tests compare.

Obstacles data come from the course's own env stepped with random actions; HalfCheetah-shaped data
(18 observation entries of very different scales, 6 actions) are drawn around a random state, as a
replay buffer of a real run would hold them. Every number comes from the test's `rng`.
"""
from __future__ import annotations

import numpy as np
import torch

from grader.harness.api import check_array
from hw4_model_based.dynamics import EnsembleDynamics, normalization_stats
from hw4_model_based.envs import OBSTACLES_ID, GOAL

ENSEMBLE = "hw4_model_based.dynamics.EnsembleDynamics"
OBSTACLES_DIMS = (2, 2)
CHEETAH_DIMS = (18, 6)


def obstacles_transitions(rng, n):
    """n transitions of the obstacles course under random actions (episodes restarted as the env does)."""
    import gymnasium as gym
    import hw4_model_based.envs  # noqa: F401  registers the env
    env = gym.make(OBSTACLES_ID)
    obs, _ = env.reset(seed=int(rng.integers(1 << 30)))
    data = [[], [], []]
    for _ in range(n):
        action = rng.uniform(-1, 1, size=2).astype(np.float32)
        next_obs, _, terminated, truncated, _ = env.step(action)
        for column, value in zip(data, (obs, action, next_obs)):
            column.append(np.asarray(value, np.float32))
        obs = env.reset()[0] if terminated or truncated else next_obs
    env.close()
    return tuple(np.stack(column) for column in data)


def cheetah_transitions(rng, n):
    """n HalfCheetah-shaped transitions: scales from 0.05 to 10 per entry, small deltas, actions in [-1, 1]."""
    obs_dim, act_dim = CHEETAH_DIMS
    scales = np.exp(rng.uniform(np.log(0.05), np.log(10.0), size=obs_dim))
    observations = (rng.normal(size=obs_dim) * scales + rng.normal(size=(n, obs_dim)) * scales).astype(np.float32)
    actions = rng.uniform(-1, 1, size=(n, act_dim)).astype(np.float32)
    drift = rng.normal(size=(obs_dim, act_dim)) * 0.1 * scales[:, None]
    deltas = actions @ drift.T + rng.normal(size=(n, obs_dim)) * 0.05 * scales
    return observations, actions, (observations + deltas).astype(np.float32)


def transitions(rng, env, n):
    return obstacles_transitions(rng, n) if env == "obstacles" else cheetah_transitions(rng, n)


def state_of(module):
    return {name: value.detach().numpy().copy() for name, value in module.state_dict().items()}


def twin_ensembles(submission, rng, env, num_members=None, data=None):
    """A reference ensemble with random weights and the statistics of realistic data, and the student's
    EnsembleDynamics holding the same weights and statistics."""
    obs_dim, act_dim = OBSTACLES_DIMS if env == "obstacles" else CHEETAH_DIMS
    num_members = int(rng.integers(2, 6)) if num_members is None else num_members
    hidden = [int(rng.integers(16, 48))] * int(rng.integers(1, 3))
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = EnsembleDynamics(obs_dim, act_dim, num_members, hidden)
    data = transitions(rng, env, int(rng.integers(200, 400))) if data is None else data
    local.set_normalization(normalization_stats(*data))
    student = submission.new(ENSEMBLE, obs_dim, act_dim, num_members, hidden)
    submission.set_state(student, state_of(local))
    return local, student


def worker_tensor(submission, array):
    return submission.new("torch.as_tensor", np.asarray(array))


def torch_generator(submission, seed):
    """A seeded torch.Generator in the worker (and its twin here)."""
    local = torch.Generator()
    local.manual_seed(seed)
    return local, submission.new("torch.Generator").new_from("manual_seed", seed)


def near_goal_states(rng, n):
    """Obstacles states a few steps from the goal, so that planned or model rollouts terminate."""
    return np.clip(GOAL + rng.uniform(-0.2, 0.05, size=(n, 2)), 0, 1).astype(np.float32)


def remote_transitions_fields(obj, n, obs_dim, act_dim, what):
    """The six arrays of a student's Transitions, each checked (n: expected length, None: any)."""
    shapes = dict(observations=(n, obs_dim), actions=(n, act_dim), rewards=(n,), next_observations=(n, obs_dim),
                  terminated=(n,), truncated=(n,))
    out = {}
    for name, shape in shapes.items():
        kind = "bool" if name in ("terminated", "truncated") else "float"
        out[name] = check_array(obj.attr(name), f"{what}.{name}", shape=shape, dtype=kind)
    return out
