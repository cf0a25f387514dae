"""The MBPO training loop: `python -m hw4_model_based.run --config hw4_model_based/configs/mbpo_*.yaml`.

Every env step: act (uniformly random for the first `learning_starts` steps, then a ~ pi(.|s)) and
store the transition in the real buffer. From `learning_starts` on: every `model_train_every` env
steps fit the ensemble to the real buffer and add `num_rollouts` branched rollouts of
`rollout_horizon` steps to the model buffer (hw4_model_based.mbpo.branched_rollouts); every env
step run `gradient_steps` SAC updates on mixed batches (sample_mixed_batch). The model buffer keeps
the rollouts of the last `model_retain_rounds` rounds. Every `log_every` env steps one row goes to
runs/hw4/<exp_name>_<env_id>_<seed>_<stamp>/metrics.csv (train_return, dynamics_loss, model_buffer,
SAC's losses); every `eval_every` steps the policy plays `eval_episodes` evaluation episodes.
`real_ratio: 1.0` and `gradient_steps` as plain SAC's give SAC itself, the baseline MBPO is compared with.

Resume. With `checkpoint_every: N` the run writes checkpoints/resume.pt (SAC's training state, the
ensemble and its optimizer, the random streams, env steps, elapsed time) and both buffers every N env
steps; `--set resume_from=<old run dir>` continues from there in a new run directory (time_s goes on
from the checkpoint's; the env starts a fresh episode).
"""
from __future__ import annotations

import os
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
from common.rollouts import StepSampler, random_policy
from common.torch_utils import get_device, keep_freed_memory, seed_everything, set_torch_threads
from hw3_qlearning_ac.sac import SACAgent, SACConfig
from hw3_qlearning_ac.sac_training import _in_order as in_order  # a saved buffer's transitions, oldest first
from hw3_qlearning_ac.training import EVAL_SEED_OFFSET, evaluate, load_resume_checkpoint, make_progress_bar
from hw4_model_based.dynamics import EnsembleDynamics, train_ensemble
from hw4_model_based.mbpo import branched_rollouts, sample_mixed_batch
from hw4_model_based.rewards import planning_task
from hw4_model_based.run import DynamicsConfig


