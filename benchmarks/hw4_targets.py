"""Homework 4 learning targets: every experiment of the handout over several seeds, as a results table.

    python -m benchmarks.hw4_targets --only obstacles --only ablation     # the short ones (minutes of CPU each)
    python -m benchmarks.hw4_targets --only reacher --seeds 0 1 2
    python -m benchmarks.hw4_targets --only halfcheetah --only mbpo       # hours of CPU
    python -m benchmarks.hw4_targets --table-only                         # the table and figures of what has run

Each run is the student's command `python -m hw4_model_based.run --config CONFIG --set seed=S [--set ...]`
in its own process (one torch thread), logging under OUT/<experiment>/seed<S>/hw4/<run>/. An
experiment is a config file plus overrides (the ablations of README 4.8 are the obstacles config with
one setting changed, and their own exp_name, so each is one line of the plots).

Resumable: a run whose metrics reach its length (MPC: num_iterations; MBPO and SAC: total_env_steps) is
finished and skipped next time. An unfinished run continues from its newest resume checkpoint (the
benchmark adds `--set checkpoint_every=1` to MPC runs: every iteration; `checkpoint_every=2000` env
steps to MBPO and SAC runs) in a new run directory beside the old one; the table stitches the pieces
(rows of an older piece past the point the newer one resumed from are dropped). A killed run loses at
most one iteration or 2000 env steps.

Seeds: 5 for the groups whose lesson is a comparison (Reacher CEM against random shooting,
HalfCheetah CEM against random shooting, MBPO against SAC), 3 for the others; `--seeds` replaces them.
A sweep is the same script with `--set KEY=VALUE` (every run, after the config file and the
experiment's own overrides) and its own `--out` (recorded in OUT/overrides.json).

The table: experiment, env steps, mean and std over seeds of the final eval return (MPC: the return
of the last iteration's MPC episodes; MBPO and SAC: the last evaluation) and of the eval return
averaged over the run, seeds, target, minutes per run: CPU time (what a free core takes) and in
brackets wall time, the load average (1 min) sampled while it ran, ms per planned action (MPC), and
the command. Below it, one line per target and per lesson of the handout (reached / MISSED, holds /
FAILS). Figures (mean +- std over seeds against env steps) go to hw4_model_based/figures/<group>.png
(OUT/figures/ when --set is given); the obstacles group also copies seed 0's last path to
obstacles_path.png.
"""
from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml

# the running, the per-seed bookkeeping and the table cells of every homework's benchmark
from benchmarks.runs import (RUNNING_FILE, check_overrides, is_running, loads_cell, minutes_cell, read_rows,
                             record_segment, resume_point, run_watched, seed_dir_of, segments_of, stats_cell,
                             whole_run_dir)

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "hw4_model_based" / "configs"
FIGURE_DIR = ROOT / "hw4_model_based" / "figures"
FEW_SEEDS = (0, 1, 2)
CHECKPOINT_EVERY = {"mpc": "checkpoint_every=1", "mbpo": "checkpoint_every=2000"}  # iterations; env steps
COMPARISON_SEEDS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Experiment:
    """One line of the table: a config file (name without .yaml) and the overrides that make it this experiment."""

    name: str
    config: str
    overrides: tuple[str, ...] = ()
    target: float | None = None
    target_text: str = "-"


@dataclass(frozen=True)
class Group:
    """Experiments drawn in one figure.

    claims: the handout's lessons, pairs (better, worse) of experiment names: better's final eval
    return is higher. ratio: (numerator, denominator, at least): the first's final mean is at least
    that many times the second's (and the second's is positive).
    """

    name: str
    experiments: tuple[Experiment, ...]
    seeds: tuple[int, ...] = FEW_SEEDS
    claims: tuple[tuple[str, str], ...] = ()
    ratio: tuple[str, str, float] | None = None


def _ablation(name: str, setting: str) -> Experiment:
    """The obstacles experiment with one setting changed (README 4.8)."""
    return Experiment(name, "obstacles_mpc", (f"exp_name={name}", setting))


