"""The DQN / double DQN / soft Q-learning training loop (run.py's `algorithm: dqn` and `soft_q`).

    for each iteration (num_envs env steps, one per copy of the env):
        epsilon = linear_schedule(env_steps, ...)               exploration
        act (random before learning_starts), store the transitions in the replay buffer
        every `train_every` env steps: `gradient_steps` calls of agent.update(buffer.sample(...))
        every `log_every` env steps: one row of metrics; every `eval_every`: evaluation episodes

Evaluation plays greedy episodes (argmax_a Q) in a separate env and also logs how the Q-network
values the start state, eval_q_estimate = Q(s_0, a_0), next to the discounted return that actually
followed, eval_discounted_return = sum_t gamma^t r_t: the gap between them is the overestimation
bias that double DQN reduces.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import gymnasium as gym
import numpy as np

from common.config import config_from_dict
from common.envs import make_env, make_vector_env
from common.logger import Logger, save_checkpoint
from common.replay_buffer import ReplayBuffer
from common.rollouts import StepSampler, random_policy
from common.torch_utils import get_device, seed_everything, set_torch_threads
from hw3_qlearning_ac.dqn import DQNAgent, DQNConfig
from hw3_qlearning_ac.schedules import linear_schedule
from hw3_qlearning_ac.training import (EVAL_SEED_OFFSET, RESUME_CHECKPOINT, evaluation_episodes,
                                       load_resume_checkpoint, make_progress_bar)


@dataclass
class DQNRunConfig:
    """One Q-learning experiment; `agent` holds the learner's hyperparameters (hw3_qlearning_ac.dqn.DQNConfig)."""

    exp_name: str = "dqn"
    env_id: str = "CartPole-v1"
    seed: int = 0
    algorithm: Literal["dqn", "soft_q"] = "dqn"   # soft_q needs agent.alpha, dqn needs agent.alpha: null
    total_env_steps: int = 100_000
    num_envs: int = 1                      # copies of the env stepped together (one step each per iteration)
    max_episode_steps: int | None = None   # None: the env's own time limit
    buffer_size: int = 100_000             # replay capacity, in transitions
    learning_starts: int = 1_000           # env steps of uniformly random actions before learning
    train_every: int = 1                   # env steps between rounds of gradient steps
    gradient_steps: int = 1                # gradient steps per round (update-to-data ratio: this / train_every)
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 10_000      # env steps over which epsilon falls linearly (DQN only)
    log_every: int = 1_000                 # env steps between metric rows
    eval_every: int = 10_000               # env steps between evaluations (and one at the end)
    eval_episodes: int = 10
    eval_epsilon: float = 0.0              # epsilon of the evaluation episodes (0: greedy); the DQN paper evaluates with 0.05
    checkpoint_every: int | None = None    # env steps between resume checkpoints (agent + replay buffer)
    resume_from: str | None = None         # a run directory (or its checkpoints/resume.pt) to continue
    device: str = "cpu"                    # "auto": CUDA when present (pixels); small MLPs are faster on CPU
    log_root: str = "runs"
    progress_bar: bool = True
    time_budget_s: float | None = None     # stop early after this much wall-clock time
    agent: DQNConfig = field(default_factory=DQNConfig)

    def __post_init__(self):
        if self.algorithm == "soft_q" and self.agent.alpha is None:
            raise ValueError("algorithm soft_q needs a temperature: set agent.alpha (e.g. 0.1)")
        if self.algorithm == "dqn" and self.agent.alpha is not None:
            raise ValueError("agent.alpha is set but algorithm is dqn: use algorithm: soft_q, or agent.alpha: null")
        if self.train_every < 1 or self.gradient_steps < 1:
            raise ValueError("train_every and gradient_steps must be at least 1")


def make_training_env(config: DQNRunConfig, seed: int, num_envs: int):
    """A SAME_STEP vector env of `num_envs` copies (Atari ids get the pixel wrappers, see atari.py)."""
    if config.env_id.startswith("ALE/"):
        from hw3_qlearning_ac.atari import make_atari_vector_env  # ale-py only when playing Atari

        return make_atari_vector_env(config.env_id, num_envs, seed=seed, max_episode_steps=config.max_episode_steps)
    return make_vector_env(config.env_id, num_envs, seed=seed, max_episode_steps=config.max_episode_steps)


