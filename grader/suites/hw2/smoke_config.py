"""The smoke-training config the hidden suite gives the student's `train`, and how its threshold was measured.

    python -m grader.suites.hw2.smoke_config --seeds 0-19     # measure the reference (about 3 min)

For each training seed: train the reference with SMOKE_CONFIG, then play EVAL_EPISODES CartPole
episodes in fresh environments seeded EVAL_SEED, EVAL_SEED + 1, ... with the trained policy's
sampled actions (as grader.harness.evaluate_policy does), and print the mean return and the CPU time.
The hidden test draws its training and evaluation seeds at random on every grading run, so its
threshold must sit below the whole measured spread (test_training.py records it).
"""
from __future__ import annotations

import argparse

import numpy as np

from grader.harness.smoke import measure_reference, play_episodes, seed_range

SMOKE_CONFIG = {
    "env_id": "CartPole-v1",
    "seed": 0,
    "total_env_steps": 40_000,
    "batch_size": 1000,
    "eval_every": 1000,        # no evaluation inside training: the harness evaluates
    "eval_episodes": 1,
    "progress_bar": False,
    # no time_budget_s: the budget is env steps, so a loaded grading machine trains exactly as far
    "agent": {"gamma": 0.99, "learning_rate": 0.01, "use_reward_to_go": True, "normalize_advantages": True},
}
EVAL_EPISODES = 10
EVAL_SEED = 12345


def evaluate(agent, episodes: int = EVAL_EPISODES, seed: int = EVAL_SEED) -> np.ndarray:
    """Returns of `episodes` CartPole episodes of the agent's sampled actions (fresh envs seeded seed, seed + 1, ...)."""
    return play_episodes("CartPole-v1", agent.get_action, episodes, seed)


def main() -> None:
    from hw2_policy_gradient.run import train

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0-19")
    measure_reference("hw2 CartPole", seed_range(parser.parse_args().seeds),
                      lambda seed: train({**SMOKE_CONFIG, "seed": seed}), lambda seed, agent: evaluate(agent))


if __name__ == "__main__":
    main()