OBSTACLES = Experiment("obstacles_mpc", "obstacles_mpc", target=-25.0, target_text=">= -25 after 12 iterations")
# HalfCheetah plans in bfloat16 matmuls: 155 against 376 ms per planned action in float32 on this course's
# 2-core machine (benchmarks.mpc_speed: 5 members, horizon 15, README 8), which is what lets 15 iterations
# of 2000 planned steps fit the 30-minute goal. The configs stay float32, because bfloat16 is much slower
# on CPUs without bfloat16 instructions.
BFLOAT16 = ("planner.matmul_dtype=bfloat16",)
REACHER_RANDOM_SHOOTING = ("exp_name=reacher_random_shooting", "planner.method=random_shooting",
                           "planner.num_candidates=1000")
GROUPS = (
    Group("obstacles", (OBSTACLES,)),
    Group("reacher", (Experiment("reacher_mpc", "reacher_mpc", target=-8.0, target_text=">= -8 within 10 iterations"),
                      Experiment("reacher_random_shooting", "reacher_mpc", REACHER_RANDOM_SHOOTING)),
          seeds=COMPARISON_SEEDS, claims=(("reacher_mpc", "reacher_random_shooting"),)),
    Group("halfcheetah", (
        Experiment("halfcheetah_random_shooting", "halfcheetah_random_shooting", BFLOAT16, target=300.0,
                   target_text=">= 300 after 15 iterations"),
        Experiment("halfcheetah_cem", "halfcheetah_cem", BFLOAT16, target=800.0,
                   target_text=">= 800 after 15 iterations")),
        seeds=COMPARISON_SEEDS, claims=(("halfcheetah_cem", "halfcheetah_random_shooting"),)),
    Group("mbpo", (Experiment("mbpo_halfcheetah", "mbpo_halfcheetah"), Experiment("sac_halfcheetah", "sac_halfcheetah")),
          seeds=COMPARISON_SEEDS, ratio=("mbpo_halfcheetah", "sac_halfcheetah", 1.5)),
    Group("ablation_members", (_ablation("obstacles_members1", "dynamics.num_members=1"),
                               _ablation("obstacles_members3", "dynamics.num_members=3"), OBSTACLES)),
    Group("ablation_horizon", (_ablation("obstacles_horizon5", "planner.horizon=5"), OBSTACLES,
                               _ablation("obstacles_horizon30", "planner.horizon=30"))),
    Group("ablation_candidates", (_ablation("obstacles_candidates10", "planner.num_candidates=10"),
                                  _ablation("obstacles_candidates100", "planner.num_candidates=100"), OBSTACLES)),
)
GROUPS_BY_NAME = {g.name: g for g in GROUPS}


# ---------------------------------------------------------------------------------------------
# One (experiment, seed): its config, its pieces, stitched
# ---------------------------------------------------------------------------------------------


def config_path(experiment: Experiment) -> Path:
    return CONFIG_DIR / f"{experiment.config}.yaml"


def run_config(experiment: Experiment, overrides=()):
    """The experiment's full config (the dataclass of its algorithm), as the run will see it."""
    from common.config import load_config
    from hw4_model_based.run import ALGORITHMS, algorithm_of

    every = [*experiment.overrides, *overrides]
    argv = ["--config", str(config_path(experiment)), *(arg for o in every for arg in ("--set", o))]
    module, cls, _ = ALGORITHMS[algorithm_of(argv)].split(":")
    return load_config(getattr(importlib.import_module(module), cls), config_path(experiment), every)


def run_length(experiment: Experiment, overrides=()) -> tuple[str, int]:
    """(metric, value) that a finished run's last row reaches: MPC iterations, or MBPO's env steps."""
    config = run_config(experiment, overrides)
    if config.algorithm == "mpc":
        return "iteration", config.num_iterations
    return "env_steps", config.total_env_steps


