"""Run a homework 5 experiment: `python -m hw5_exploration_offline.run --config CONFIG [--set k=v ...]`.

    python -m hw5_exploration_offline.run --config hw5_exploration_offline/configs/explore_rnd.yaml
    python -m hw5_exploration_offline.run --config hw5_exploration_offline/configs/explore_random.yaml \
        --set env_id=hw5/PointMassHard-v0 seed=1
    python -m hw5_exploration_offline.run --config hw5_exploration_offline/configs/cql_medium.yaml --set cql_alpha=3

A config with `method: random | rnd` is an exploration run (exploration.py), one with
`algorithm: dqn | cql | awac | iql` an offline run (offline_training.py; fine-tuning when
online_env_steps > 0).

An exploration run shows a progress bar (state coverage, train return), logs rows to
runs/hw5/<exp_name>_<env_id>_<seed>_<stamp>/metrics.csv (env_steps, state_coverage,
goal_transitions, train_return, q_loss, rnd_loss, ...; eval_return at the end), writes the replay
data as <run_dir>/dataset.npz with <run_dir>/manifest.json, and draws <run_dir>/heatmap.png.

An offline run shows a progress bar over gradient steps (eval_return, eval_q_estimate), logs a row
every eval_every gradient steps (gradient_steps, env_steps, eval_return, eval_success,
eval_q_estimate, eval_discounted_return, q_loss, q_values, ...), saves checkpoints/agent.pt and
draws eval_return.png and q_estimates.png against gradient steps.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import yaml

from common.config import add_config_arguments, parse_config
from common.logger import Logger, run_experiment, save_checkpoint
from hw5_exploration_offline.datasets import load_dataset
from hw5_exploration_offline.exploration import ExplorationConfig, explore
from hw5_exploration_offline.pointmass import maze_of
from hw5_exploration_offline.render import save_heatmaps


def is_offline(argv: Sequence[str] | None) -> bool:
    """True when the command line's config (file, then --set) has an `algorithm` key: an offline run."""
    args, _ = add_config_arguments(argparse.ArgumentParser(add_help=False)).parse_known_args(argv)
    keys = set()
    if args.config is not None and Path(args.config).exists():
        values = yaml.safe_load(Path(args.config).read_text()) or {}
        keys = set(values) if isinstance(values, dict) else set()
    keys |= {override.partition("=")[0].strip() for override in args.overrides}
    return "algorithm" in keys


def run_offline(argv: Sequence[str] | None) -> None:
    from common.plotting import plot_runs
    from hw5_exploration_offline.offline_training import OfflineConfig, plot_q_estimates, train_offline

    config = parse_config(OfflineConfig, argv, description=__doc__.splitlines()[0])
    with Logger("hw5", config.exp_name, config.env_id, config.seed, config, root=config.log_root) as logger:
        agent = train_offline(config, logger)
        save_checkpoint(logger, "agent", agent.state_dict())
    curve = plot_runs([logger.run_dir], x="gradient_steps", y="eval_return", out=logger.run_dir / "eval_return.png",
                      title=config.exp_name)
    q_plot = plot_q_estimates([logger.run_dir], logger.run_dir / "q_estimates.png")
    print(f"metrics: {logger.metrics_path}")
    print(f"plots:   {curve}, {q_plot}")
    print(f"compare seeds: python -m common.plotting {logger.run_dir.parent} --x gradient_steps --out curves.png")


def run_exploration(argv: Sequence[str] | None) -> None:
    config = parse_config(ExplorationConfig, argv, description=__doc__.splitlines()[0])
    logger = run_experiment("hw5", config, explore)
    dataset_path = logger.run_dir / "dataset.npz"
    if dataset_path.exists():
        buffer, info = load_dataset(dataset_path)
        title = f"{info.method}, {info.env_steps} steps: coverage {info.state_coverage:.2f}"
        heatmap = save_heatmaps([(title, maze_of(config.env_id), buffer.observations[:len(buffer)])],
                                logger.run_dir / "heatmap.png")
        print(f"heatmap: {heatmap}")
    print(f"coverage over seeds: python -m common.plotting {logger.run_dir.parent} --y state_coverage --out coverage.png")


def main(argv: Sequence[str] | None = None) -> None:
    if is_offline(argv):
        run_offline(argv)
    else:
        run_exploration(argv)


if __name__ == "__main__":
    main()
