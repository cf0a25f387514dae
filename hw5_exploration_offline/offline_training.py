"""Offline training, and offline-to-online fine-tuning (run.py's `algorithm: dqn | cql | awac | iql`).

    load the dataset D (the first `dataset_size` transitions of an exploration run when set)
    offline phase, `offline_steps` gradient steps:
        agent.update(D.sample(batch_size))             never a step in the env
        every `eval_every` gradient steps: evaluation episodes and a metrics row
    online phase (fine-tuning, when online_env_steps > 0):
        agent, buffer = start_online_phase(agent, D, online_env_steps)   same agent, D kept in the buffer
        for each env step: act (epsilon-greedy on Q for dqn/cql, a sample of the actor for awac/iql),
            store the transition, `online_updates_per_step` calls of agent.update(buffer.sample(...))

Evaluation plays greedy episodes in a separate env and logs what the critic believes next to what
happened: eval_q_estimate = Q(s_0, a_0) (a_0 the policy's first action) and eval_discounted_return
= sum_t gamma^t r_t of the same episodes. Where offline DQN's values run away (Hard, README 4.4) its
estimate climbs far above the truth; CQL's stays close to it. Rows are indexed by `gradient_steps` (both phases) and `env_steps` (online).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from torch import nn

from common.config import config_from_dict
from common.envs import make_env
from common.logger import Logger
from common.replay_buffer import ReplayBuffer
from common.rollouts import StepSampler, Transitions
from common.torch_utils import get_device, seed_everything, set_torch_threads
from hw3_qlearning_ac.dqn import DQNConfig
from hw3_qlearning_ac.training import EVAL_SEED_OFFSET, evaluation_episodes, make_progress_bar
from hw5_exploration_offline import pointmass  # noqa: F401  (registers the mazes)
from hw5_exploration_offline.awac import AWACAgent, AWACConfig
from hw5_exploration_offline.cql import CQLAgent, OfflineDQNAgent
from hw5_exploration_offline.datasets import load_dataset
from hw5_exploration_offline.iql import IQLAgent, IQLConfig

PACKAGE = Path(__file__).resolve().parent


def default_dqn_config() -> DQNConfig:
    """Q-network settings for the mazes (the `agent:` section; configs/cql_medium.yaml says how they were found)."""
    return DQNConfig(gamma=0.95, hidden_sizes=(128, 128), learning_rate=1e-3, batch_size=128,
                     target_update_period=100)


@dataclass
class OfflineConfig:
    """One offline (and maybe fine-tuning) run. `agent` is homework 3's DQNConfig for every critic."""

    exp_name: str = "cql"
    env_id: str = "hw5/PointMassMedium-v0"
    seed: int = 0
    algorithm: Literal["dqn", "cql", "awac", "iql"] = "cql"
    dataset: str = "hw5_exploration_offline/datasets/pointmass_medium_rnd_20k.npz"
    dataset_size: int | None = None        # use only the first N transitions (the first N exploration steps)
    offline_steps: int = 20_000            # gradient steps on the dataset
    online_env_steps: int = 0              # fine-tuning: env steps after the offline phase (0: offline only)
    online_updates_per_step: int = 1       # gradient steps per online env step
    online_epsilon: float = 0.05           # epsilon of the online phase (dqn, cql)
    eval_every: int = 2_000                # gradient steps between evaluations and metric rows
    eval_episodes: int = 10
    cql_alpha: float = 1.0                 # the CQL weight (cql only)
    q_input_scale: float | None = 15.0     # first layers drawn for [0, 1] inputs (rnd.spread_first_layer)
    device: str = "cpu"
    log_root: str = "runs"
    progress_bar: bool = True
    agent: DQNConfig = field(default_factory=default_dqn_config)
    awac: AWACConfig = field(default_factory=AWACConfig)
    iql: IQLConfig = field(default_factory=IQLConfig)

    def __post_init__(self):
        if self.offline_steps < 0 or self.online_env_steps < 0:
            raise ValueError("offline_steps and online_env_steps must be >= 0")
        if self.dataset_size is not None and self.dataset_size < 1:
            raise ValueError(f"dataset_size must be at least 1 transition (or null: all), got {self.dataset_size}")
        if self.eval_every < 1:
            raise ValueError(f"eval_every must be at least 1 gradient step, got {self.eval_every}")


