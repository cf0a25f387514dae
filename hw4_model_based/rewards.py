"""Rewards and terminations of the planning tasks, as batched functions a planner can call.

A planner scores an action sequence by rolling it through the learned model and adding up rewards,
so it needs the reward as a function it can evaluate on predicted states. In the lecture that is
r(s_t, a_t). The tasks here compute a step's reward from where the step ENDS (the distance of the
fingertip to the target after the step, the distance moved during the step), so every function
takes the step's next observation too:

    reward(obs, actions, next_obs) -> rewards       r_t = r(s_t, a_t, s_{t+1}),  s_{t+1} = f(s_t, a_t)
    termination(next_obs)          -> terminated    True where s_{t+1} ends the episode

Shapes: obs, next_obs (..., obs_dim), actions (..., act_dim) -> (...,), for any leading axes, e.g.
(E, N) for N candidate sequences under E ensemble members. Every function works on numpy arrays
and on torch tensors alike (it only uses arithmetic, indexing and `.sum(-1)`), and returns the
same kind it was given.

Each reward equals the environment's own reward on the same transition (up to float rounding):
- hw4/Obstacles-v0: -|| s_{t+1} - goal ||; terminates within GOAL_RADIUS of the goal.
- hw4/HalfCheetah-v5: forward velocity of the step (observation entry 17, added by the env's
  wrapper, see hw4_model_based.envs) - 0.1 ||a||^2; never terminates (500-step episodes).
- Reacher-v5: -|| fingertip - target || - ||a||^2, the fingertip-to-target vector being
  observation entries 8-9 after the step (the arm moves in a plane, so its third entry, which the
  observation leaves out, is 0); never terminates (50-step episodes).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from hw4_model_based.envs import GOAL, GOAL_RADIUS, HALFCHEETAH_ID, OBSTACLES_ID, REACHER_ID

HALFCHEETAH_CTRL_COST_WEIGHT = 0.1   # HalfCheetah-v5's default ctrl_cost_weight
REACHER_CTRL_COST_WEIGHT = 1.0       # Reacher-v5's default reward_control_weight
HALFCHEETAH_STEP_VELOCITY = 17       # observation entry added by hw4_model_based.envs
REACHER_FINGERTIP_TO_TARGET = slice(8, 10)


def _never(next_obs):
    """All-False flags of shape next_obs.shape[:-1], as a bool array or tensor like next_obs."""
    if isinstance(next_obs, torch.Tensor):
        return torch.zeros(next_obs.shape[:-1], dtype=torch.bool, device=next_obs.device)
    return np.zeros(np.shape(next_obs)[:-1], dtype=bool)


def _norm(vectors):
    """Euclidean norm over the last axis, for arrays and tensors."""
    return (vectors ** 2).sum(-1) ** 0.5


def obstacles_distance_to_goal(positions):
    """(..., 2) positions -> (...,) distance to the goal."""
    dx, dy = positions[..., 0] - float(GOAL[0]), positions[..., 1] - float(GOAL[1])
    return (dx ** 2 + dy ** 2) ** 0.5


def obstacles_reward(obs, actions, next_obs):
    """-|| s_{t+1} - goal ||: (..., 2), (..., 2), (..., 2) -> (...,)."""
    return -obstacles_distance_to_goal(next_obs)


def obstacles_termination(next_obs):
    """True where s_{t+1} lies within GOAL_RADIUS of the goal: (..., 2) -> (...,) bool."""
    return obstacles_distance_to_goal(next_obs) < GOAL_RADIUS


def halfcheetah_reward(obs, actions, next_obs):
    """Forward velocity of the step - 0.1 ||a||^2: (..., 18), (..., 6), (..., 18) -> (...,)."""
    return next_obs[..., HALFCHEETAH_STEP_VELOCITY] - HALFCHEETAH_CTRL_COST_WEIGHT * (actions ** 2).sum(-1)


def halfcheetah_termination(next_obs):
    """HalfCheetah never terminates: (..., 18) -> (...,) all False."""
    return _never(next_obs)


def reacher_reward(obs, actions, next_obs):
    """-|| fingertip - target || after the step - ||a||^2: (..., 10), (..., 2), (..., 10) -> (...,)."""
    distance = _norm(next_obs[..., REACHER_FINGERTIP_TO_TARGET])
    return -distance - REACHER_CTRL_COST_WEIGHT * (actions ** 2).sum(-1)


def reacher_termination(next_obs):
    """Reacher never terminates: (..., 10) -> (...,) all False."""
    return _never(next_obs)


@dataclass(frozen=True)
class PlanningTask:
    """What a planner needs to know about an env besides its learned model."""

    reward: Callable
    termination: Callable


PLANNING_TASKS = {
    OBSTACLES_ID: PlanningTask(obstacles_reward, obstacles_termination),
    HALFCHEETAH_ID: PlanningTask(halfcheetah_reward, halfcheetah_termination),
    REACHER_ID: PlanningTask(reacher_reward, reacher_termination),
}


def planning_task(env_id: str) -> PlanningTask:
    """The reward and termination functions of `env_id` (one of PLANNING_TASKS)."""
    if env_id not in PLANNING_TASKS:
        raise ValueError(f"no reward function for env {env_id!r}: planning works on {sorted(PLANNING_TASKS)}")
    return PLANNING_TASKS[env_id]
