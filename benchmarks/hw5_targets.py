"""Homework 5 learning targets: every experiment of the handout over several seeds, as a results table.

    python -m benchmarks.hw5_targets --jobs 2                      # everything
    python -m benchmarks.hw5_targets --only exploration_medium     # one group (or part of an experiment name)
    python -m benchmarks.hw5_targets --table-only                  # print the table of what has finished

Each run is `python -m hw5_exploration_offline.run --config CONFIG --set seed=S [KEY=VALUE ...]` in
its own process with one torch thread, logging under OUT/<experiment>/seed<S>/. A run that finished
leaves result.json there and is skipped next time, so a killed benchmark continues where it stopped
(a killed run starts again from its beginning).

An experiment's score comes from its metrics.csv: the last `state_coverage` for the exploration runs
(the share of the maze's free cells the whole replay data visits); for the offline ones the mean
`eval_return` of the last 3 evaluations (10 greedy episodes each; fine-tuning: at the end of its online
phase), the handout's "final" value, as one evaluation of a greedy maze policy is noisy.
Seeds: 3 (5 for random against RND and offline DQN against CQL), `--seeds` replaces them.
Groups: exploration_{easy,medium,hard} (README 3.5), offline_{medium,hard} (CQL against offline DQN),
cql_alpha_medium, cql_size_medium and size_hard (README 4.4), awac_iql_{easy,medium} (5.8), finetune_hard (6.2).

The table: experiment, env steps (exploration) or gradient steps (offline), mean and std over seeds
of the score, each seed's score, seeds, target, minutes per run: CPU time (what a free core takes)
and in brackets wall time, and the command of one run. Below it one line per target and per lesson
of the handout (holds / FAILS): "A at least k times B" compares the means over seeds.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.runs import check_overrides, minutes_cell, run_to_end, stats_cell  # shared by every benchmark
from hw5_exploration_offline.offline_results import run_result  # the handout's "final" value of an offline run

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "hw5_exploration_offline"
FEW_SEEDS = (0, 1, 2)
COMPARISON_SEEDS = (0, 1, 2, 3, 4)  # a lesson that compares two methods: 5 seeds (one seed can flip it)
MAZE_IDS = {"easy": "hw5/PointMassEasy-v0", "medium": "hw5/PointMassMedium-v0", "hard": "hw5/PointMassHard-v0"}


@dataclass(frozen=True)
class Experiment:
    """One line of the table: a config of the handout with its --set values, scored by `metric`."""

    name: str
    config: str
    overrides: tuple[str, ...] = ()
    metric: str = "eval_return"
    steps: str = "env_steps"                       # the column that says how far the run went


@dataclass(frozen=True)
class Group:
    """Experiments compared in one lesson. claims: (better, worse, factor): the mean score of `better`
    is at least `factor` times `worse`'s (factor 1: simply higher). target: (experiment, the handout's words)."""

    name: str
    experiments: tuple[Experiment, ...]
    claims: tuple[tuple[str, str, float], ...] = ()
    target: tuple[str, str] | None = None
    seeds: tuple[int, ...] = FEW_SEEDS


def _exploration(maze: str) -> Group:
    """Random actions against RND on one maze (README 3.5): 10k env steps each."""
    runs = tuple(Experiment(f"explore_{method}_{maze}", f"explore_{method}", (f"env_id={MAZE_IDS[maze]}",),
                            metric="state_coverage") for method in ("random", "rnd"))
    if maze == "easy":  # both visit every cell of the small room: no lesson, the coverage is reported
        return Group(f"exploration_{maze}", runs)
    return Group(f"exploration_{maze}", runs, claims=((runs[1].name, runs[0].name, 1.5),),
                 target=(runs[1].name, "coverage >= 1.5 x random's"), seeds=COMPARISON_SEEDS)


def _offline(name: str, config: str, *overrides: str) -> Experiment:
    """An offline run of configs/<config>.yaml, scored by the mean of its last 3 greedy evaluations."""
    return Experiment(name, config, overrides, metric="eval_return", steps="gradient_steps")


CQL_ALPHAS = ("0", "0.01", "0.1", "0.3", "1", "3", "10")
DATASET_SIZES = ("1000", "5000", "10000", "20000")

GROUPS = (
    _exploration("easy"),
    _exploration("medium"),
    _exploration("hard"),
    # README 4.4: CQL against offline DQN on the RND datasets (Medium all 20k transitions, Hard the first 10k;
    # 20k gradient steps)
    Group("offline_medium", (_offline("offline_dqn_medium", "offline_dqn_medium"), _offline("cql_medium", "cql_medium")),
          claims=(("cql_medium", "offline_dqn_medium", 1.0),), target=("cql_medium", "higher than offline DQN"),
          seeds=COMPARISON_SEEDS),
    Group("offline_hard", (_offline("offline_dqn_hard", "offline_dqn_hard"), _offline("cql_hard", "cql_hard")),
          claims=(("cql_hard", "offline_dqn_hard", 1.0),), target=("cql_hard", "higher than offline DQN"),
          seeds=COMPARISON_SEEDS),
    # README 4.4: CQL's alpha on Medium, and the dataset-size ablation (the first N exploration steps)
    Group("cql_alpha_medium", tuple(_offline(f"cql_medium_alpha_{a}", "cql_medium", f"cql_alpha={a}",
                                             f"exp_name=cql_medium_alpha_{a}") for a in CQL_ALPHAS)),
    Group("cql_size_medium", tuple(_offline(f"cql_medium_size_{n}", "cql_medium", f"dataset_size={n}",
                                            f"exp_name=cql_medium_size_{n}") for n in DATASET_SIZES)),
    # the same ablation on Hard for both learners: prefixes with 1, 2, 48 and 117 goal transitions
    Group("size_hard", tuple(_offline(f"{name}_size_{n}", name, f"dataset_size={n}", f"exp_name={name}_size_{n}")
                             for name in ("offline_dqn_hard", "cql_hard") for n in DATASET_SIZES)),
    # README 5.8: AWAC and IQL on Easy and Medium
    Group("awac_iql_easy", (_offline("awac_easy", "awac_easy"), _offline("iql_easy", "iql_easy"))),
    Group("awac_iql_medium", (_offline("awac_medium", "awac_medium"), _offline("iql_medium", "iql_medium"))),
    # README 6.2: CQL fine-tuned online on Hard after its offline phase, against CQL offline only
    Group("finetune_hard", (_offline("cql_hard", "cql_hard"), _offline("cql_finetune_hard", "cql_finetune_hard")),
          claims=(("cql_finetune_hard", "cql_hard", 1.0),),
          target=("cql_finetune_hard", "higher than CQL offline only")),
)


def run_dir_of(out: Path, experiment: Experiment, seed: int) -> Path:
    return out / experiment.name / f"seed{seed}"


def read_result(out: Path, experiment: Experiment, seed: int) -> dict | None:
    path = run_dir_of(out, experiment, seed) / "result.json"
    return json.loads(path.read_text()) if path.exists() else None


def run_command(experiment: Experiment, seed: int | str, overrides=()) -> list[str]:
    """The student's command for one run (paths relative to the repository root)."""
    return ["python", "-m", f"{PACKAGE}.run", "--config", f"{PACKAGE}/configs/{experiment.config}.yaml",
            "--set", f"seed={seed}", *experiment.overrides, *overrides]


