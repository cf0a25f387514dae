"""Homework 2 learning targets: every experiment of the handout over 3 seeds, as a results table.

    python -m benchmarks.hw2_targets                      # everything (a few hours on 2 cores)
    python -m benchmarks.hw2_targets --only cartpole      # one group (or any part of a config name)
    python -m benchmarks.hw2_targets --jobs 2 --out runs/hw2_targets
    python -m benchmarks.hw2_targets --table-only         # print the table of what has finished

Each run is `python -m hw2_policy_gradient.run --config CONFIG --set seed=S` in its own process with
one torch thread, logging under OUT/<config>/seed<S>/. A run that finished leaves result.json
there and is skipped next time, so a killed benchmark continues where it stopped.

The table: experiment, env steps, mean and std over seeds of the final eval return (the last
evaluation of each run), the target, wall-clock minutes per run (mean over seeds). Targets are
checked on the group's best setting where the handout says "best" (CartPole, LunarLander).
The learning curves (mean +- std over seeds) go to hw2_policy_gradient/figures/<group>.png.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "hw2_policy_gradient" / "configs"
FIGURE_DIR = ROOT / "hw2_policy_gradient" / "figures"
SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Group:
    """Experiments compared in one plot; the target applies to `target_config` or to the best one."""

    name: str
    configs: tuple[str, ...]
    target: float
    target_text: str
    target_config: str | None = None  # None: the best config of the group must reach the target


GROUPS = (
    Group("cartpole", tuple(f"cartpole_b{b}_{v}" for b in (1000, 4000) for v in ("plain", "rtg", "norm", "rtg_norm")),
          450.0, "best >= 450 within 100k steps"),
    Group("inverted_pendulum", ("inverted_pendulum_baseline",), 950.0, ">= 950 within 150k steps",
          "inverted_pendulum_baseline"),
    Group("halfcheetah", ("halfcheetah_baseline", "halfcheetah_no_baseline"), 300.0,
          "baseline >= 300 after 100 iterations", "halfcheetah_baseline"),
    Group("lunarlander", tuple(f"lunarlander_lambda{lam}" for lam in ("0", "0.95", "0.98", "0.99", "1")),
          180.0, "best lambda >= 180 (600k steps)"),
    Group("ppo", ("halfcheetah_ppo",), 1400.0, ">= 1400 within 1M steps", "halfcheetah_ppo"),
)


def run_dir_of(out: Path, config: str, seed: int) -> Path:
    return out / config / f"seed{seed}"


def read_result(out: Path, config: str, seed: int) -> dict | None:
    path = run_dir_of(out, config, seed) / "result.json"
    return json.loads(path.read_text()) if path.exists() else None


def run_one(out: Path, config: str, seed: int) -> dict:
    """Train one (config, seed) in a subprocess, unless result.json says it already finished."""
    done = read_result(out, config, seed)
    if done is not None:
        return done
    log_root = run_dir_of(out, config, seed)
    log_root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DEEPRL_PROGRESS": "0", "DEEPRL_TORCH_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "hw2_policy_gradient.run", "--config", str(CONFIG_DIR / f"{config}.yaml"),
               "--set", f"seed={seed}", f"log_root={log_root}"]
    start = time.perf_counter()
    with (log_root / "stdout.log").open("w") as log:
        completed = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    minutes = (time.perf_counter() - start) / 60
    if completed.returncode != 0:
        raise RuntimeError(f"{config} seed {seed} failed (exit {completed.returncode}): see {log_root / 'stdout.log'}")
    (metrics_path,) = log_root.glob("hw2/*/metrics.csv")
    with metrics_path.open() as file:
        rows = list(csv.DictReader(file))
    evaluated = [row for row in rows if row.get("eval_return")]
    result = {
        "config": config,
        "seed": seed,
        "env_steps": int(rows[-1]["env_steps"]),
        "final_eval_return": float(evaluated[-1]["eval_return"]),
        "wall_minutes": minutes,
        "run_dir": str(metrics_path.parent),
    }
    (log_root / "result.json").write_text(json.dumps(result, indent=2))
    print(f"finished {config} seed {seed}: eval_return {result['final_eval_return']:.1f} "
          f"in {minutes:.1f} min", flush=True)
    return result


def summarize(out: Path, groups, seeds) -> list[str]:
    """The markdown results table of every finished run, and a line per group on its target."""
    lines = ["| experiment | env steps | final eval return (mean +- std) | seeds | target | minutes per run |",
             "|---|---|---|---|---|---|"]
    verdicts = []
    for group in groups:
        means = {}
        for config in group.configs:
            results = [r for r in (read_result(out, config, s) for s in seeds) if r is not None]
            if not results:
                lines.append(f"| {config} | - | not run | 0 | {group.target_text} | - |")
                continue
            returns = np.array([r["final_eval_return"] for r in results])
            means[config] = returns.mean()
            lines.append(
                f"| {config} | {int(np.mean([r['env_steps'] for r in results]))} | "
                f"{returns.mean():.1f} +- {returns.std():.1f} | {len(results)} | {group.target_text} | "
                f"{np.mean([r['wall_minutes'] for r in results]):.1f} |"
            )
        if means:
            judged = group.target_config if group.target_config in means else max(means, key=means.get)
            reached = "reached" if means[judged] >= group.target else "MISSED"
            verdicts.append(f"{group.name}: {judged} {means[judged]:.1f} vs target {group.target_text}: {reached}")
    return lines + [""] + verdicts


def plot_groups(out: Path, groups) -> None:
    from common.plotting import plot_runs

    for group in groups:
        run_dirs = [Path(r["run_dir"]) for config in group.configs for s in SEEDS
                    if (r := read_result(out, config, s)) is not None]
        if run_dirs:
            FIGURE_DIR.mkdir(parents=True, exist_ok=True)
            plot_runs(run_dirs, x="env_steps", y="eval_return", out=FIGURE_DIR / f"{group.name}.png", title=group.name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[],
                        help="a group name or part of a config name (repeatable); default: all")
    parser.add_argument("--out", default="runs/hw2_targets", help="where runs and result.json files go")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--jobs", type=int, default=1, help="runs at the same time (one core each)")
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing: print the table and draw the figures of the finished runs")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()

    groups = [g for g in GROUPS if not args.only or g.name in args.only
              or any(part in c for part in args.only for c in g.configs)]
    if args.only:  # keep only the matching configs inside a group named by part of a config name
        groups = [g if g.name in args.only else
                  Group(g.name, tuple(c for c in g.configs if any(p in c for p in args.only)), g.target,
                        g.target_text, g.target_config)
                  for g in groups]
    if not args.table_only:
        jobs = [(config, seed) for g in groups for config in g.configs for seed in args.seeds]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_one, out, config, seed) for config, seed in jobs]
            for future in futures:
                try:
                    future.result()
                except RuntimeError as error:
                    print(error, file=sys.stderr, flush=True)
    plot_groups(out, groups)
    print(f"python -m benchmarks.hw2_targets {' '.join(argv if argv is not None else sys.argv[1:])}")
    print("\n".join(summarize(out, groups, args.seeds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
