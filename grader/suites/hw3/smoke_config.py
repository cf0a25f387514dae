"""The smoke-training configs the hidden suite gives the course's training loops, and how their thresholds were measured.

    python -m grader.suites.hw3.smoke_config dqn --seeds 0-9     # DQN on CartPole-v1, the reference (about 4 min of CPU)
    python -m grader.suites.hw3.smoke_config sac --seeds 0-9     # SAC on InvertedPendulum-v5 (about 4 min of CPU)

For each training seed: train the reference with the config (the course's train_dqn / train_sac, the
loops the grader runs in the sandbox), load the trained weights into a fresh agent built as the
harness builds it (seeded_initial_dqn / seeded_initial_sac), play EVAL_EPISODES episodes in fresh
environments seeded EVAL_SEED, EVAL_SEED + 1, ... with the greedy / deterministic policy, and print
the mean return and the training's CPU time. The hidden test draws its training and evaluation
seeds at random on every grading run, so each threshold sits below the whole measured spread
(test_training.py records it).

Budgets are env steps, never wall time: a loaded grading machine trains exactly as far. No
evaluation happens inside training (eval_every beyond the run: one 1-episode evaluation at the end).
"""
from __future__ import annotations

import argparse
import copy

import numpy as np
import torch

from grader.harness.smoke import measure_reference, play_episodes, seed_range

# DQN on CartPole-v1: the handout's fitted-Q rounds (configs/dqn_cartpole.yaml) on a smaller network,
# so that 30 000 env steps (14 500 gradient steps) take 20 to 26 s of CPU (measured at load 11 to 19).
DQN_SMOKE_CONFIG = {
    "exp_name": "dqn_smoke_grader",
    "env_id": "CartPole-v1",
    "algorithm": "dqn",
    "seed": 0,
    "total_env_steps": 30_000,
    "num_envs": 1,
    "max_episode_steps": None,
    "buffer_size": 30_000,
    "learning_starts": 1_000,
    "train_every": 256,
    "gradient_steps": 128,
    "epsilon_start": 1.0,
    "epsilon_end": 0.04,
    "epsilon_decay_steps": 10_000,
    "log_every": 1_000_000,
    "eval_every": 1_000_000,   # no evaluation inside training: the harness evaluates
    "eval_episodes": 1,
    "checkpoint_every": None,
    "resume_from": None,
    "device": "cpu",
    "progress_bar": False,
    "time_budget_s": None,     # the budget is env steps
    "agent": {"gamma": 0.99, "learning_rate": 0.001, "hidden_sizes": [64, 64], "activation": "relu",
              "batch_size": 64, "double_q": False, "alpha": None, "target_update_period": 128,
              "huber_delta": 1.0, "max_grad_norm": 10.0},
}

# SAC on InvertedPendulum-v5 with the reparameterized actor gradient and twin critics
# (configs/sac_inverted_pendulum_reparam.yaml) on smaller networks and batches.
SAC_SMOKE_CONFIG = {
    "exp_name": "sac_smoke_grader",
    "env_id": "InvertedPendulum-v5",
    "algorithm": "sac",
    "seed": 0,
    "total_env_steps": 8_000,
    "learning_starts": 1_000,
    "update_every": 1,
    "gradient_steps": 1,
    "buffer_size": 8_000,
    "max_episode_steps": None,
    "log_every": 1_000_000,
    "eval_every": 1_000_000,   # no evaluation inside training: the harness evaluates
    "eval_episodes": 1,
    "eval_deterministic": True,
    "checkpoint_every": None,
    "resume_from": None,
    "device": "cpu",
    "progress_bar": False,
    "time_budget_s": None,     # the budget is env steps
    "agent": {"gamma": 0.99, "tau": 0.005, "batch_size": 128, "hidden_sizes": [64, 64], "activation": "relu",
              "actor_learning_rate": 0.0003, "critic_learning_rate": 0.001, "alpha_learning_rate": 0.0003,
              "num_critics": 2, "backup": "min", "entropy_in_backup": True, "actor_gradient": "reparameterize",
              "reinforce_samples": 1, "initial_alpha": 0.1, "auto_alpha": True, "target_entropy": None,
              "overlap_actor_critic": False},  # one thread: the sandbox counts threads as processes
}