def run_one(out: Path, experiment: Experiment, seed: int, overrides=()) -> dict:
    """Train one (experiment, seed) in a subprocess, unless result.json says it already finished."""
    done = read_result(out, experiment, seed)
    if done is not None:
        return done
    log_root = run_dir_of(out, experiment, seed)
    log_root.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, *run_command(experiment, seed, overrides)[1:], f"log_root={log_root}"]
    returncode, usage, minutes = run_to_end(command, log_root / "stdout.log")
    if returncode != 0:
        raise RuntimeError(f"{experiment.name} seed {seed} failed: see {log_root / 'stdout.log'}")
    metrics = sorted(log_root.glob("hw5/*/metrics.csv"))[-1]  # the newest, should a killed run have left one
    with metrics.open() as file:
        rows = [row for row in csv.DictReader(file) if row.get(experiment.metric)]
    # offline runs: the handout's "final" value (offline_results), exploration runs: the last coverage
    score = (run_result(metrics.parent).final["eval_return"] if experiment.metric == "eval_return"
             else float(rows[-1][experiment.metric]))
    result = {"experiment": experiment.name, "seed": seed, "overrides": list(overrides),
              "steps": int(float(rows[-1][experiment.steps])), "score": score,
              "wall_minutes": minutes, "cpu_minutes": (usage.ru_utime + usage.ru_stime) / 60,
              "run_dir": str(metrics.parent)}
    (log_root / "result.json").write_text(json.dumps(result, indent=2))
    print(f"finished {experiment.name} seed {seed}: {experiment.metric} {result['score']:.3f} in {minutes:.1f} min "
          f"({result['cpu_minutes']:.1f} CPU)", flush=True)
    return result


