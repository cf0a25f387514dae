"""Part 3 experiments: a Gaussian, a mixture and a flow policy cloned from bimodal demonstrations.

    python -m hw1_imitation.run_expressive --config hw1_imitation/configs/expressive_gaussian.yaml
    python -m hw1_imitation.run_expressive --config hw1_imitation/configs/expressive_mixture.yaml
    python -m hw1_imitation.run_expressive --config hw1_imitation/configs/expressive_flow.yaml --set seed=1

The expert passes the obstacle of the two-ways task (bimodal_task.py) on the left in half of its
demonstrations and on the right in the other half. The policy is fitted to the (observation,
action) pairs by minibatch Adam on `policy.loss`, evaluated every `eval_every` iterations on
`eval_episodes` episodes run in one batch (success rate: the goal reached without touching the
obstacle), and drawn: the demonstrations, the policy's paths, and its actions sampled at the start.

Writes runs/hw1/<exp_name>_two_ways_<seed>_<stamp>/ (config.yaml, metrics.csv, result.json, PNG);
`--set figures_dir=DIR` also copies the figure there. Under a minute of CPU per run.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from common.config import parse_config
from common.logger import Logger, progress_bar
from common.torch_utils import seed_everything, set_torch_threads, to_torch
from hw1_imitation.bimodal_task import (MAX_EPISODE_STEPS, Demonstrations, make_demonstrations, sample_starts,
                                        step_positions)
from hw1_imitation.expressive_policies import FlowPolicy, GaussianPolicy, MixturePolicy

RESULT_FILE = "result.json"
OBS_DIM = ACT_DIM = 2


@dataclass
class ExpressiveConfig:
    exp_name: str = "expressive_gaussian"
    policy: Literal["gaussian", "mixture", "flow"] = "gaussian"
    seed: int = 0
    num_demonstrations: int = 100       # even: mirrored pairs
    hidden_sizes: tuple[int, ...] = (128, 128)
    num_components: int = 5             # mixture only
    flow_steps: int = 10                # flow only: Euler steps per action
    iterations: int = 3000              # Adam steps (the flow config uses 6000)
    batch_size: int = 256
    learning_rate: float = 1e-3
    eval_every: int = 500
    eval_episodes: int = 100
    log_root: str = "runs"
    figures_dir: str | None = None      # also copy the run's figure here (e.g. hw1_imitation/figures)


@dataclass
class Rollouts:
    """Episodes run in one batch: paths (B, T + 1, 2) (padded with the last position), outcomes (B,)."""

    paths: np.ndarray
    success: np.ndarray
    collision: np.ndarray

    @property
    def success_rate(self) -> float:
        return float(self.success.mean())


def make_policy(config: ExpressiveConfig) -> torch.nn.Module:
    hidden = tuple(config.hidden_sizes)
    if config.policy == "gaussian":
        return GaussianPolicy(OBS_DIM, ACT_DIM, hidden)
    if config.policy == "mixture":
        return MixturePolicy(OBS_DIM, ACT_DIM, config.num_components, hidden)
    return FlowPolicy(OBS_DIM, ACT_DIM, hidden, num_steps=config.flow_steps)


def rollout(policy, num_episodes: int, rng: np.random.Generator) -> Rollouts:
    """Run `policy.act` on `num_episodes` episodes at once until each succeeds, collides or times out."""
    positions = sample_starts(num_episodes, rng)
    active = np.ones(num_episodes, bool)
    success, collision = np.zeros(num_episodes, bool), np.zeros(num_episodes, bool)
    paths = [positions.copy()]
    for _ in range(MAX_EPISODE_STEPS):
        actions = policy.act(positions.astype(np.float32))
        new_positions, collided, reached = step_positions(positions, actions)
        positions = np.where(active[:, None], new_positions, positions)
        collision |= active & collided
        success |= active & reached & ~collided
        active &= ~(collided | reached)
        paths.append(positions.copy())
        if not active.any():
            break
    return Rollouts(np.stack(paths, axis=1), success, collision)


def train(config: ExpressiveConfig, demonstrations: Demonstrations, logger: Logger) -> tuple[torch.nn.Module, Rollouts]:
    """Fit the policy to the demonstrations; evaluate it along the way; returns it and its last evaluation."""
    policy = make_policy(config)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
    observations, actions = to_torch(demonstrations.observations), to_torch(demonstrations.actions)
    batch_rng = np.random.default_rng(config.seed)
    eval_rng = np.random.default_rng(config.seed + 10_000)
    loss_name = "flow_loss" if config.policy == "flow" else "bc_loss"
    evaluation = None
    bar = progress_bar(config.iterations, desc=config.exp_name, unit="it")
    for iteration in range(config.iterations):
        batch = batch_rng.integers(len(observations), size=config.batch_size)
        loss = policy.loss(observations[batch], actions[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        last = iteration == config.iterations - 1
        if iteration % config.eval_every == 0 or last:
            evaluation = rollout(policy, config.eval_episodes, eval_rng)
            row = {"iteration": iteration + 1, loss_name: loss.item(), "success_rate": evaluation.success_rate,
                   "collision_rate": float(evaluation.collision.mean())}
            logger.log(row)
            bar.show_metrics(row, keys=(loss_name, "success_rate"), digits=2)
        bar.update(1)
    bar.close()
    return policy, evaluation


def run(config: ExpressiveConfig) -> tuple[dict, Path]:
    """Train and evaluate `config.policy` in a new run directory; returns its summary and the directory."""
    set_torch_threads()
    seed_everything(config.seed)
    demonstrations = make_demonstrations(config.num_demonstrations, np.random.default_rng(config.seed))
    with Logger("hw1", config.exp_name, "two_ways", config.seed, config, root=config.log_root, tensorboard=False) as logger:
        policy, evaluation = train(config, demonstrations, logger)
        from hw1_imitation.expressive_plots import draw_policy  # matplotlib only once the numbers exist

        with torch.no_grad():
            start = np.zeros((500, 2), np.float32)
            start_actions = policy.act(start)
        figure = draw_policy(demonstrations, evaluation, start_actions,
                             title=f"{config.policy}: success {evaluation.success_rate:.0%} "
                                   f"({config.eval_episodes} episodes, seed {config.seed})")
        figure_path = logger.run_dir / f"{config.exp_name}.png"
        figure.savefig(figure_path, dpi=110)
    summary = {"policy": config.policy, "success_rate": evaluation.success_rate,
               "collision_rate": float(evaluation.collision.mean()), "num_pairs": len(demonstrations.observations)}
    (logger.run_dir / RESULT_FILE).write_text(json.dumps(summary, indent=2))
    if config.figures_dir is not None:
        Path(config.figures_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(figure_path, Path(config.figures_dir) / figure_path.name)
    print(f"{config.policy}: success rate {evaluation.success_rate:.2f}, collision rate {summary['collision_rate']:.2f} "
          f"over {config.eval_episodes} episodes")
    print(f"metrics: {logger.metrics_path}")
    print(f"summary: {logger.run_dir / RESULT_FILE}")
    print(f"figure: {figure_path}")
    return summary, logger.run_dir


def main(argv=None) -> None:
    run(parse_config(ExpressiveConfig, argv, description=__doc__.splitlines()[0]))


if __name__ == "__main__":
    main()
