"""The smoke-training config the hidden suite gives the course's offline loop, and how its threshold was measured.

    python -m grader.suites.hw5.smoke_config cql --seeds 0-9     # CQL on the smoke dataset, the reference
    python -m grader.suites.hw5.smoke_config dqn --seeds 0-9     # offline DQN on the same data (what CQL must beat)

For each training seed: train the reference with the config (offline_training.train_offline, the
loop the grader runs in the sandbox), load the trained weights into a fresh CQLAgent built as the
harness builds it (seeded_initial_agent), play EVAL_EPISODES greedy episodes (argmax_a Q(s, a)) in
fresh mazes seeded EVAL_SEED, EVAL_SEED + 1, ... and print the mean return and the training's CPU
time. The hidden test draws its training and evaluation seeds at random on every grading run, so
the threshold sits below the whole measured spread of CQL and above offline DQN's typical return
(test_training.py records both).

The budget is gradient steps, never wall time: a loaded grading machine trains exactly as far. The
loop evaluates once before training and once at the end (eval_every beyond the run, one episode
each); the harness's own episodes decide.
"""
from __future__ import annotations

import argparse
import copy

import numpy as np
import torch

from grader.harness.smoke import measure_reference, play_episodes, seed_range

# CQL on the Hard maze's RND dataset (configs/cql_hard.yaml: alpha 0.1, gamma 0.95, target period 100) on a
# smaller network, for 10 000 gradient steps: 10 to 12.5 s of CPU (measured at load average 14 to 19).
SMOKE_CONFIG = {
    "exp_name": "cql_smoke_grader",
    "env_id": "hw5/PointMassHard-v0",
    "seed": 0,
    "algorithm": "cql",
    "dataset": "hw5_exploration_offline/datasets/pointmass_hard_rnd_20k.npz",
    "dataset_size": None,
    "offline_steps": 10_000,
    "online_env_steps": 0,
    "online_updates_per_step": 1,
    "online_epsilon": 0.05,
    "eval_every": 1_000_000,   # one evaluation before and one after training, of one episode each
    "eval_episodes": 1,
    "cql_alpha": 0.1,
    "q_input_scale": 15.0,
    "device": "cpu",
    "log_root": "runs",
    "progress_bar": False,
    "agent": {"gamma": 0.95, "learning_rate": 0.001, "hidden_sizes": [64, 64], "activation": "relu",
              "batch_size": 128, "double_q": False, "alpha": None, "target_update_period": 100,
              "huber_delta": 1.0, "max_grad_norm": 10.0},
}

EVAL_EPISODES = 10
EVAL_SEED = 12345


def seeded_initial_agent(config: dict):
    """The agent train_offline builds for `config` before its first update (its seeding, then make_agent)."""
    from common.config import config_from_dict
    from common.envs import make_env
    from common.torch_utils import seed_everything
    from hw5_exploration_offline.offline_training import OfflineConfig, make_agent

    run_config = config_from_dict(OfflineConfig, copy.deepcopy(config), source="the smoke config")
    seed_everything(run_config.seed)
    env = make_env(run_config.env_id, seed=run_config.seed)  # built as train_offline builds its eval env
    try:
        return make_agent(run_config, env.observation_space.shape, int(env.action_space.n))
    finally:
        env.close()


def greedy_actions(agent):
    """argmax_a Q(s, a) of the course's Q-network holding the trained weights (the student's get_action is never used)."""
    def act(observations: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return agent.dqn.q_network(torch.as_tensor(observations)).argmax(dim=1).numpy()
    return act


def evaluate(agent, env_id: str, episodes: int = EVAL_EPISODES, seed: int = EVAL_SEED) -> np.ndarray:
    return play_episodes(env_id, greedy_actions(agent), episodes, seed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("algorithm", choices=("cql", "dqn"))
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--eval-seed", type=int, default=EVAL_SEED)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="change the smoke config (top-level keys, or agent.KEY), for choosing it")
    args = parser.parse_args()
    from hw5_exploration_offline.offline_training import train_offline

    config = {**copy.deepcopy(SMOKE_CONFIG), "algorithm": args.algorithm}
    for item in args.set:
        key, _, value = item.partition("=")
        import yaml

        target, name = (config["agent"], key[6:]) if key.startswith("agent.") else (config, key)
        target[name] = yaml.safe_load(value)

    def play(seed: int, trained):
        fresh = seeded_initial_agent({**config, "algorithm": "cql", "seed": seed})  # the harness's own network
        fresh.load_state_dict(trained.state_dict())
        return evaluate(fresh, config["env_id"], seed=args.eval_seed + 1000 * seed)

    measure_reference(f"{args.algorithm} {args.set}", seed_range(args.seeds),
                      lambda seed: train_offline(copy.deepcopy({**config, "seed": seed})), play)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