def make_agent(config: OfflineConfig, obs_shape: tuple[int, ...], num_actions: int) -> nn.Module:
    """The learner that config.algorithm names, with the config's critic settings."""
    scale = config.q_input_scale
    if config.algorithm == "dqn":
        return OfflineDQNAgent(obs_shape, num_actions, config.agent, q_input_scale=scale)
    if config.algorithm == "cql":
        return CQLAgent(obs_shape, num_actions, config.agent, alpha=config.cql_alpha, q_input_scale=scale)
    if config.algorithm == "awac":
        return AWACAgent(obs_shape, num_actions, config.agent, config.awac, q_input_scale=scale)
    return IQLAgent(obs_shape, num_actions, config.agent, config.iql, q_input_scale=scale)


def dataset_path(path: str | Path) -> Path:
    """A dataset path as given, else relative to the repository root (runs may start anywhere)."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    return PACKAGE.parent / path


def held_transitions(buffer: ReplayBuffer, size: int | None = None) -> Transitions:
    """The first `size` transitions a never-wrapped buffer holds, in the order they were added (all when None)."""
    n = len(buffer) if size is None else min(size, len(buffer))
    return Transitions(buffer.observations[:n], buffer.actions[:n], buffer.rewards[:n],
                       buffer.next_observations[:n], buffer.terminated[:n], buffer.truncated[:n])


def load_offline_dataset(config: OfflineConfig) -> ReplayBuffer:
    """The config's dataset, cut to its first dataset_size transitions; ValueError on another maze's data."""
    dataset, info = load_dataset(dataset_path(config.dataset))
    if info.env_id != config.env_id:
        raise ValueError(f"{config.dataset} was collected on {info.env_id}, but env_id is {config.env_id}: "
                         f"set env_id={info.env_id} or pick a dataset of {config.env_id}")
    if config.dataset_size is None or config.dataset_size >= len(dataset):
        return dataset
    transitions = held_transitions(dataset, config.dataset_size)
    prefix = ReplayBuffer(len(transitions.rewards), dataset.observations.shape[1:], (),
                          obs_dtype=dataset.observations.dtype, action_dtype=dataset.actions.dtype)
    prefix.add_batch(transitions)
    return prefix


def start_online_phase(agent: nn.Module, dataset: ReplayBuffer, online_env_steps: int) -> tuple[nn.Module, ReplayBuffer]:
    """What fine-tuning starts from: the offline agent as it is, and a replay buffer that keeps the data.

    Returns (agent, buffer):
      - agent: the SAME object that was passed in, untouched. Its networks, target network, optimizers
        and update count carry on from the offline phase: do not build a new agent, re-initialize
        or reset anything (that would throw away what was learned offline);
      - buffer: a new common.replay_buffer.ReplayBuffer with capacity len(dataset) + online_env_steps
        (so no online transition ever overwrites the data), holding every dataset transition in
        order (the first len(dataset) slots equal the dataset's), with the dataset's observation
        shape and dtypes (obs_dtype, action_dtype); the online steps are added after them.
    held_transitions(dataset) gives the dataset's transitions; ReplayBuffer.add_batch adds them.

    agent: an offline learner (CQLAgent, AWACAgent, ...); dataset: the ReplayBuffer of the offline
    phase (never wrapped); online_env_steps >= 0.
    """
    # BEGIN SOLUTION (README 6.1)
    buffer = ReplayBuffer(len(dataset) + online_env_steps, dataset.observations.shape[1:], dataset.actions.shape[1:],
                          obs_dtype=dataset.observations.dtype, action_dtype=dataset.actions.dtype)
    buffer.add_batch(held_transitions(dataset))
    return agent, buffer
    # END SOLUTION


def evaluate(agent: nn.Module, env, num_episodes: int, gamma: float) -> dict[str, float]:
    """Greedy episodes: eval_return, eval_return_std, eval_success (share reaching the goal),
    eval_q_estimate (mean Q(s_0, a_0)) and eval_discounted_return (mean sum_t gamma^t r_t)."""
    episodes = evaluation_episodes(env, lambda obs: agent.get_action(obs, deterministic=True), num_episodes)
    returns = [t.episode_return for t in episodes]
    discounted = [float(np.sum(t.rewards * gamma ** np.arange(len(t.rewards)))) for t in episodes]
    start_states = np.stack([t.observations[0] for t in episodes])
    start_actions = np.array([t.actions[0] for t in episodes])
    q_start = agent.q_values(start_states)[np.arange(len(episodes)), start_actions]
    return {"eval_return": float(np.mean(returns)), "eval_return_std": float(np.std(returns)),
            "eval_success": float(np.mean([bool(t.terminated[-1]) for t in episodes])),
            "eval_q_estimate": float(np.mean(q_start)), "eval_discounted_return": float(np.mean(discounted))}


def train_offline(config: OfflineConfig | Mapping, logger: Logger | None = None) -> nn.Module:
    """Train an offline agent on config.dataset (then fine-tune it online when online_env_steps > 0).

    config: an OfflineConfig, or a plain dict of the same keys. logger: where rows go (None: nowhere).
    Returns the agent (agent.get_action(obs, deterministic=True) acts greedily).
    """
    if isinstance(config, Mapping):
        config = config_from_dict(OfflineConfig, config, source="the offline config")
    set_torch_threads()
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    dataset = load_offline_dataset(config)
    eval_env = make_env(config.env_id, seed=config.seed + EVAL_SEED_OFFSET)
    agent = make_agent(config, eval_env.observation_space.shape, int(eval_env.action_space.n))
    agent.to(get_device(config.device))
    total = config.offline_steps + config.online_env_steps * config.online_updates_per_step
    bar = make_progress_bar(total, f"{config.exp_name} ({config.algorithm})", config.progress_bar)
    start = time.perf_counter()
    progress = {"gradient_steps": 0, "env_steps": 0, "next_eval": 0}
    episode_returns, update_metrics = [], []

    def log_if_due(last: bool = False) -> None:
        if progress["gradient_steps"] < progress["next_eval"] and not last:
            return
        progress["next_eval"] += config.eval_every
        row = {"gradient_steps": progress["gradient_steps"], "env_steps": progress["env_steps"]}
        if episode_returns:
            row["train_return"] = float(np.mean(episode_returns))
        for key in update_metrics[0] if update_metrics else ():
            row[key] = float(np.mean([m[key] for m in update_metrics]))
        row.update(evaluate(agent, eval_env, config.eval_episodes, config.agent.gamma))
        row["time_s"] = time.perf_counter() - start
        if logger is not None:
            logger.log(row)
        bar.show_metrics(row, keys=("eval_return", "eval_q_estimate"))
        episode_returns.clear()
        update_metrics.clear()

    env = None
    try:
        log_if_due()
        for _ in range(config.offline_steps):
            update_metrics.append(agent.update(dataset.sample(config.agent.batch_size, rng)))
            progress["gradient_steps"] += 1
            bar.update(1)
            log_if_due(last=progress["gradient_steps"] == total)
        if config.online_env_steps > 0:
            agent, buffer = start_online_phase(agent, dataset, config.online_env_steps)
            env = make_env(config.env_id, seed=config.seed)
            sampler = StepSampler(env)
            policy = lambda obs: agent.get_action(obs, epsilon=config.online_epsilon, rng=rng)  # noqa: E731
            for _ in range(config.online_env_steps):
                batch = sampler.sample(policy, 1)
                buffer.add_batch(batch)
                progress["env_steps"] += 1
                episode_returns.extend(batch.episode_returns.tolist())
                for _ in range(config.online_updates_per_step):
                    update_metrics.append(agent.update(buffer.sample(config.agent.batch_size, rng)))
                    progress["gradient_steps"] += 1
                    bar.update(1)
                log_if_due(last=progress["gradient_steps"] == total)
    finally:
        bar.close()
        eval_env.close()
        if env is not None:
            env.close()
    return agent


def plot_q_estimates(run_dirs, out) -> Path:
    """The overestimation plot: per experiment, the critic's Q(s_0, a_0) (eval_q_estimate) and the
    discounted return that followed (eval_discounted_return) against gradient steps, mean +- std over seeds."""
    import dataclasses

    from common.plotting import aggregate_runs, draw_curves, find_runs

    runs = [run for run in find_runs(run_dirs) if "eval_q_estimate" in (run / "metrics.csv").read_text()]
    curves = []
    for y, what in (("eval_q_estimate", "Q(s0, a0)"), ("eval_discounted_return", "true discounted return")):
        curves += [dataclasses.replace(c, label=f"{c.label}: {what}") for c in aggregate_runs(runs, "gradient_steps", y)]
    figure = draw_curves(curves, "gradient_steps", "discounted return from s0",
                         title="Q-value estimates vs the returns they predict")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return out