EVAL_EPISODES = 10
EVAL_SEED = 12345


def dqn_num_updates(config: dict) -> int:
    """The gradient steps train_dqn takes in `config` (gradient_steps per train_every env steps after learning_starts)."""
    steps_learning = config["total_env_steps"] - config["learning_starts"]
    return int(np.ceil(steps_learning * config["num_envs"] * config["gradient_steps"] / config["train_every"]))


def sac_num_updates(config: dict) -> int:
    """The SAC updates train_sac takes in `config` (gradient_steps every update_every env steps from learning_starts)."""
    phases = config["total_env_steps"] // config["update_every"] - (config["learning_starts"] - 1) // config["update_every"]
    return max(phases, 0) * config["gradient_steps"]


def seeded_initial_dqn(config: dict):
    """The DQNAgent train_dqn builds for `config` before its first update (its seeding, then the agent)."""
    from common.torch_utils import seed_everything
    from hw3_qlearning_ac.dqn import DQNAgent
    from hw3_qlearning_ac.dqn_training import DQNRunConfig, make_training_env
    from common.config import config_from_dict

    run_config = config_from_dict(DQNRunConfig, copy.deepcopy(config), source="the smoke config")
    seed_everything(run_config.seed)
    env = make_training_env(run_config, run_config.seed, run_config.num_envs)
    try:
        return DQNAgent(env.single_observation_space.shape, int(env.single_action_space.n), run_config.agent)
    finally:
        env.close()


def seeded_initial_sac(config: dict):
    """The SACAgent train_sac builds for `config` before its first update (its seeding, then make_agent)."""
    from common.config import config_from_dict
    from common.envs import make_env
    from common.torch_utils import seed_everything
    from hw3_qlearning_ac.sac_training import SACRunConfig, make_agent

    run_config = config_from_dict(SACRunConfig, copy.deepcopy(config), source="the smoke config")
    seed_everything(run_config.seed)
    env = make_env(run_config.env_id, seed=run_config.seed, max_episode_steps=run_config.max_episode_steps)
    try:
        return make_agent(run_config, env)
    finally:
        env.close()


def evaluate_dqn(agent, episodes: int = EVAL_EPISODES, seed: int = EVAL_SEED) -> np.ndarray:
    """The greedy policy argmax_a Q(s, a) of the course's DQNAgent `agent` on CartPole-v1."""
    return play_episodes("CartPole-v1", lambda obs: agent.get_action(obs, deterministic=True), episodes, seed)


def evaluate_sac(agent, episodes: int = EVAL_EPISODES, seed: int = EVAL_SEED) -> np.ndarray:
    """The deterministic policy tanh(mu(s)) (in the env's action box) of the course's SACAgent on InvertedPendulum-v5."""
    return play_episodes("InvertedPendulum-v5", lambda obs: agent.get_action(obs, deterministic=True), episodes, seed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("algorithm", choices=("dqn", "sac"))
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--eval-seed", type=int, default=EVAL_SEED)
    args = parser.parse_args()
    if args.algorithm == "dqn":
        from hw3_qlearning_ac.dqn_training import train_dqn as train

        config, build, play = DQN_SMOKE_CONFIG, seeded_initial_dqn, evaluate_dqn
    else:
        from hw3_qlearning_ac.sac_training import train_sac as train

        config, build, play = SAC_SMOKE_CONFIG, seeded_initial_sac, evaluate_sac

    def evaluate(seed: int, trained):
        fresh = build({**config, "seed": seed})  # the harness's own network, loaded with the trained weights
        fresh.load_state_dict(trained.state_dict())
        return play(fresh, seed=args.eval_seed + 1000 * seed)

    measure_reference(args.algorithm, seed_range(args.seeds),
                      lambda seed: train(copy.deepcopy({**config, "seed": seed})), evaluate)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