def make_replay_buffer(config: DQNRunConfig, env) -> ReplayBuffer:
    """A ReplayBuffer of whole observations; for Atari, a FrameReplayBuffer that stores each frame once."""
    space = env.single_observation_space
    if config.env_id.startswith("ALE/"):
        from hw3_qlearning_ac.atari import FrameReplayBuffer

        return FrameReplayBuffer(config.buffer_size, config.num_envs, space.shape[1:], space.shape[0])
    return ReplayBuffer(config.buffer_size, space.shape, (), obs_dtype=space.dtype, action_dtype=np.int64)


def evaluate_with_q_estimates(agent: DQNAgent, env, num_episodes: int, epsilon: float = 0.0,
                              rng: np.random.Generator | None = None) -> dict[str, float]:
    """Greedy (epsilon = 0) or epsilon-greedy episodes: their returns, and the Q-network's estimate of the
    start state against the truth.

    eval_q_estimate: mean over episodes of Q(s_0, a_0) (a_0 the action taken);
    eval_discounted_return: mean of sum_t gamma^t r_t from s_0 (the value those estimates predict).
    """
    if epsilon > 0:  # a greedy Atari agent that never presses FIRE would play until the time limit
        policy = lambda obs: agent.get_action(obs, epsilon=epsilon, rng=rng)  # noqa: E731
    else:
        policy = lambda obs: agent.get_action(obs, deterministic=True)  # noqa: E731
    episodes = evaluation_episodes(env, policy, num_episodes)
    returns = [t.episode_return for t in episodes]
    gamma = agent.config.gamma
    discounted = [float(np.sum(t.rewards * gamma ** np.arange(len(t)))) for t in episodes]
    start_states = np.stack([t.observations[0] for t in episodes])
    start_actions = np.array([t.actions[0] for t in episodes])
    q_start = agent.q_values(start_states)[np.arange(len(episodes)), start_actions]
    return {"eval_return": float(np.mean(returns)), "eval_return_std": float(np.std(returns)),
            "eval_q_estimate": float(np.mean(q_start)), "eval_discounted_return": float(np.mean(discounted))}


def train_dqn(config: DQNRunConfig | Mapping, logger: Logger | None = None) -> DQNAgent:
    """Train a Q-learning agent as `config` says and return it (agent.get_action acts).

    config: a DQNRunConfig, or a plain dict of the same keys (nested `agent` dict allowed).
    logger: where to log metric rows and resume checkpoints; None writes nothing to disk.
    """
    if isinstance(config, Mapping):
        config = config_from_dict(DQNRunConfig, config, source="the training config")
    set_torch_threads()
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    eval_rng = np.random.default_rng(config.seed + EVAL_SEED_OFFSET)  # evaluation never shifts training's draws
    env = make_training_env(config, config.seed, config.num_envs)
    eval_env = make_training_env(config, config.seed + EVAL_SEED_OFFSET, 1)
    if not isinstance(env.single_action_space, gym.spaces.Discrete):
        raise ValueError(f"{config.env_id} has actions {env.single_action_space}: Q-learning here needs discrete actions")
    agent = DQNAgent(env.single_observation_space.shape, int(env.single_action_space.n), config.agent)
    agent.to(get_device(config.device))
    buffer = make_replay_buffer(config, env)
    env_steps = 0
    if config.resume_from is not None:
        env_steps, buffer = _resume(config.resume_from, agent, buffer)

    sampler = StepSampler(env)
    explore = random_policy(env)
    bar = make_progress_bar(config.total_env_steps, config.exp_name, config.progress_bar)
    bar.update(env_steps)
    start, updates_owed = time.perf_counter(), 0.0
    episode_returns, episode_lengths, update_metrics = [], [], []
    next_log, next_eval = env_steps + config.log_every, env_steps + config.eval_every
    next_checkpoint = env_steps + (config.checkpoint_every or 0)
    try:
        while env_steps < config.total_env_steps:
            epsilon = linear_schedule(env_steps, config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)
            if env_steps < config.learning_starts:
                policy = explore
            else:
                policy = lambda obs: agent.get_action(obs, epsilon=epsilon, rng=rng)  # noqa: E731
            batch = sampler.sample(policy, config.num_envs)
            buffer.add_batch(batch)
            env_steps += config.num_envs
            episode_returns += batch.episode_returns.tolist()
            episode_lengths += batch.episode_lengths.tolist()

            if env_steps > config.learning_starts:  # after `learning_starts` random transitions
                updates_owed += config.num_envs * config.gradient_steps / config.train_every
                while updates_owed >= 1.0:
                    update_metrics.append(agent.update(buffer.sample(config.agent.batch_size, rng)))
                    updates_owed -= 1.0

            out_of_time = config.time_budget_s is not None and time.perf_counter() - start > config.time_budget_s
            last = env_steps >= config.total_env_steps or out_of_time
            if env_steps >= next_log or last:
                next_log += config.log_every
                row = {"env_steps": env_steps, "epsilon": epsilon, "num_updates": agent.num_updates}
                if episode_returns:
                    row["train_return"] = float(np.mean(episode_returns))
                    row["episode_length"] = float(np.mean(episode_lengths))
                for key in update_metrics[0] if update_metrics else ():
                    row[key] = float(np.mean([m[key] for m in update_metrics]))
                if env_steps >= next_eval or last:
                    next_eval += config.eval_every
                    row.update(evaluate_with_q_estimates(agent, eval_env, config.eval_episodes, config.eval_epsilon, eval_rng))
                row["time_s"] = time.perf_counter() - start
                if logger is not None:
                    logger.log(row)
                bar.show_metrics(row, keys=("train_return", "eval_return"))
                episode_returns, episode_lengths, update_metrics = [], [], []
            if logger is not None and config.checkpoint_every and (env_steps >= next_checkpoint or last):
                next_checkpoint += config.checkpoint_every
                _save_resume(logger, agent, buffer, env_steps)
            bar.update(config.num_envs)
            if out_of_time:
                break
    finally:
        bar.close()
        env.close()
        eval_env.close()
    return agent


