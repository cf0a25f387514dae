"""Planning through a learned ensemble: scoring action sequences, random shooting, CEM and MPC.

Open-loop planning (lecture "Optimal control and planning") chooses a sequence A = (a_1, ..., a_H)
that maximizes its predicted return. With an ensemble of E models (lecture "Model-based RL",
planning with uncertainty) the return of A is averaged over the members:

    J(A) = (1/E) sum_{i=1}^{E} sum_{t=1}^{H} r(s_{t,i}, a_t, s_{t+1,i}),   s_{1,i} = s,  s_{t+1,i} = f_i(s_{t,i}, a_t)

Two optimizers of J:
    random shooting   sample N sequences uniformly in the action box, keep the best one
    CEM               sample N sequences from a Gaussian, refit the Gaussian to the best M
                      (the elites), repeat; the final mean is the plan

MPC executes only the FIRST action of the plan, observes the real next state and plans again from
there at every step, so the model's errors never accumulate over more than one real step.

Speed. Planning is where model-based RL spends its time. Every candidate goes through every member
at once: the state tensor is (E, N, obs_dim), one model call per horizon step, no Python loop over
members or candidates. Randomness comes only from the torch.Generator passed in, in the calls the
docstrings name, so a plan is reproducible from the generator's seed.

Shapes: N candidate sequences, H horizon, E members, d_s obs_dim, d_a act_dim.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from common.torch_utils import to_numpy, to_torch
from hw4_model_based.dynamics import EnsembleDynamics
from hw4_model_based.rewards import PlanningTask

ScoreFunction = Callable[[torch.Tensor], torch.Tensor]   # (N, H, d_a) action sequences -> (N,) scores


@dataclass
class PlannerConfig:
    """How MPC plans each action."""

    method: Literal["random_shooting", "cem"] = "random_shooting"
    horizon: int = 15             # H: steps planned ahead
    num_candidates: int = 1000    # N: sequences scored per (CEM) iteration
    cem_iterations: int = 4       # CEM: sample-evaluate-refit rounds per planned action
    num_elites: int = 50          # CEM: M, the best sequences the Gaussian is refit to
    cem_smoothing: float = 0.0    # CEM: weight kept on the previous mean and std (0: plain refit)
    # "bfloat16" runs the model's matrix products in bfloat16 (torch.autocast) while states and
    # rewards stay float32: about 2x faster on CPUs with bfloat16 instructions (recent x86 server
    # chips, Apple M2 and later) and on GPUs, but much SLOWER on CPUs without them.
    matmul_dtype: Literal["float32", "bfloat16"] = "float32"


# ---------------------------------------------------------------------------------------------
# The TODOs
# ---------------------------------------------------------------------------------------------


def evaluate_action_sequences(
    model: EnsembleDynamics,
    task: PlanningTask,
    obs: torch.Tensor,
    action_sequences: torch.Tensor,
) -> torch.Tensor:
    """J(A_n) for every candidate: each sequence rolled through each member, rewards summed over
    the horizon, then averaged over the members.

        s_{1,i} = obs for every member i
        s_{t+1,i} = model.predict_next_obs(s_{t,i}, a_t)          for t = 1..H
        J(A_n) = (1/E) sum_i sum_t alive_{t,i} * r(s_{t,i}, a_t, s_{t+1,i})

    alive_{t,i} is 1 until a step that task.termination flags and 0 after it: the reward of the
    step that terminates counts, the rewards of the (meaningless) steps after it do not. Keep the
    whole computation batched: one call of predict_next_obs per step on (E, N, ...) tensors, with
    the obs and each step's actions broadcast over the members (expand is free: no copy).

    model: E members; task: its reward(obs, actions, next_obs) and termination(next_obs) take
    (E, N, ...) tensors; obs: (d_s,); action_sequences: (N, H, d_a)  ->  (N,) float tensor
    """
    # BEGIN SOLUTION (README 4.1)
    num_sequences, horizon, _ = action_sequences.shape
    members = model.num_members
    states = obs.expand(members, num_sequences, obs.shape[-1])
    total = torch.zeros(members, num_sequences, device=action_sequences.device)
    alive = torch.ones(members, num_sequences, device=action_sequences.device)
    for t in range(horizon):
        actions = action_sequences[:, t].expand(members, num_sequences, action_sequences.shape[-1])
        next_states = model.predict_next_obs(states, actions)
        total = total + alive * task.reward(states, actions, next_states)
        alive = alive * (~task.termination(next_states)).float()
        states = next_states
    return total.mean(dim=0)
    # END SOLUTION


def random_shooting(
    score: ScoreFunction,
    action_low: torch.Tensor,
    action_high: torch.Tensor,
    horizon: int,
    num_candidates: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """The best of N sequences drawn uniformly from the action box.

        A_n = low + (high - low) * U_n,  U_n ~ Uniform[0, 1)^(H x d_a),   n = 1..N
        return A_{n*},  n* = argmax_n score(A_n)

    Draw all of U with ONE call, torch.rand((num_candidates, horizon, d_a), generator=generator,
    device=action_low.device), and nothing else from the generator.

    score: (N, H, d_a) -> (N,); action_low, action_high: (d_a,)  ->  the best sequence (H, d_a)
    """
    # BEGIN SOLUTION (README 4.2)
    uniform = torch.rand((num_candidates, horizon, len(action_low)), generator=generator, device=action_low.device)
    candidates = action_low + (action_high - action_low) * uniform
    return candidates[score(candidates).argmax()]
    # END SOLUTION


def cem(
    score: ScoreFunction,
    action_low: torch.Tensor,
    action_high: torch.Tensor,
    horizon: int,
    num_candidates: int,
    num_elites: int,
    iterations: int,
    smoothing: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """The cross-entropy method over action sequences; returns the final mean as the plan.

    Start from mean mu = (low + high) / 2 and std sigma = (high - low) / 2 at every step of the
    horizon, both (H, d_a). Then `iterations` times:

        1. A_n = clip(mu + sigma * eps_n, low, high),  eps_n ~ N(0, I),   n = 1..N
        2. score every A_n
        3. the elites: the num_elites sequences with the highest scores
        4. refit, per (step, action dimension), with the POPULATION std of the elites:
               mu    <- smoothing * mu    + (1 - smoothing) * mean(elites)
               sigma <- smoothing * sigma + (1 - smoothing) * std(elites)

    Draw each iteration's eps with ONE call, torch.randn((num_candidates, horizon, d_a),
    generator=generator, device=action_low.device), and nothing else from the generator.

    score: (N, H, d_a) -> (N,); action_low, action_high: (d_a,)  ->  mu (H, d_a)
    """
    # BEGIN SOLUTION (README 4.3)
    act_dim = action_low.shape[0]
    mean = ((action_low + action_high) / 2).expand(horizon, act_dim)
    std = ((action_high - action_low) / 2).expand(horizon, act_dim)
    for _ in range(iterations):
        noise = torch.randn((num_candidates, horizon, act_dim), generator=generator, device=action_low.device)
        candidates = torch.clamp(mean + std * noise, action_low, action_high)
        elites = candidates[torch.topk(score(candidates), num_elites).indices]
        mean = smoothing * mean + (1 - smoothing) * elites.mean(dim=0)
        std = smoothing * std + (1 - smoothing) * elites.std(dim=0, unbiased=False)
    return mean
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# The agent
# ---------------------------------------------------------------------------------------------


class MPCAgent:
    """Model predictive control: plan a sequence from the current observation, act its first action.

    model: the learned ensemble; task: the env's reward and termination functions; action_low,
    action_high: (d_a,) the env's action box; seed: seeds the planner's torch.Generator.
    """

    def __init__(self, model: EnsembleDynamics, task: PlanningTask, action_low: np.ndarray,
                 action_high: np.ndarray, config: PlannerConfig, seed: int = 0):
        self.model, self.task, self.config = model, task, config
        self.device = model.obs_mean.device
        self.action_low = to_torch(action_low, self.device)
        self.action_high = to_torch(action_high, self.device)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)

    @torch.inference_mode()
    def plan(self, obs: np.ndarray) -> torch.Tensor:
        """An action sequence (H, d_a) for the state `obs` (d_s,), by the configured method."""
        obs = to_torch(obs, self.device)
        config = self.config

        def score(action_sequences: torch.Tensor) -> torch.Tensor:
            return evaluate_action_sequences(self.model, self.task, obs, action_sequences)

        if config.method not in ("random_shooting", "cem"):
            raise ValueError(f"unknown planning method {config.method!r}: use 'random_shooting' or 'cem'")
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=config.matmul_dtype == "bfloat16"):
            if config.method == "random_shooting":
                return random_shooting(score, self.action_low, self.action_high, config.horizon,
                                       config.num_candidates, self.generator)
            return cem(score, self.action_low, self.action_high, config.horizon, config.num_candidates,
                       config.num_elites, config.cem_iterations, config.cem_smoothing, self.generator)

    def state_dict(self) -> dict:
        """What MPC learns is its model: the ensemble's weights and normalization statistics."""
        return self.model.state_dict()

    def get_action(self, obs: np.ndarray) -> np.ndarray:
        """The action to take now in state `obs` (d_s,): the first action of a fresh plan -> (d_a,).

        MPC replans at EVERY call, from the observation it is given: never keep a plan from an
        earlier call and play its later actions. Call self.plan once.
        """
        # BEGIN SOLUTION (README 4.4)
        return to_numpy(self.plan(obs)[0])
        # END SOLUTION
