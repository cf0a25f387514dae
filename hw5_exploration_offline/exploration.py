"""Exploration runs: collect a PointMass dataset with uniformly random actions or with DQN + RND.

    for each env step:
        method "random": a uniformly random action
        method "rnd":     random before learning_starts, then epsilon-greedy on the RND agent's Q-values
        store the transition; for "rnd", every `train_every` steps `gradient_steps` calls of
        agent.update(buffer.sample(...)) (a DQN step on r + beta * b(s'), then a predictor step)
        every `log_every` env steps: a row with state_coverage (share of free cells visited so far)
    at the end: greedy evaluation episodes, and the whole replay buffer written as a dataset
    (hw5_exploration_offline.datasets) with its manifest entry

The replay buffer holds every transition of the run (capacity = total_env_steps), so the dataset is
exactly what the exploring policy did.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from common.config import config_from_dict
from common.envs import make_env
from common.logger import Logger
from common.replay_buffer import ReplayBuffer
from common.rollouts import StepSampler, random_policy
from common.torch_utils import get_device, seed_everything, set_torch_threads
from hw3_qlearning_ac.dqn import DQNConfig
from hw3_qlearning_ac.schedules import linear_schedule
from hw3_qlearning_ac.training import EVAL_SEED_OFFSET, evaluation_episodes, make_progress_bar
from hw5_exploration_offline import pointmass  # noqa: F401  (registers the mazes)
from hw5_exploration_offline.datasets import buffer_coverage, describe, save_dataset
from hw5_exploration_offline.pointmass import maze_of
from hw5_exploration_offline.rnd import RNDConfig, RNDDQNAgent


def default_dqn_config() -> DQNConfig:
    """DQN settings for the 2-D mazes: a smaller network and faster target updates than hw3's defaults."""
    return DQNConfig(hidden_sizes=(128, 128), learning_rate=1e-3, batch_size=128, target_update_period=250)


@dataclass
class ExplorationConfig:
    """One exploration run; `agent` is homework 3's DQNConfig, `rnd` the bonus's RNDConfig."""

    exp_name: str = "explore"
    env_id: str = "hw5/PointMassMedium-v0"
    seed: int = 0
    method: Literal["random", "rnd"] = "rnd"
    total_env_steps: int = 10_000
    learning_starts: int = 500             # env steps of random actions before the agent learns and acts
    train_every: int = 1                   # env steps between rounds of gradient steps (rnd)
    gradient_steps: int = 1                # gradient steps per round (rnd)
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 2_000       # env steps over which epsilon falls linearly (rnd)
    log_every: int = 1_000
    eval_episodes: int = 5                 # greedy episodes at the end (the random method: random ones)
    q_input_scale: float | None = None    # re-draw the Q-network's first layer for [0, 1] inputs (rnd.spread_first_layer)
    save_dataset: bool = True              # write <run_dir>/dataset.npz (+ manifest.json) when logging
    device: str = "cpu"
    log_root: str = "runs"
    progress_bar: bool = True
    agent: DQNConfig = field(default_factory=default_dqn_config)
    rnd: RNDConfig = field(default_factory=RNDConfig)


@dataclass
class ExplorationResult:
    """What an exploration run leaves: the agent (untrained for "random") and the replay buffer."""

    agent: RNDDQNAgent
    buffer: ReplayBuffer

    def state_dict(self):
        """The agent's weights (what common.logger.run_experiment saves as checkpoints/agent.pt)."""
        return self.agent.state_dict()


def explore(config: ExplorationConfig | Mapping, logger: Logger | None = None) -> ExplorationResult:
    """Run the exploration of `config` and return the agent and the buffer of every transition.

    config: an ExplorationConfig, or a plain dict of the same keys.
    logger: where to log metric rows and write dataset.npz; None writes nothing to disk.
    """
    if isinstance(config, Mapping):
        config = config_from_dict(ExplorationConfig, config, source="the exploration config")
    set_torch_threads()
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    maze = maze_of(config.env_id)
    env = make_env(config.env_id, seed=config.seed)
    agent = RNDDQNAgent(env.observation_space.shape, int(env.action_space.n), config.agent, config.rnd,
                        q_input_scale=config.q_input_scale)
    agent.to(get_device(config.device))
    buffer = ReplayBuffer(config.total_env_steps, env.observation_space.shape, (), action_dtype=np.int64)
    sampler = StepSampler(env)
    random_actions = random_policy(env)
    bar = make_progress_bar(config.total_env_steps, f"{config.exp_name} ({config.method})", config.progress_bar)
    start, env_steps = time.perf_counter(), 0
    episode_returns, update_metrics = [], []
    try:
        while env_steps < config.total_env_steps:
            learning = config.method == "rnd" and env_steps >= config.learning_starts
            epsilon = linear_schedule(env_steps, config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)
            if learning:
                policy = lambda obs: agent.get_action(obs, epsilon=epsilon, rng=rng)  # noqa: E731
            else:
                policy = random_actions
            batch = sampler.sample(policy, 1)
            buffer.add_batch(batch)
            env_steps += 1
            episode_returns += batch.episode_returns.tolist()
            if learning and env_steps % config.train_every == 0:
                for _ in range(config.gradient_steps):
                    update_metrics.append(agent.update(buffer.sample(config.agent.batch_size, rng)))

            last = env_steps >= config.total_env_steps
            if env_steps % config.log_every == 0 or last:
                row = {"env_steps": env_steps, "state_coverage": buffer_coverage(buffer, maze),
                       "goal_transitions": int(buffer.terminated[:len(buffer)].sum())}
                if config.method == "rnd":
                    row["epsilon"] = epsilon
                if episode_returns:
                    row["train_return"] = float(np.mean(episode_returns))
                for key in update_metrics[0] if update_metrics else ():
                    row[key] = float(np.mean([m[key] for m in update_metrics]))
                if last:
                    row.update(_evaluate(agent, config))
                row["time_s"] = time.perf_counter() - start
                if logger is not None:
                    logger.log(row)
                bar.show_metrics(row, keys=("state_coverage", "train_return"))
                episode_returns, update_metrics = [], []
            bar.update(1)
    finally:
        bar.close()
        env.close()
    if logger is not None and config.save_dataset:
        path = save_dataset(buffer, Path(logger.run_dir) / "dataset.npz",
                            describe(buffer, config.env_id, config.method, config.seed))
        print(f"dataset: {path} (state coverage {buffer_coverage(buffer, maze):.2f})")
    return ExplorationResult(agent, buffer)


def _evaluate(agent: RNDDQNAgent, config: ExplorationConfig) -> dict[str, float]:
    """eval_return / eval_return_std of the greedy agent ("rnd") or of random actions ("random")."""
    eval_env = make_env(config.env_id, seed=config.seed + EVAL_SEED_OFFSET)
    if config.method == "rnd":
        policy = lambda obs: agent.get_action(obs, deterministic=True)  # noqa: E731
    else:
        policy = random_policy(eval_env)
    try:
        returns = [t.episode_return for t in evaluation_episodes(eval_env, policy, config.eval_episodes)]
    finally:
        eval_env.close()
    return {"eval_return": float(np.mean(returns)), "eval_return_std": float(np.std(returns))}
