"""Model-based policy optimization (MBPO, Janner et al. 2019): SAC trained mostly on model data.

Lecture "Model-based policy learning" (Dyna-style algorithms, model-based RL "version 3.0").

A learned model is only trusted for a few steps (its errors compound, section 3.6), so MBPO never
plans far with it. Instead it makes short rollouts of the current policy under the model, BRANCHED
from states the real environment visited, and lets SAC learn from them as if they were real:

    every `model_train_every` env steps:
        fit the ensemble to the real data D_env
        draw B start states s_0 from D_env; roll the policy for k steps under the model:
            a_t ~ pi(.|s_t),  s_{t+1} = f_{theta_m}(s_t, a_t) with a member m drawn at random per step,
            r_t = r(s_t, a_t, s_{t+1}),  stop a rollout once it terminates
        add all those transitions to the model buffer D_model
    every env step: `gradient_steps` SAC updates, each on a batch that is a fraction `real_ratio`
        real transitions from D_env and the rest model transitions from D_model

The rollouts start from real states so that the model is used only near data it was fitted to,
and they stop after k steps (the model horizon) before the model's errors grow large.

The SAC agent is homework 3's reference (hw3_qlearning_ac.sac.SACAgent); the training loop is in
hw4_model_based/mbpo_training.py.

Shapes: B rollouts, k model horizon, E members, d_s obs_dim, d_a act_dim.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from common.replay_buffer import ReplayBuffer
from common.rollouts import Transitions, concatenate
from common.torch_utils import to_numpy, to_torch
from hw4_model_based.dynamics import EnsembleDynamics
from hw4_model_based.rewards import PlanningTask

Policy = Callable[[np.ndarray], np.ndarray]   # observations (B, d_s) -> actions (B, d_a), numpy


@torch.no_grad()
def branched_rollouts(
    model: EnsembleDynamics,
    task: PlanningTask,
    policy: Policy,
    real_buffer: ReplayBuffer,
    num_rollouts: int,
    horizon: int,
    rng: np.random.Generator,
    generator: torch.Generator,
) -> Transitions:
    """k-step rollouts of `policy` under the model, branched from states of the REAL buffer.

    1. s_0: the observations of real_buffer.sample(num_rollouts, rng) (one call).
    2. For t = 0..k-1, over the rollouts still running:
         a_t = policy(s_t)                                   (numpy in and out)
         every member predicts s_{t+1} from (s_t, a_t) (one predict_next_obs call on (E, B, ...)),
         and each rollout keeps the prediction of ONE member, drawn uniformly per rollout and
         step with one call torch.randint(E, (B_t,), generator=generator, device=...)
         (B_t: the number of rollouts still running);
         r_t = task.reward(s_t, a_t, s_{t+1}),  terminated_t = task.termination(s_{t+1})
       A rollout that terminates at step t contributes that step and stops.
    3. Return all the transitions, step by step (all of step 0, then those of step 1, ...), as one
       Transitions of numpy arrays: terminated as computed, truncated True on the last step (t = k-1)
       of every rollout that did not terminate (the model horizon cut it), False elsewhere.

    -> Transitions with at most num_rollouts * horizon transitions
    """
    # BEGIN SOLUTION (README 5.1)
    device = model.obs_mean.device
    states = to_torch(real_buffer.sample(num_rollouts, rng).observations, device)
    steps = []
    for t in range(horizon):
        actions = to_torch(policy(to_numpy(states)), device)
        count = len(states)
        predictions = model.predict_next_obs(states.expand(model.num_members, *states.shape),
                                             actions.expand(model.num_members, *actions.shape))
        members = torch.randint(model.num_members, (count,), generator=generator, device=device)
        next_states = predictions[members, torch.arange(count, device=device)]
        rewards = task.reward(states, actions, next_states)
        terminated = task.termination(next_states)
        truncated = torch.full_like(terminated, t == horizon - 1) & ~terminated
        steps.append(Transitions(*(to_numpy(x) for x in (states, actions, rewards, next_states, terminated, truncated))))
        states = next_states[~terminated]
        if len(states) == 0:
            break
    return concatenate(steps)
    # END SOLUTION


def sample_mixed_batch(
    real_buffer: ReplayBuffer,
    model_buffer: ReplayBuffer,
    batch_size: int,
    real_ratio: float,
    rng: np.random.Generator,
) -> Transitions:
    """One SAC batch: round(real_ratio * batch_size) real transitions, the rest model transitions.

    Draw the real part with real_buffer.sample(n_real, rng), THEN the model part with
    model_buffer.sample(batch_size - n_real, rng), and concatenate them in that order (real first).
    When the model buffer is still empty, take the whole batch from the real buffer.

    -> Transitions of batch_size transitions
    """
    # BEGIN SOLUTION (README 5.2)
    n_real = batch_size if len(model_buffer) == 0 else int(round(real_ratio * batch_size))
    parts = [real_buffer.sample(n_real, rng)]
    if n_real < batch_size:
        parts.append(model_buffer.sample(batch_size - n_real, rng))
    return concatenate(parts)
    # END SOLUTION