def pieces(seed_dir: Path) -> list[Path]:
    """The run directories of one (experiment, seed), oldest first (their names end in a time stamp)."""
    return sorted((p.parent for p in seed_dir.glob("hw4/*/metrics.csv")), key=lambda p: p.name)


def stitch(seed_dir: Path) -> list[dict]:
    """The rows of every piece in training order.

    A piece that resumed after MPC iteration R logs R + 1 first (MBPO: after env step R, it logs
    R + log_every first); it replaces the older pieces' rows after R (a killed piece may have logged
    past its last checkpoint). A piece that starts over (iteration 0, or env step log_every) replaces
    everything. time_s of a resumed piece goes on from its checkpoint, so it is the run's wall time.
    """
    rows: list[dict] = []
    for piece in pieces(seed_dir):
        new = read_rows(piece / "metrics.csv")
        if not new:
            continue
        if "iteration" in new[0]:
            rows = [r for r in rows if r["iteration"] < new[0]["iteration"]]
        else:
            config = yaml.safe_load((piece / "config.yaml").read_text()) if (piece / "config.yaml").exists() else {}
            rows = [r for r in rows if r["env_steps"] <= new[0]["env_steps"] - int(config.get("log_every", 1))]
        rows += [{**r, "_piece": piece.name} for r in new]
    return rows


def read_result(out: Path, experiment: Experiment, seed: int, overrides=()) -> dict | None:
    """What one (experiment, seed) has logged so far (None: nothing), from its stitched metrics."""
    seed_dir = seed_dir_of(out, experiment.name, seed)
    rows = stitch(seed_dir)
    evaluated = [r for r in rows if "eval_return" in r and r.get("iteration", 1) > 0]  # MPC's row 0: random actions
    if not evaluated:
        return None
    key, length = run_length(experiment, overrides)
    used = list(dict.fromkeys(r["_piece"] for r in rows))
    segments = segments_of(seed_dir)
    known = [segments[name] for name in used if name in segments]
    plan_ms = [r["plan_ms"] for r in rows if "plan_ms" in r]
    return {
        "running": is_running(seed_dir),
        "experiment": experiment.name,
        "seed": seed,
        "env_steps": int(rows[-1]["env_steps"]),
        "finished": rows[-1].get(key, 0) >= length,
        "final_eval_return": evaluated[-1]["eval_return"],
        "average_eval_return": float(np.mean([r["eval_return"] for r in evaluated])),
        "wall_minutes": rows[-1].get("time_s", 0.0) / 60,
        "cpu_minutes": sum(s["cpu_minutes"] for s in known) if len(known) == len(used) else None,
        "load": [s["load_mean"] for s in known if s.get("load_mean") is not None],
        "plan_ms": float(np.mean(plan_ms)) if plan_ms else None,
        "seed_dir": str(seed_dir),
    }


def plot_dir(result: dict) -> Path:
    """A run directory with the whole curve: the only piece, or the stitched copy of all of them."""
    return whole_run_dir(Path(result["seed_dir"]), pieces, stitch)


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def run_command(experiment: Experiment, seed: int | str, overrides=()) -> list[str]:
    """The student's command for one run (paths relative to the repository root)."""
    every = [f"seed={seed}", *experiment.overrides, *overrides]
    return ["python", "-m", "hw4_model_based.run", "--config", f"hw4_model_based/configs/{experiment.config}.yaml",
            *(arg for o in every for arg in ("--set", o))]


