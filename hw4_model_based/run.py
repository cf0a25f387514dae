"""Model-based RL with MPC (or MBPO): `python -m hw4_model_based.run --config CONFIG [--set k=v ...]`.

    python -m hw4_model_based.run --config hw4_model_based/configs/obstacles_mpc.yaml
    python -m hw4_model_based.run --config hw4_model_based/configs/obstacles_mpc.yaml --set planner.method=cem seed=1

The loop is the lecture's model-based RL "version 1.5":

    1. run random actions for `initial_random_steps` env steps: the dataset D
    2. repeat `num_iterations` times:
         fit the ensemble to D (train_ensemble: fresh normalization statistics, bootstrap resamples)
         run MPC (replanning at every step) for at least `steps_per_iteration` env steps of whole
         episodes, and add them to D

Each iteration logs a row to runs/hw4/<exp_name>_<env>_<seed>_<stamp>/metrics.csv: env_steps,
iteration, dynamics_loss (the last epoch's mean loss), eval_return and eval_return_std (the MPC
episodes of this iteration: MPC acts without any added exploration, so the episodes it collects
are its evaluation), episode_length, plan_ms (wall-clock milliseconds per planned action) and
time_s. Row 0 holds the random episodes' returns. The obstacles task also saves the path of the
last episode as path.png.

Resume. With `checkpoint_every: N` the run writes checkpoints/resume.pt (ensemble, optimizer, random
streams, iteration, elapsed time) and checkpoints/replay_buffer.npz (the dataset D) after every N-th
iteration; `--set resume_from=<old run dir>` continues from there in a new run directory (its first
row is the next iteration; time_s goes on from the checkpoint's). The env starts a fresh episode.
"""
from __future__ import annotations

import argparse
import importlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import yaml

from common.config import add_config_arguments, config_from_dict, parse_config
from common.envs import make_env
from common.logger import Logger, progress_bar, run_experiment, save_checkpoint
from common.replay_buffer import ReplayBuffer
from common.rollouts import TRANSITION_FIELDS, Transitions, concatenate, random_policy, sample_trajectories
from common.torch_utils import get_device, keep_freed_memory, seed_everything, set_torch_threads
from hw3_qlearning_ac.training import load_resume_checkpoint
from hw4_model_based.dynamics import EnsembleDynamics, train_ensemble
from hw4_model_based.envs import OBSTACLES_ID, path_image
from hw4_model_based.planning import MPCAgent, PlannerConfig
from hw4_model_based.rewards import planning_task


@dataclass
class DynamicsConfig:
    """The ensemble and how it is fitted each iteration."""

    num_members: int = 5
    hidden_sizes: tuple[int, ...] = (200, 200)
    activation: str = "silu"
    learning_rate: float = 1e-3
    batch_size: int = 256
    num_epochs: int = 20          # passes over each member's bootstrap resample per iteration


@dataclass
class RunConfig:
    """One MPC experiment."""

    exp_name: str = "mpc"
    env_id: str = OBSTACLES_ID
    seed: int = 0
    algorithm: Literal["mpc"] = "mpc"
    initial_random_steps: int = 2000     # random-action env steps (whole episodes) before the first fit
    num_iterations: int = 10
    steps_per_iteration: int = 100       # at least this many MPC env steps (whole episodes) per iteration
    max_episode_steps: int | None = None  # None: the env's own limit
    device: str = "cpu"
    log_root: str = "runs"
    progress_bar: bool = True
    time_budget_s: float | None = None   # stop after the iteration that passes this wall-clock time
    checkpoint_every: int | None = None  # iterations between resume checkpoints; None: none
    resume_from: str | None = None       # a run directory (or its checkpoints/resume.pt) to continue
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)


class TimedPolicy:
    """The MPC agent as a batch policy for common.rollouts, timing every planned action."""

    def __init__(self, agent: MPCAgent):
        self.agent, self.seconds, self.actions = agent, 0.0, 0

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        actions = np.stack([self.agent.get_action(obs) for obs in observations])
        self.seconds += time.perf_counter() - start
        self.actions += len(observations)
        return actions


