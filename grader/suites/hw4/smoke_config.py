"""The smoke-training config the hidden suite gives the student's `run.train`, and how its threshold was measured.

    nice -n 10 python -m grader.suites.hw4.smoke_config --seeds 0-9     # measure the reference

For each training seed: train the reference with SMOKE_CONFIG (hw4_model_based/configs/smoke.yaml:
1000 random steps, then 4 iterations of fitting the ensemble and 100 MPC steps), then load the trained
ensemble into the harness's own EnsembleDynamics, plan with the reference MPCAgent (planner seeded
with the evaluation seed) and play EVAL_EPISODES obstacles episodes in fresh environments seeded
seed, seed + 1, ...; print the mean return and the training CPU time. The hidden test draws its
training and evaluation seeds at random on every grading run, so its threshold must sit below the
whole measured spread (test_training.py records it).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from grader.harness.smoke import measure_reference, play_episodes, seed_range

SMOKE_CONFIG = {
    "exp_name": "smoke",
    "env_id": "hw4/Obstacles-v0",
    "seed": 0,
    "initial_random_steps": 1000,
    "num_iterations": 4,
    "steps_per_iteration": 100,
    "progress_bar": False,
    # no time_budget_s: the budget is env steps, so a loaded grading machine trains exactly as far
    "planner": {"method": "random_shooting", "horizon": 15, "num_candidates": 500},
    "dynamics": {"num_members": 3, "hidden_sizes": [64, 64], "num_epochs": 20},
}
EVAL_EPISODES = 3
EVAL_SEED = 12345


def harness_model(state: dict):
    """The course's EnsembleDynamics at the smoke settings holding `state` (checked arrays)."""
    from hw4_model_based.dynamics import EnsembleDynamics

    dyn = SMOKE_CONFIG["dynamics"]
    model = EnsembleDynamics(2, 2, dyn["num_members"], dyn["hidden_sizes"])
    model.load_state_dict({name: torch.as_tensor(value) for name, value in state.items()})
    return model


def evaluate(model, episodes: int = EVAL_EPISODES, seed: int = EVAL_SEED) -> np.ndarray:
    """Returns of `episodes` obstacles episodes, MPC with the reference planner on `model` (seeded per episode)."""
    from hw4_model_based.envs import OBSTACLES_ID
    from hw4_model_based.planning import MPCAgent, PlannerConfig
    from hw4_model_based.rewards import planning_task

    def mpc(env, episode_seed: int):
        agent = MPCAgent(model, planning_task(OBSTACLES_ID), env.action_space.low, env.action_space.high,
                         PlannerConfig(**SMOKE_CONFIG["planner"]), seed=episode_seed)
        return lambda observations: agent.get_action(observations[0])[None]

    return play_episodes(OBSTACLES_ID, mpc, episodes, seed, per_episode=True)


def main() -> None:
    from hw4_model_based.run import train

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0-9")

    def evaluate_trained(seed: int, agent) -> np.ndarray:
        state = {name: value.numpy() for name, value in agent.state_dict().items()}
        return evaluate(harness_model(state), seed=EVAL_SEED + 100 * seed)

    measure_reference("hw4 obstacles", seed_range(parser.parse_args().seeds),
                      lambda seed: train({**SMOKE_CONFIG, "seed": seed}), evaluate_trained)


if __name__ == "__main__":
    main()