def run_one(out: Path, experiment: Experiment, seed: int, overrides=()) -> dict | None:
    """Train (or continue) one (experiment, seed) in a subprocess unless it is done; returns read_result."""
    done = read_result(out, experiment, seed, overrides)
    if done is not None and done["finished"]:
        return done
    seed_dir = seed_dir_of(out, experiment.name, seed)
    if is_running(seed_dir):  # another benchmark process trains it now (two lanes given overlapping --only)
        print(f"skip {experiment.name} seed {seed}: another benchmark process is training it", flush=True)
        return done
    seed_dir.mkdir(parents=True, exist_ok=True)
    resume = resume_point(pieces(seed_dir))
    before = {p.name for p in pieces(seed_dir)}
    command = [sys.executable, *run_command(experiment, seed, overrides)[1:], "--set", f"log_root={seed_dir}",
               "--set", "progress_bar=false", "--set", CHECKPOINT_EVERY[run_config(experiment, overrides).algorithm]]
    if resume is not None:
        command += ["--set", f"resume_from={resume}"]
    print(f"start {experiment.name} seed {seed}" + (f" from {resume.name}" if resume else ""), flush=True)
    start = time.perf_counter()
    returncode, usage, loads = run_watched(command, seed_dir)
    new = [p.name for p in pieces(seed_dir) if p.name not in before]
    if new:
        record_segment(seed_dir, new[-1], {
            "cpu_minutes": (usage.ru_utime + usage.ru_stime) / 60, "wall_minutes": (time.perf_counter() - start) / 60,
            "load_mean": float(np.mean(loads)), "returncode": returncode,
            "resumed_from": resume.name if resume else None})
    if returncode != 0:
        print(f"{experiment.name} seed {seed} failed (exit {returncode}): see {seed_dir / 'stdout.log'}",
              file=sys.stderr, flush=True)
    result = read_result(out, experiment, seed, overrides)
    if result is not None:
        print(f"{'finished' if result['finished'] else 'unfinished'}: {experiment.name} seed {seed}: eval_return "
              f"{result['final_eval_return']:.1f} at {result['env_steps']} env steps, "
              f"{(time.perf_counter() - start) / 60:.1f} min wall, load {np.mean(loads):.1f}", flush=True)
    return result


# ---------------------------------------------------------------------------------------------
# The table and the figures
# ---------------------------------------------------------------------------------------------


def all_results_of(out: Path, experiment: Experiment, seeds, overrides) -> list[dict]:
    return [r for r in (read_result(out, experiment, s, overrides) for s in seeds) if r is not None]


def results_of(out: Path, experiment: Experiment, seeds, overrides) -> list[dict]:
    """The runs the table counts: the finished ones."""
    return [r for r in all_results_of(out, experiment, seeds, overrides) if r["finished"]]


def _plan_ms(results: list[dict]) -> str:
    values = [r["plan_ms"] for r in results if r["plan_ms"] is not None]
    return f"{np.mean(values):.0f}" if values else "-"