def train(config: RunConfig | Mapping, logger: Logger | None = None) -> MPCAgent:
    """Run the loop of `config` (a RunConfig or a plain dict of its keys) and return the MPC agent."""
    if isinstance(config, Mapping):
        config = config_from_dict(RunConfig, config, source="the training config")
    set_torch_threads()
    keep_freed_memory()
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    env = make_env(config.env_id, seed=config.seed, max_episode_steps=config.max_episode_steps)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    device = get_device(config.device)
    dyn = config.dynamics
    model = EnsembleDynamics(obs_dim, act_dim, dyn.num_members, dyn.hidden_sizes, dyn.activation).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=dyn.learning_rate)
    agent = MPCAgent(model, planning_task(config.env_id), env.action_space.low, env.action_space.high,
                     config.planner, seed=config.seed)
    # whole episodes overshoot each step quota by less than one episode
    capacity = config.initial_random_steps + (config.num_iterations + 1) * (
        config.steps_per_iteration + env.spec.max_episode_steps)
    buffer = ReplayBuffer(capacity, (obs_dim,), (act_dim,))

    start, first_iteration, episodes = time.perf_counter(), 1, []
    if config.resume_from is not None:
        first_iteration, elapsed_s = _resume(config.resume_from, model, optimizer, agent, buffer, rng)
        start -= elapsed_s
    else:
        episodes = sample_trajectories(env, random_policy(env), min_steps=config.initial_random_steps)
        buffer.add_batch(concatenate(episodes))
        returns = [t.episode_return for t in episodes]
        row = {"env_steps": len(buffer), "iteration": 0, "eval_return": float(np.mean(returns)),
               "eval_return_std": float(np.std(returns)), "time_s": time.perf_counter() - start}
        if logger is not None:
            logger.log(row)
    bar = progress_bar(total=config.num_iterations, initial=first_iteration - 1, desc=config.exp_name, unit="iter",
                       **({} if config.progress_bar else {"disable": True}))
    try:
        for iteration in range(first_iteration, config.num_iterations + 1):
            data = slice(0, len(buffer))
            loss = train_ensemble(model, optimizer, buffer.observations[data], buffer.actions[data],
                                  buffer.next_observations[data], dyn.num_epochs, dyn.batch_size, rng)
            policy = TimedPolicy(agent)
            episodes = sample_trajectories(env, policy, min_steps=config.steps_per_iteration)
            buffer.add_batch(concatenate(episodes))
            returns = [t.episode_return for t in episodes]
            row = {"env_steps": len(buffer), "iteration": iteration, "dynamics_loss": loss,
                   "eval_return": float(np.mean(returns)), "eval_return_std": float(np.std(returns)),
                   "episode_length": float(np.mean([len(t) for t in episodes])),
                   "plan_ms": 1000 * policy.seconds / policy.actions, "time_s": time.perf_counter() - start}
            if logger is not None:
                logger.log(row)
            bar.show_metrics(row, keys=("eval_return", "dynamics_loss", "plan_ms"))
            bar.update(1)
            if logger is not None and config.checkpoint_every and iteration % config.checkpoint_every == 0:
                _save_resume(logger, model, optimizer, agent, buffer, rng, iteration, row["time_s"])
            if config.time_budget_s is not None and time.perf_counter() - start > config.time_budget_s:
                break
    finally:
        bar.close()
        env.close()
    if logger is not None and config.env_id == OBSTACLES_ID and episodes:
        _save_path_plot(logger, episodes[-1])
    return agent


RESUME_CHECKPOINT, BUFFER_CHECKPOINT = "resume.pt", "replay_buffer.npz"


def _save_resume(logger: Logger, model: EnsembleDynamics, optimizer: torch.optim.Optimizer, agent: MPCAgent,
                 buffer: ReplayBuffer, rng: np.random.Generator, iteration: int, elapsed_s: float) -> None:
    """checkpoints/replay_buffer.npz, then checkpoints/resume.pt; each replaces the old file only once complete."""
    folder = logger.run_dir / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    os.replace(buffer.save(folder / "replay_buffer.partial.npz"), folder / BUFFER_CHECKPOINT)
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "iteration": iteration,
             "buffer_size": len(buffer), "elapsed_s": elapsed_s, "numpy_rng": rng.bit_generator.state,
             "torch_rng": torch.get_rng_state(), "planner_rng": agent.generator.get_state()}
    os.replace(save_checkpoint(logger, "resume.partial", state), folder / RESUME_CHECKPOINT)


def _resume(path: str, model: EnsembleDynamics, optimizer: torch.optim.Optimizer, agent: MPCAgent,
            buffer: ReplayBuffer, rng: np.random.Generator) -> tuple[int, float]:
    """Load a resume checkpoint into the model, optimizer, random streams and `buffer`.

    Returns (the first iteration still to run, the wall seconds the run had taken).
    """
    state = load_resume_checkpoint(path)  # homework 3's: a run directory or its checkpoints/resume.pt
    run_dir = Path(path) if Path(path).is_dir() else Path(path).parent.parent
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    agent.generator.set_state(state["planner_rng"])
    saved = ReplayBuffer.load(run_dir / "checkpoints" / BUFFER_CHECKPOINT)
    size = int(state["buffer_size"])  # the dataset as it was when resume.pt was written
    buffer.add_batch(Transitions(**{name: getattr(saved, name)[:size] for name in TRANSITION_FIELDS}))
    return int(state["iteration"]) + 1, float(state["elapsed_s"])


def _save_path_plot(logger: Logger, episode) -> None:
    import matplotlib.image

    path = np.concatenate([episode.observations, episode.next_observations[-1:]])
    matplotlib.image.imsave(logger.run_dir / "path.png", path_image(path))


# algorithm -> "module:ConfigClass:train_function"; the module is imported only when it is used.
ALGORITHMS = {
    "mpc": "hw4_model_based.run:RunConfig:train",
    "mbpo": "hw4_model_based.mbpo_training:MBPORunConfig:train_mbpo",
}


def algorithm_of(argv: Sequence[str] | None) -> str:
    """The `algorithm` asked for: a `--set algorithm=...`, else the config file's, else mpc."""
    args, _ = add_config_arguments(argparse.ArgumentParser(add_help=False)).parse_known_args(argv)
    values = yaml.safe_load(Path(args.config).read_text()) if args.config and Path(args.config).exists() else None
    algorithm = str(values.get("algorithm", "mpc")) if isinstance(values, dict) else "mpc"
    for key, _, value in (override.partition("=") for override in args.overrides):
        if key.strip() == "algorithm":
            algorithm = value.strip()
    if algorithm not in ALGORITHMS:
        raise SystemExit(f"unknown algorithm {algorithm!r}: choose one of {', '.join(ALGORITHMS)}")
    return algorithm


def main(argv=None) -> None:
    module_name, config_name, train_name = ALGORITHMS[algorithm_of(argv)].split(":")
    module = importlib.import_module(module_name)
    config = parse_config(getattr(module, config_name), argv, description=__doc__.splitlines()[0])
    train = getattr(module, train_name)
    logger = run_experiment("hw4", config, train)
    print(f"compare experiments and seeds: python -m common.plotting {logger.run_dir.parent} --out curves.png")


if __name__ == "__main__":
    main()