def _save_resume(logger: Logger, agent: DQNAgent, buffer: ReplayBuffer, env_steps: int) -> None:
    """checkpoints/resume.pt (weights, optimizer, counters) and checkpoints/replay.npz (the buffer)."""
    path = save_checkpoint(logger, RESUME_CHECKPOINT, {
        "agent": agent.state_dict(), "optimizer": agent.optimizer.state_dict(),
        "num_updates": agent.num_updates, "env_steps": env_steps,
    })
    buffer.save(path.with_name("replay.npz"))


def _resume(path: str, agent: DQNAgent, buffer: ReplayBuffer) -> tuple[int, ReplayBuffer]:
    """Load a resume checkpoint into `agent`; returns (env_steps done, the saved replay buffer, of `buffer`'s type).

    The envs start fresh episodes and the random streams restart from the seed, so a resumed run
    continues the learning, not the exact same trajectory an uninterrupted run would have taken.
    """
    checkpoint = load_resume_checkpoint(path)
    agent.load_state_dict(checkpoint["agent"])
    agent.optimizer.load_state_dict(checkpoint["optimizer"])
    agent.num_updates = int(checkpoint["num_updates"])
    path = Path(path)
    replay_path = (path / "checkpoints" if path.is_dir() else path.parent) / "replay.npz"
    return int(checkpoint["env_steps"]), type(buffer).load(replay_path)


def plot_q_estimates(run_dirs, out) -> Path:
    """Overestimation plot: per experiment, the Q-network's value of the start state (eval_q_estimate)
    and the discounted return that followed (eval_discounted_return), mean +- std over seeds.

        python -c "from hw3_qlearning_ac.dqn_training import plot_q_estimates as p; p(['runs/hw3'], 'q.png')"
    """
    import dataclasses

    from common.plotting import aggregate_runs, draw_curves, find_runs

    runs = [run for run in find_runs(run_dirs) if (run / "metrics.csv").read_text().count("eval_q_estimate")]
    curves = []
    for y, what in (("eval_q_estimate", "Q(s0, a0)"), ("eval_discounted_return", "true discounted return")):
        curves += [dataclasses.replace(c, label=f"{c.label}: {what}") for c in aggregate_runs(runs, "env_steps", y)]
    figure = draw_curves(curves, "env_steps", "discounted return from s0",
                         title="Q-value estimates vs the returns they predict")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return out
