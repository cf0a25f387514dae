"""Make the reference datasets of the offline parts, reproducibly (fixed seeds, one torch thread).

    python -m hw5_exploration_offline.make_datasets                       # all shipped datasets
    python -m hw5_exploration_offline.make_datasets --mazes Medium --methods rnd --steps 5000
    python -m hw5_exploration_offline.make_datasets --check               # remake, compare with the manifest

Each dataset is one exploration run (hw5_exploration_offline.exploration.explore with the
configs/explore_<method>.yaml settings) on one maze, written as
<out>/pointmass_<maze>_<method>_<steps>.npz with its entry in <out>/manifest.json (env, steps,
method, seed, state coverage, goal transitions, sha256 of the arrays, the command). The same
command on any machine gives the same arrays: --check proves it against the manifest.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from common.config import load_config
from hw5_exploration_offline.datasets import describe, read_manifest, save_dataset
from hw5_exploration_offline.exploration import ExplorationConfig, explore
from hw5_exploration_offline.pointmass import ENV_IDS, MAZES

PACKAGE = Path(__file__).resolve().parent
DEFAULT_OUT = PACKAGE / "datasets"
CONFIGS = PACKAGE / "configs"
METHODS = ("random", "rnd")
DEFAULT_STEPS = 20_000  # the offline parts need Medium's goal: its RND run first reaches it after ~16k steps
DEFAULT_SEED = 0


def dataset_name(maze: str, method: str, steps: int) -> str:
    """pointmass_medium_rnd_10k.npz (thousands as k when they divide evenly)."""
    size = f"{steps // 1000}k" if steps % 1000 == 0 else str(steps)
    return f"pointmass_{maze.lower()}_{method}_{size}.npz"


def exploration_config(maze: str, method: str, steps: int, seed: int) -> ExplorationConfig:
    """configs/explore_<method>.yaml with this maze, number of steps and seed, no progress bar."""
    overrides = [f"env_id={ENV_IDS[maze]}", f"total_env_steps={steps}", f"seed={seed}", "progress_bar=false"]
    return load_config(ExplorationConfig, CONFIGS / f"explore_{method}.yaml", overrides)


def make_dataset(maze: str, method: str, steps: int, seed: int, out: Path, command: str) -> Path:
    """Run one exploration and write its dataset (and manifest entry) under `out`."""
    result = explore(exploration_config(maze, method, steps, seed))
    info = describe(result.buffer, ENV_IDS[maze], method, seed, command=command)
    return save_dataset(result.buffer, out / dataset_name(maze, method, steps), info)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mazes", nargs="+", choices=list(MAZES), default=list(MAZES))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--steps", type=int, nargs="+", default=[DEFAULT_STEPS])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true",
                        help="make the datasets in a temporary folder and compare their sha256 with --out's manifest")
    args = parser.parse_args(argv)
    out = args.out
    if args.check:
        import tempfile

        out = Path(tempfile.mkdtemp(prefix="hw5_datasets_"))
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for maze in args.mazes:
        for method in args.methods:
            for steps in args.steps:
                command = ("python -m hw5_exploration_offline.make_datasets "
                           f"--mazes {maze} --methods {method} --steps {steps} --seed {args.seed}")
                start = time.perf_counter()
                path = make_dataset(maze, method, steps, args.seed, out, command)
                info = read_manifest(out)[path.name]
                line = (f"{path.name}: coverage {info.state_coverage:.3f}, goal transitions {info.goal_transitions}, "
                        f"{time.perf_counter() - start:.0f} s")
                if args.check:
                    shipped = read_manifest(args.out).get(path.name)
                    same = shipped is not None and shipped.sha256 == info.sha256
                    failures += not same
                    line += ", same as shipped" if same else f", DIFFERENT from {args.out / path.name}"
                print(line, flush=True)
    if not args.check:
        print(f"manifest: {out / 'manifest.json'}  (made by: {shlex.join(['python', '-m', __spec__.name, *(argv or sys.argv[1:])])})")
    if failures:
        raise SystemExit(f"{failures} dataset(s) differ from the shipped ones")


if __name__ == "__main__":
    main()
