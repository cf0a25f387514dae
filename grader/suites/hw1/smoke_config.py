"""The behavior cloning smoke training the hidden suite runs, and how its threshold was measured.

    python -m grader.suites.hw1.smoke_config --seeds 0-9      # BC on HalfCheetah-v5, the reference (about 1 min of CPU a seed)

For each training seed: train the reference with BC_SMOKE_CONFIG (the course's train_imitation, the
loop the grader runs in the sandbox, from the shipped demonstrations), load the trained weights into
a fresh BCPolicy built as the harness builds it (seeded_initial_policy), play EVAL_EPISODES episodes
in fresh environments seeded EVAL_SEED + 1000 * seed, ... with the MEAN action, and print the mean
return and the training's CPU time. The hidden test draws its training and evaluation seeds at
random on every grading run, so the threshold sits below the whole measured spread
(test_training.py records it).

The budget is Adam steps on a fixed dataset (no env steps are taken in training): a loaded grading
machine trains exactly as far.
"""
from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch

ENV_ID = "HalfCheetah-v5"
BC_SMOKE_CONFIG = {
    "exp_name": "bc_smoke_grader",
    "env_id": ENV_ID,
    "algorithm": "bc",
    "seed": 0,
    "num_expert_trajectories": 2,
    "hidden_sizes": [64, 64],
    "activation": "tanh",
    "initial_log_std": -1.0,
    "learning_rate": 0.001,
    "batch_size": 100,
    "bc_train_steps": 3000,
    "dagger_iterations": 0,
    "dagger_env_steps": 1000,
    "dagger_train_steps": 1000,
    "eval_episodes": 1,
    "max_episode_steps": None,
    "log_root": "runs",
    "progress_bar": False,
}
EVAL_EPISODES = 5
EVAL_SEED = 12345


def seeded_initial_policy(config: dict):
    """The BCPolicy train_imitation builds for `config` before its first step (its seeding, then make_policy)."""
    from common.config import config_from_dict
    from common.torch_utils import seed_everything
    from hw1_imitation.experts import load_expert_trajectories, trajectories_to_dataset
    from hw1_imitation.imitation_training import ImitationConfig, make_policy

    run_config = config_from_dict(ImitationConfig, copy.deepcopy(config), source="the smoke config")
    seed_everything(run_config.seed)
    dataset = trajectories_to_dataset(load_expert_trajectories(run_config.env_id, run_config.num_expert_trajectories))
    return make_policy(run_config, dataset.observations, dataset.actions.shape[1])


def evaluate(policy, episodes: int = EVAL_EPISODES, seed: int = EVAL_SEED) -> np.ndarray:
    """Returns of `episodes` episodes of the policy's MEAN action mu_theta(s) (the harness's own forward pass)
    in fresh environments seeded seed, seed + 1, ..."""
    from grader.harness.smoke import play_episodes

    def act(observations: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return policy(torch.as_tensor(observations)).numpy()

    return play_episodes(ENV_ID, act, episodes, seed)


def main() -> None:
    from hw1_imitation.imitation_training import train_imitation

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--eval-seed", type=int, default=EVAL_SEED)
    args = parser.parse_args()
    first, last = map(int, args.seeds.split("-"))
    means, times = [], []
    for seed in range(first, last + 1):
        run_config = {**BC_SMOKE_CONFIG, "seed": seed}
        start = time.process_time()
        trained = train_imitation(copy.deepcopy(run_config))
        times.append(time.process_time() - start)
        fresh = seeded_initial_policy(run_config)
        untrained = evaluate(fresh, episodes=1, seed=args.eval_seed + 1000 * seed)[0] if seed == first else None
        fresh.load_state_dict(trained.state_dict())
        returns = evaluate(fresh, seed=args.eval_seed + 1000 * seed)
        means.append(returns.mean())
        extra = f", untrained policy {untrained:.0f}" if untrained is not None else ""
        print(f"seed {seed}: mean return {means[-1]:.1f} (min {returns.min():.0f}), train CPU {times[-1]:.1f} s{extra}",
              flush=True)
    print(f"bc: mean return over seeds: {' '.join(f'{m:.1f}' for m in means)}; min {min(means):.1f} "
          f"median {np.median(means):.1f} max {max(means):.1f}; train CPU s: max {max(times):.1f}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