def summarize(out: Path, groups, seeds_override=None, overrides=()) -> list[str]:
    """The markdown results table of every finished run, then a line per target and per lesson."""
    lines = ["| experiment | env steps | final eval return | eval return averaged over the run | seeds | target "
             "| minutes per run: CPU (wall) | load | ms per planned action | command (S = seed) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    verdicts, listed = [], set()
    for group in groups:
        finals = {}
        for experiment in group.experiments:
            seeds = seeds_override or group.seeds
            results = results_of(out, experiment, seeds, overrides)
            if results:
                finals[experiment.name] = [r["final_eval_return"] for r in results]
            if experiment.name in listed:  # an experiment shared by several groups (the ablations' base) is one row
                continue
            listed.add(experiment.name)
            unfinished = len(all_results_of(out, experiment, seeds, overrides)) - len(results)
            unfinished_text = f" (+{unfinished} training or unfinished, not counted)" if unfinished else ""
            command = " ".join(run_command(experiment, "S", overrides))
            if not results:
                lines.append(f"| {experiment.name} | - | not run | - | 0{unfinished_text} | {experiment.target_text} "
                             f"| - | - | - | `{command}` |")
                continue
            lines.append(
                f"| {experiment.name} | {int(np.mean([r['env_steps'] for r in results]))} | "
                f"{stats_cell(finals[experiment.name])} | {stats_cell([r['average_eval_return'] for r in results])} | "
                f"{len(results)}{unfinished_text} | {experiment.target_text} | {minutes_cell(results)} | "
                f"{loads_cell(results)} | "
                f"{_plan_ms(results)} | `{command}` |")
            if experiment.target is not None:
                mean = np.mean(finals[experiment.name])
                verdicts.append(f"- target {experiment.name}: {mean:.1f} over {len(results)} seeds vs "
                                f"{experiment.target_text}: {'reached' if mean >= experiment.target else 'MISSED'}")
        for better, worse in group.claims:
            if better in finals and worse in finals:
                holds = np.mean(finals[better]) > np.mean(finals[worse])
                verdicts.append(f"- lesson {better} > {worse}: {'holds' if holds else 'FAILS'} "
                                f"(final {stats_cell(finals[better])} vs {stats_cell(finals[worse])})")
        if group.ratio is not None and {group.ratio[0], group.ratio[1]} <= set(finals):
            top, bottom, at_least = group.ratio
            ratio = np.mean(finals[top]) / np.mean(finals[bottom]) if np.mean(finals[bottom]) > 0 else float("nan")
            verdicts.append(f"- target {top} >= {at_least} x {bottom}: ratio {ratio:.2f} "
                            f"(final {stats_cell(finals[top])} vs {stats_cell(finals[bottom])}): "
                            f"{'reached' if ratio >= at_least else 'MISSED'}")
    return lines + [""] + verdicts


def plot_groups(out: Path, groups, figure_dir: Path, seeds_override=None, overrides=()) -> None:
    from common.plotting import plot_runs

    for group in groups:
        results = [r for e in group.experiments for r in results_of(out, e, seeds_override or group.seeds, overrides)]
        if not results:
            continue
        figure_dir.mkdir(parents=True, exist_ok=True)
        plot_runs([plot_dir(r) for r in results], x="env_steps", y="eval_return", out=figure_dir / f"{group.name}.png",
                  title=f"{group.name}: eval_return (mean ± std over seeds)")
        if group.name == "obstacles":
            first = min(results, key=lambda r: r["seed"])
            paths = sorted(Path(first["seed_dir"]).glob("hw4/*/path.png"))
            if paths:
                shutil.copyfile(paths[-1], figure_dir / "obstacles_path.png")


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def select_groups(only: list[str]) -> list[Group]:
    """The groups `only` names (`ablation` names every ablation_* group), or cut down to the experiments it names."""
    if not only:
        return list(GROUPS)
    selected = []
    for group in GROUPS:
        if any(part == group.name or group.name.startswith(f"{part}_") for part in only):
            selected.append(group)
        elif experiments := tuple(e for e in group.experiments if e.name in only):
            names = {e.name for e in experiments}
            selected.append(replace(group, experiments=experiments,
                                    claims=tuple(p for p in group.claims if set(p) <= names),
                                    ratio=group.ratio if group.ratio and set(group.ratio[:2]) <= names else None))
    return selected


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[],
                        help="a group (obstacles, reacher, halfcheetah, mbpo, ablation_members, ...; ablation: all "
                             "three) or an experiment name (repeatable); default: all")
    parser.add_argument("--out", default="runs/hw4_targets", help="where the runs go")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="seeds of every group (default: 5 where the lesson is a comparison, else 3)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value in every run (a sweep; use its own --out)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at the same time")
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing: print the table and draw the figures of what has run")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    overrides = check_overrides(out, args.overrides, args.table_only)
    figure_dir = out / "figures" if overrides else FIGURE_DIR
    groups = select_groups(args.only)

    if not args.table_only:
        jobs = list(dict.fromkeys((e, seed) for g in groups for seed in (args.seeds or g.seeds) for e in g.experiments))
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for future in [pool.submit(run_one, out, e, seed, overrides) for e, seed in jobs]:
                future.result()
    plot_groups(out, groups, figure_dir, args.seeds, overrides)
    print(f"python -m benchmarks.hw4_targets {' '.join(argv if argv is not None else sys.argv[1:])}")
    print("\n".join(summarize(out, groups, args.seeds, overrides)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
