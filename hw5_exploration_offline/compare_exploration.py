"""Random actions against RND on the three mazes: the coverage table and the heatmaps of README 3.5.

    python -m hw5_exploration_offline.compare_exploration                    # seeds 0-2, all mazes
    python -m hw5_exploration_offline.compare_exploration --seeds 0 --mazes Hard
    python -m hw5_exploration_offline.compare_exploration --steps 20000 --write-datasets   # also (re)write the shipped datasets
    python -m hw5_exploration_offline.compare_exploration --figure-only      # heatmaps of the shipped datasets' first 10k steps

Each run is make_datasets.exploration_config(maze, method, steps, seed) (configs/explore_<method>.yaml),
so the runs of seed 0 are the shipped datasets (20k steps) or their first transitions (a run's first
N transitions do not depend on its length); --write-datasets saves them with
make_datasets' command in the manifest instead of running make_datasets again. Prints one row per
maze: coverage mean +- std over seeds for both methods, their ratio, goal transitions and minutes;
draws the heatmaps of the first seed to figures/exploration_heatmaps.png.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hw5_exploration_offline import make_datasets
from hw5_exploration_offline.datasets import buffer_coverage, describe, load_dataset, save_dataset, state_coverage
from hw5_exploration_offline.exploration import explore
from hw5_exploration_offline.pointmass import ENV_IDS, MAZES
from hw5_exploration_offline.render import save_heatmaps

FIGURE = Path(__file__).resolve().parent / "figures" / "exploration_heatmaps.png"
EXPLORATION_STEPS = 10_000  # part 1 compares 10k-step runs; the shipped datasets are 20k-step runs of seed 0


def shipped_heatmaps(out: Path, steps: int = EXPLORATION_STEPS) -> Path:
    """The heatmaps of the first `steps` transitions of the shipped datasets (both methods on every
    maze), drawn to `out`: a run's first N transitions are exactly the N-step run of the same seed."""
    panels = []
    for maze in MAZES:
        for method in make_datasets.METHODS:
            path = make_datasets.DEFAULT_OUT / make_datasets.dataset_name(maze, method, make_datasets.DEFAULT_STEPS)
            buffer, _ = load_dataset(path)
            n = min(steps, len(buffer))
            coverage = state_coverage(np.concatenate([buffer.observations[:n], buffer.next_observations[:n]]), MAZES[maze])
            title = f"{maze}, {method}: coverage {coverage:.2f}"
            observations = buffer.observations[:n]
            panels.append((title, MAZES[maze], observations))
    return save_heatmaps(panels, out, columns=2)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mazes", nargs="+", choices=list(MAZES), default=list(MAZES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=EXPLORATION_STEPS)
    parser.add_argument("--figure", type=Path, default=FIGURE)
    parser.add_argument("--write-datasets", action="store_true",
                        help=f"save the runs of seed {make_datasets.DEFAULT_SEED} as the shipped datasets")
    parser.add_argument("--figure-only", action="store_true", help="only draw the heatmaps of the shipped datasets")
    args = parser.parse_args(argv)
    if args.figure_only:
        print(f"heatmaps: {shipped_heatmaps(args.figure, args.steps)}")
        return
    panels, rows = [], []
    for maze in args.mazes:
        results = {}
        for method in make_datasets.METHODS:
            coverages, goals, minutes = [], [], []
            for seed in args.seeds:
                start = time.perf_counter()
                result = explore(make_datasets.exploration_config(maze, method, args.steps, seed))
                minutes.append((time.perf_counter() - start) / 60)
                coverages.append(buffer_coverage(result.buffer, MAZES[maze]))
                goals.append(int(result.buffer.terminated.sum()))
                print(f"{maze} {method} seed {seed}: coverage {coverages[-1]:.3f}, goal transitions {goals[-1]}, "
                      f"{minutes[-1]:.1f} min", flush=True)
                if seed == args.seeds[0]:
                    title = f"{maze}, {method}: coverage {coverages[-1]:.2f}"
                    panels.append((title, MAZES[maze], result.buffer.observations[:len(result.buffer)]))
                if args.write_datasets and seed == make_datasets.DEFAULT_SEED:
                    command = ("python -m hw5_exploration_offline.make_datasets "
                               f"--mazes {maze} --methods {method} --steps {args.steps} --seed {seed}")
                    info = describe(result.buffer, ENV_IDS[maze], method, seed, command=command)
                    save_dataset(result.buffer, make_datasets.DEFAULT_OUT / make_datasets.dataset_name(maze, method, args.steps), info)
            results[method] = (np.array(coverages), goals, minutes)
        (random_cov, random_goals, _), (rnd_cov, rnd_goals, rnd_minutes) = results["random"], results["rnd"]
        rows.append(f"| {maze} | {args.steps} | {random_cov.mean():.3f} ± {random_cov.std():.3f} | "
                    f"{rnd_cov.mean():.3f} ± {rnd_cov.std():.3f} | {rnd_cov.mean() / random_cov.mean():.2f} | "
                    f"{np.mean(random_goals):.0f} / {np.mean(rnd_goals):.0f} | {np.mean(rnd_minutes):.1f} |")
    print(f"\nseeds {args.seeds}")
    print("| maze | env steps | random coverage | RND coverage | RND / random | goal transitions random / RND | RND minutes |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"heatmaps: {save_heatmaps(panels, args.figure, columns=2)}")


if __name__ == "__main__":
    main()