@dataclass
class MBPORunConfig:
    """One MBPO (or, with real_ratio 1, SAC) experiment."""

    exp_name: str = "mbpo"
    env_id: str = "hw4/HalfCheetah-v5"
    seed: int = 0
    algorithm: Literal["mbpo"] = "mbpo"
    total_env_steps: int = 30_000
    learning_starts: int = 5_000
    model_train_every: int = 250        # env steps between model fits (and rollout rounds)
    num_rollouts: int = 10_000          # B: branched rollouts per round
    rollout_horizon: int = 1            # k: model steps per rollout
    model_retain_rounds: int = 20       # the model buffer holds this many rounds of rollouts
    real_ratio: float = 0.05            # fraction of real transitions in each SAC batch
    gradient_steps: int = 10            # SAC updates per env step
    buffer_size: int = 1_000_000
    max_episode_steps: int | None = 1000
    log_every: int = 1_000
    eval_every: int = 5_000
    eval_episodes: int = 5
    device: str = "cpu"
    log_root: str = "runs"
    progress_bar: bool = True
    time_budget_s: float | None = None
    checkpoint_every: int | None = None   # env steps between resume checkpoints; None: none
    resume_from: str | None = None        # a run directory (or its checkpoints/resume.pt) to continue
    agent: SACConfig = field(default_factory=SACConfig)
    dynamics: DynamicsConfig = field(default_factory=lambda: DynamicsConfig(num_epochs=5))

    def __post_init__(self):
        if not 0.0 <= self.real_ratio <= 1.0:
            raise ValueError(f"real_ratio must be in [0, 1], got {self.real_ratio}")
        for name in ("model_train_every", "num_rollouts", "rollout_horizon", "model_retain_rounds", "log_every",
                     "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


def train_mbpo(config: MBPORunConfig | Mapping, logger: Logger | None = None) -> SACAgent:
    """Run the MBPO loop of `config` (or a plain dict of its keys) and return the SAC agent."""
    if isinstance(config, Mapping):
        config = config_from_dict(MBPORunConfig, config, source="the training config")
    set_torch_threads()
    keep_freed_memory()
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    device = get_device(config.device)
    env = make_env(config.env_id, seed=config.seed, max_episode_steps=config.max_episode_steps)
    eval_env = make_env(config.env_id, seed=config.seed + EVAL_SEED_OFFSET, max_episode_steps=config.max_episode_steps)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    agent = SACAgent(obs_dim, act_dim, config.agent, env.action_space.low, env.action_space.high).to(device)
    dyn = config.dynamics
    model = EnsembleDynamics(obs_dim, act_dim, dyn.num_members, dyn.hidden_sizes, dyn.activation).to(device)
    model_optimizer = torch.optim.Adam(model.parameters(), lr=dyn.learning_rate)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    task = planning_task(config.env_id)
    real_buffer = ReplayBuffer(min(config.buffer_size, config.total_env_steps), (obs_dim,), (act_dim,))
    model_buffer = ReplayBuffer(config.model_retain_rounds * config.num_rollouts * config.rollout_horizon,
                                (obs_dim,), (act_dim,))
    use_model = config.real_ratio < 1.0

    start, env_steps = time.perf_counter(), 0
    if config.resume_from is not None:
        env_steps, elapsed_s = _resume(
            config.resume_from, agent, model, model_optimizer, rng, generator, real_buffer, model_buffer)
        start -= elapsed_s
    sampler, explore = StepSampler(env), random_policy(env)
    bar = make_progress_bar(config.total_env_steps, config.exp_name, config.progress_bar)
    bar.update(env_steps)
    finished_returns: list[float] = []
    metrics: dict[str, float] = {}
    try:
        while env_steps < config.total_env_steps:
            batch = sampler.sample(explore if env_steps < config.learning_starts else agent.get_action, num_steps=1)
            real_buffer.add_batch(batch)
            env_steps += 1
            finished_returns += batch.episode_returns.tolist()
            if env_steps >= config.learning_starts:
                if use_model and (env_steps - config.learning_starts) % config.model_train_every == 0:
                    data = slice(0, len(real_buffer))
                    metrics["dynamics_loss"] = train_ensemble(
                        model, model_optimizer, real_buffer.observations[data], real_buffer.actions[data],
                        real_buffer.next_observations[data], dyn.num_epochs, dyn.batch_size, rng)
                    model_buffer.add_batch(branched_rollouts(model, task, agent.get_action, real_buffer,
                                                             config.num_rollouts, config.rollout_horizon, rng, generator))
                for _ in range(config.gradient_steps):
                    sample = sample_mixed_batch(real_buffer, model_buffer, config.agent.batch_size, config.real_ratio, rng)
                    metrics.update(agent.update(sample.observations, sample.actions, sample.rewards,
                                                sample.next_observations, sample.terminated))
            bar.update(1)

            out_of_time = config.time_budget_s is not None and time.perf_counter() - start > config.time_budget_s
            last = env_steps >= config.total_env_steps or out_of_time
            if env_steps % config.log_every == 0 or last:
                row: dict[str, float] = {"env_steps": env_steps, "model_buffer": len(model_buffer), **metrics}
                if finished_returns:
                    row["train_return"] = float(np.mean(finished_returns))
                    finished_returns = []
                if env_steps % config.eval_every == 0 or last:
                    row["eval_return"], row["eval_return_std"] = evaluate(
                        eval_env, lambda obs: agent.get_action(obs, deterministic=True), config.eval_episodes)
                row["time_s"] = time.perf_counter() - start
                if logger is not None:
                    logger.log(row)
                bar.show_metrics(row, keys=("train_return", "eval_return"))
            if logger is not None and config.checkpoint_every and env_steps % config.checkpoint_every == 0:
                state = {"agent": agent.training_state(), "model": model.state_dict(),
                         "model_optimizer": model_optimizer.state_dict(), "env_steps": env_steps,
                         "elapsed_s": time.perf_counter() - start, "numpy_rng": rng.bit_generator.state,
                         "torch_rng": torch.get_rng_state(), "rollout_rng": generator.get_state()}
                _save_resume(logger, state, real_buffer, model_buffer)
            if out_of_time:
                break
    finally:
        bar.close()
        env.close()
        eval_env.close()
    return agent


RESUME_CHECKPOINT, BUFFER_FILES = "resume.pt", ("real_buffer.npz", "model_buffer.npz")


def _save_resume(logger: Logger, state: dict, real_buffer: ReplayBuffer, model_buffer: ReplayBuffer) -> None:
    """The buffers, then checkpoints/resume.pt; each file replaces the old one only once complete.

    A run killed between the files resumes from the older resume.pt with newer buffers: at most one
    checkpoint interval of transitions is counted twice, which is harmless for a replay buffer.
    """
    folder = logger.run_dir / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    for buffer, name in zip((real_buffer, model_buffer), BUFFER_FILES):
        os.replace(buffer.save(folder / f"partial_{name}"), folder / name)
    os.replace(save_checkpoint(logger, "resume.partial", state), folder / RESUME_CHECKPOINT)


def _resume(path: str, agent: SACAgent, model: EnsembleDynamics, model_optimizer: torch.optim.Optimizer,
            rng: np.random.Generator, generator: torch.Generator, real_buffer: ReplayBuffer,
            model_buffer: ReplayBuffer) -> tuple[int, float]:
    """Load a resume checkpoint into the agent, the ensemble, the random streams and the (empty) buffers;
    returns (env steps done, wall seconds taken)."""
    state = load_resume_checkpoint(path)  # homework 3's: a run directory or its checkpoints/resume.pt
    run_dir = Path(path) if Path(path).is_dir() else Path(path).parent.parent
    agent.load_training_state(state["agent"])
    model.load_state_dict(state["model"])
    model_optimizer.load_state_dict(state["model_optimizer"])
    rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    generator.set_state(state["rollout_rng"])
    for buffer, name in zip((real_buffer, model_buffer), BUFFER_FILES):
        saved = ReplayBuffer.load(run_dir / "checkpoints" / name)
        if len(saved) > buffer.capacity or saved.observations.shape[1:] != buffer.observations.shape[1:]:
            raise ValueError(f"{name} in {run_dir} holds {len(saved)} transitions of shape "
                             f"{saved.observations.shape[1:]}, more than this config's {buffer.capacity} or of "
                             f"another shape than {buffer.observations.shape[1:]}: resume with the old run's config")
        buffer.add_batch(in_order(saved))
    return int(state["env_steps"]), float(state["elapsed_s"])
