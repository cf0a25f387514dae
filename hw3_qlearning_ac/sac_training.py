"""The SAC training loop: `python -m hw3_qlearning_ac.run --config hw3_qlearning_ac/configs/sac_*.yaml`.

    python -m hw3_qlearning_ac.run --config hw3_qlearning_ac/configs/sac_inverted_pendulum_reparam.yaml
    python -m hw3_qlearning_ac.run --config hw3_qlearning_ac/configs/sac_halfcheetah_min.yaml --set seed=1

Every env step: act (uniformly random for the first `learning_starts` steps, then a ~ pi(.|s)),
store the transition in the replay buffer; every `update_every` steps, `gradient_steps` SAC updates
on batches drawn uniformly from the buffer. Every `log_every` env steps one row goes to
runs/hw3/<exp_name>_<env_id>_<seed>_<stamp>/metrics.csv; every `eval_every` steps (and at the end)
the policy plays `eval_episodes` episodes in a separate evaluation env (eval_return, eval_return_std).

Resume. Every `checkpoint_every` env steps the run writes checkpoints/resume.pt (networks,
optimizers, temperature, step count, random states) and checkpoints/replay_buffer.npz. Start a new
run with `--set resume_from=<old run dir>` to continue from there; the environment starts a fresh episode.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from common.config import config_from_dict
from common.envs import make_env
from common.logger import Logger, save_checkpoint
from common.replay_buffer import ReplayBuffer
from common.rollouts import TRANSITION_FIELDS, StepSampler, Transitions, random_policy
from common.torch_utils import get_device, seed_everything, set_torch_threads
from hw3_qlearning_ac.sac import SACAgent, SACConfig
from hw3_qlearning_ac.training import (
    EVAL_SEED_OFFSET,
    RESUME_CHECKPOINT,
    evaluate,
    load_resume_checkpoint,
    make_progress_bar,
)

BUFFER_CHECKPOINT = "replay_buffer.npz"


@dataclass
class SACRunConfig:
    """One SAC experiment. `agent` holds the algorithm's hyperparameters (SACConfig)."""

    exp_name: str = "sac"
    env_id: str = "InvertedPendulum-v5"
    seed: int = 0
    algorithm: Literal["sac"] = "sac"
    total_env_steps: int = 20_000
    learning_starts: int = 1_000           # uniformly random actions (and no updates) before this
    update_every: int = 1                  # env steps between update phases
    gradient_steps: int = 1                # SAC updates per phase (updates per env step = gradient_steps / update_every)
    buffer_size: int = 1_000_000
    max_episode_steps: int | None = None   # None: the env's own time limit
    log_every: int = 1_000                 # env steps between rows of metrics.csv
    eval_every: int = 5_000                # env steps between evaluations
    eval_episodes: int = 5
    eval_deterministic: bool = True        # evaluate tanh(mu) instead of samples
    checkpoint_every: int | None = None    # env steps between resume checkpoints; None: none
    resume_from: str | None = None         # a run directory (or its checkpoints/resume.pt) to continue
    device: str = "cpu"
    log_root: str = "runs"
    progress_bar: bool = True              # False: no tqdm bar (batch jobs, the grader)
    time_budget_s: float | None = None     # stop early after this much wall-clock time
    agent: SACConfig = field(default_factory=SACConfig)

    def __post_init__(self):
        for name in ("update_every", "gradient_steps", "log_every", "eval_every", "eval_episodes", "buffer_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


def make_agent(config: SACRunConfig, env) -> SACAgent:
    """A SACAgent sized from the env's spaces, acting in its action box."""
    obs_dim = int(np.prod(env.observation_space.shape))
    space = env.action_space
    if not hasattr(space, "low"):
        raise ValueError(f"SAC needs a continuous (Box) action space; {config.env_id} has {space}")
    agent = SACAgent(obs_dim, int(space.shape[0]), config.agent, action_low=space.low, action_high=space.high)
    return agent.to(get_device(config.device))


def train_sac(config: SACRunConfig | Mapping, logger: Logger | None = None) -> SACAgent:
    """Run the SAC loop of `config` and return the trained agent (its get_action acts).

    config: a SACRunConfig, or a plain dict of the same keys (nested `agent` dict allowed).
    logger: where rows and checkpoints go; None writes nothing to disk.
    """
    if isinstance(config, Mapping):
        config = config_from_dict(SACRunConfig, config, source="the training config")
    set_torch_threads()
    seed_everything(config.seed)
    env = make_env(config.env_id, seed=config.seed, max_episode_steps=config.max_episode_steps)
    eval_env = make_env(config.env_id, seed=config.seed + EVAL_SEED_OFFSET, max_episode_steps=config.max_episode_steps)
    agent = make_agent(config, env)
    buffer = ReplayBuffer(min(config.buffer_size, config.total_env_steps), env.observation_space.shape,
                          env.action_space.shape)
    rng = np.random.default_rng(config.seed)
    env_steps = 0
    if config.resume_from is not None:
        env_steps = _resume(config.resume_from, agent, buffer, rng)

    sampler = StepSampler(env)
    explore = random_policy(env)
    act = lambda obs: agent.get_action(obs)  # noqa: E731 (the policy the sampler calls)
    bar = make_progress_bar(config.total_env_steps, config.exp_name, config.progress_bar)
    bar.update(env_steps)
    start, steps_at_start = time.perf_counter(), env_steps
    finished_returns: list[float] = []
    finished_lengths: list[int] = []
    metrics: dict[str, float] = {}
    try:
        while env_steps < config.total_env_steps:
            batch = sampler.sample(explore if env_steps < config.learning_starts else act, num_steps=1)
            buffer.add_batch(batch)
            env_steps += 1
            finished_returns += batch.episode_returns.tolist()
            finished_lengths += batch.episode_lengths.tolist()

            if env_steps >= config.learning_starts and env_steps % config.update_every == 0:
                for _ in range(config.gradient_steps):
                    sample = buffer.sample(config.agent.batch_size, rng)
                    metrics = agent.update(sample.observations, sample.actions, sample.rewards,
                                           sample.next_observations, sample.terminated)
            bar.update(1)

            elapsed = time.perf_counter() - start
            out_of_time = config.time_budget_s is not None and elapsed > config.time_budget_s
            last = env_steps >= config.total_env_steps or out_of_time
            if env_steps % config.log_every == 0 or last:
                row: dict[str, float] = {"env_steps": env_steps, **metrics}
                if finished_returns:
                    row["train_return"] = float(np.mean(finished_returns))
                    row["episode_length"] = float(np.mean(finished_lengths))
                    finished_returns, finished_lengths = [], []
                if env_steps % config.eval_every == 0 or last:
                    row["eval_return"], row["eval_return_std"] = evaluate(
                        eval_env, lambda obs: agent.get_action(obs, config.eval_deterministic), config.eval_episodes)
                row["time_s"] = time.perf_counter() - start
                row["env_steps_per_s"] = (env_steps - steps_at_start) / row["time_s"]
                if logger is not None:
                    logger.log(row)
                bar.show_metrics(row, keys=("train_return", "eval_return"))
            if logger is not None and config.checkpoint_every and (env_steps % config.checkpoint_every == 0 or last):
                _save_resume(logger, agent, buffer, rng, env_steps)
            if out_of_time:
                break
    finally:
        bar.close()
        env.close()
        eval_env.close()
    return agent


def _save_resume(logger: Logger, agent: SACAgent, buffer: ReplayBuffer, rng: np.random.Generator, env_steps: int) -> None:
    state = {
        **agent.training_state(),
        "env_steps": env_steps,
        "numpy_rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
    }
    save_checkpoint(logger, RESUME_CHECKPOINT, state)
    buffer.save(logger.run_dir / "checkpoints" / BUFFER_CHECKPOINT)


def _resume(path: str, agent: SACAgent, buffer: ReplayBuffer, rng: np.random.Generator) -> int:
    """Load a resume checkpoint into agent, buffer and rng; return the env step count it reached."""
    state = load_resume_checkpoint(path)
    agent.load_training_state(state)
    rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    run_dir = Path(path) if Path(path).is_dir() else Path(path).parent.parent
    saved = ReplayBuffer.load(run_dir / "checkpoints" / BUFFER_CHECKPOINT)
    if saved.observations.shape[1:] != buffer.observations.shape[1:]:
        raise ValueError(f"the replay buffer saved in {run_dir} holds observations of shape "
                         f"{saved.observations.shape[1:]}, this env has {buffer.observations.shape[1:]}")
    buffer.add_batch(_in_order(saved))
    return int(state["env_steps"])


def _in_order(buffer: ReplayBuffer):
    """The buffer's transitions, oldest first (a full ring starts at `position`)."""
    order = np.arange(len(buffer))
    if len(buffer) == buffer.capacity:
        order = (order + buffer.position) % buffer.capacity
    return Transitions(**{name: getattr(buffer, name)[order] for name in TRANSITION_FIELDS})
