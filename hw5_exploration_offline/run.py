"""Run a homework 5 experiment: `python -m hw5_exploration_offline.run --config CONFIG [--set k=v ...]`.

    python -m hw5_exploration_offline.run --config hw5_exploration_offline/configs/explore_rnd.yaml
    python -m hw5_exploration_offline.run --config hw5_exploration_offline/configs/explore_random.yaml \
        --set env_id=hw5/PointMassHard-v0 seed=1

An exploration run shows a progress bar (state coverage, train return), logs rows to
runs/hw5/<exp_name>_<env_id>_<seed>_<stamp>/metrics.csv (env_steps, state_coverage,
goal_transitions, train_return, q_loss, rnd_loss, ...; eval_return at the end), writes the replay
data as <run_dir>/dataset.npz with <run_dir>/manifest.json, and draws <run_dir>/heatmap.png.
"""
from __future__ import annotations

from collections.abc import Sequence

from common.config import parse_config
from common.logger import run_experiment
from hw5_exploration_offline.datasets import load_dataset
from hw5_exploration_offline.exploration import ExplorationConfig, explore
from hw5_exploration_offline.pointmass import maze_of
from hw5_exploration_offline.render import save_heatmaps


def main(argv: Sequence[str] | None = None) -> None:
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


if __name__ == "__main__":
    main()