def _stats(scores, metric: str) -> str:
    return stats_cell(scores, digits=3 if metric == "state_coverage" else 1)


def _seed_scores(results: list[dict]) -> str:
    return ", ".join(f"{r['score']:.3g}" for r in sorted(results, key=lambda r: r["seed"]))


def summarize(out: Path, groups, seeds_override=None, overrides=()) -> list[str]:
    """The markdown results table of every finished run, then a line per target and per lesson."""
    lines = ["| experiment | steps | score (metric): mean ± std | per seed | seeds | target "
             "| minutes per run: CPU (wall) | command (S = seed) |", "|---|---|---|---|---|---|---|---|"]
    verdicts = []
    for group in groups:
        means = {}
        for experiment in group.experiments:
            results = [r for r in (read_result(out, experiment, s) for s in seeds_override or group.seeds) if r]
            command = " ".join(run_command(experiment, "S", overrides))
            target = group.target[1] if group.target and group.target[0] == experiment.name else "-"
            if not results:
                lines.append(f"| {experiment.name} | - | not run | - | 0 | {target} | - | `{command}` |")
                continue
            scores = [r["score"] for r in results]
            means[experiment.name] = float(np.mean(scores))
            lines.append(f"| {experiment.name} | {int(np.mean([r['steps'] for r in results]))} {experiment.steps} | "
                         f"{_stats(scores, experiment.metric)} ({experiment.metric}) | {_seed_scores(results)} | "
                         f"{len(results)} | {target} | {minutes_cell(results)} | `{command}` |")
        for better, worse, factor in group.claims:
            if better in means and worse in means:
                holds = means[better] >= factor * means[worse] if means[worse] > 0 else means[better] > means[worse]
                verdicts.append(f"- lesson {better} >= {factor:g} x {worse}: {'holds' if holds else 'FAILS'} "
                                f"({means[better]:.3f} vs {means[worse]:.3f}, ratio "
                                f"{means[better] / means[worse] if means[worse] else float('nan'):.2f})")
    return lines + [""] + verdicts


def plot_groups(out: Path, groups, figure_dir: Path, seeds_override=None) -> None:
    from common.plotting import plot_runs

    for group in groups:
        by_metric: dict[tuple[str, str], list[Path]] = {}
        for experiment in group.experiments:
            for seed in seeds_override or group.seeds:
                if (result := read_result(out, experiment, seed)) is not None:
                    by_metric.setdefault((experiment.steps, experiment.metric), []).append(Path(result["run_dir"]))
        for (x, y), run_dirs in by_metric.items():
            figure_dir.mkdir(parents=True, exist_ok=True)
            plot_runs(run_dirs, x=x, y=y, out=figure_dir / f"{group.name}.png", title=f"{group.name}: {y}")


def select_groups(only: list[str]) -> list[Group]:
    """The groups named in `only`, or cut down to the experiments whose name holds one of its parts."""
    if not only:
        return list(GROUPS)
    selected = []
    for group in GROUPS:
        if group.name in only or any(group.name.startswith(part) for part in only):
            selected.append(group)
        elif kept := tuple(e for e in group.experiments if any(part in e.name for part in only)):
            names = {e.name for e in kept}
            selected.append(replace(group, experiments=kept,
                                    claims=tuple(c for c in group.claims if {c[0], c[1]} <= names),
                                    target=group.target if group.target and group.target[0] in names else None))
    return selected


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[],
                        help="a group name or part of an experiment name (repeatable); default: all")
    parser.add_argument("--out", default="runs/hw5_targets", help="where runs and result.json files go")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds of every group (default: 3)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value in every run (a sweep; use its own --out)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at the same time (one core each)")
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing: print the table and draw the figures of the finished runs")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    overrides = check_overrides(out, args.overrides, args.table_only)
    figure_dir = out / "figures" if overrides else ROOT / PACKAGE / "figures" / "targets"
    groups = select_groups(args.only)
    if not args.table_only:
        jobs = list(dict.fromkeys((e, seed) for g in groups for seed in (args.seeds or g.seeds) for e in g.experiments))
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for future in [pool.submit(run_one, out, e, seed, overrides) for e, seed in jobs]:
                try:
                    future.result()
                except RuntimeError as error:
                    print(error, file=sys.stderr, flush=True)
    plot_groups(out, groups, figure_dir, args.seeds)
    print(f"python -m benchmarks.hw5_targets {' '.join(argv if argv is not None else sys.argv[1:])}")
    print("\n".join(summarize(out, groups, args.seeds, overrides)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
