"""Demonstrations of a shipped expert: whole deterministic episodes saved as .npz (README 2).

    python -m hw1_imitation.make_expert_data --env HalfCheetah-v5                 # 4 episodes -> experts/HalfCheetah-v5_data.npz
    python -m hw1_imitation.make_expert_data --env Ant-v5 --num-trajectories 2

Episode i runs in a fresh env seeded DATA_SEED + i with the expert's deterministic action (no noise),
until it terminates or reaches the env's time limit. The file holds the episodes laid end to end
(hw1_imitation.experts.save_trajectories); load them with `load_expert_trajectories(env_id, n)`.
Behavior cloning (README 3) uses the first 2; the expert itself (experts/<env>.pt) labels DAgger's data.
The expert's metadata (experts/<env>.json) gets a `data` entry: file, episodes, their returns, this command.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys

import numpy as np

from common.envs import make_env
from common.rollouts import sample_trajectory
from common.torch_utils import set_torch_threads
from hw1_imitation.experts import ENVS, EXPERTS_DIR, expert_paths, load_expert, save_trajectories

DATA_SEED = 30_000
NUM_TRAJECTORIES = 4


def expert_trajectories(env_id: str, num_trajectories: int, folder=EXPERTS_DIR, seed: int = DATA_SEED):
    """`num_trajectories` deterministic episodes of env_id's expert, episode i in an env seeded seed + i."""
    expert = load_expert(env_id, folder)
    trajectories = []
    for i in range(num_trajectories):
        env = make_env(env_id, seed=seed + i)
        trajectories.append(sample_trajectory(env, expert.act))
        env.close()
    return trajectories


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=ENVS)
    parser.add_argument("--num-trajectories", type=int, default=NUM_TRAJECTORIES)
    parser.add_argument("--folder", default=str(EXPERTS_DIR), help="where the expert is and the data goes")
    args = parser.parse_args(argv)
    set_torch_threads()
    trajectories = expert_trajectories(args.env, args.num_trajectories, args.folder)
    paths = expert_paths(args.env, args.folder)
    save_trajectories(paths["data"], trajectories)
    returns = [float(t.episode_return) for t in trajectories]
    metadata = json.loads(paths["metadata"].read_text())
    metadata["data"] = {
        "file": paths["data"].name, "num_trajectories": len(trajectories), "seed": DATA_SEED,
        "lengths": [len(t.rewards) for t in trajectories], "returns": [round(r, 2) for r in returns],
        "mean_return": round(float(np.mean(returns)), 2),
        "command": "python -m hw1_imitation.make_expert_data "
                   + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)),
    }
    paths["metadata"].write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"{args.env}: {len(trajectories)} episodes, returns {' '.join(f'{r:.0f}' for r in returns)} "
          f"(mean {np.mean(returns):.1f}) -> {paths['data']} ({paths['data'].stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
