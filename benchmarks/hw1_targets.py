"""Homework 1 targets: the tabular experiments of the handout (sections 7-8) over seeds, as a results table.

    python -m benchmarks.hw1_targets                       # about a minute: 5 seeds of each IRL config, the lottery
    python -m benchmarks.hw1_targets --seeds 0 1 2 --out runs/hw1_targets

Each run is `run_tabular.run` of a handout config with `seed=S`, in this process (the runs take well
under a second of computation each), logging under OUT/hw1/. The table gives, per experiment, the
mean and std over seeds of the recovered reward's visitation TV to the expert's, of the reward
correlation and of the demonstrations' own TV, the target, the CPU seconds per run (computation and
figures, without Python's start-up) and the command of one run. The handout's lessons are checked
and printed as holds / FAILS. The figures of section 11 are redrawn into hw1_imitation/figures/.

Part 3 (expressive policies, section 5.4): each of the three configs (Gaussian, mixture, flow) on
`--expressive-seeds` (default 0 1 2; about 3 minutes of CPU in all), a second table with the
success rate per seed, its mean, the target and the CPU per run; `--no-expressive` skips it.
Parts 1-2 (behavior cloning and DAgger, sections 3.4 and 4.3): bc_<env> and dagger_<env> on
`--imitation-seeds` (default 0 1 2) for each task with a shipped expert (`--imitation-envs`; a task
without one is listed as missing), a third table with the final eval return (mean +- std over seeds),
its fraction of the expert's (the expert's mean return over 10 episodes, from its metadata), the
wall minutes per run and the command; DAgger's curves with the expert and BC lines go to
figures/dagger_<env>.png. About 0.5 (BC) and 1.5 (DAgger) CPU minutes per run on HalfCheetah.
`--no-imitation` skips it.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from common.config import load_config
from common.plotting import plot_runs
from hw1_imitation.experts import ENVS, expert_paths
from hw1_imitation.imitation_training import ImitationConfig
from hw1_imitation.run import run as run_imitation
from hw1_imitation.run_expressive import ExpressiveConfig
from hw1_imitation.run_expressive import run as run_expressive
from hw1_imitation.run_tabular import TabularConfig, run

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "hw1_imitation" / "configs"
FIGURE_DIR = ROOT / "hw1_imitation" / "figures"
SEEDS = (0, 1, 2, 3, 4)  # the IRL lesson is a comparison (terrain against per-cell features)
IRL_CONFIGS = ("maxent_irl", "maxent_irl_state_features")
TV_TARGET, CORRELATION_TARGET = 0.05, 0.9
EXPRESSIVE_SEEDS = (0, 1, 2)
# success-rate targets of section 5.4 (mean over seeds): the Gaussian at most, the others at least
EXPRESSIVE_TARGETS = {"expressive_gaussian": ("<=", 0.5), "expressive_mixture": (">=", 0.9),
                      "expressive_flow": (">=", 0.9)}


def run_config(name: str, seed: int, out: Path, figures: Path | None) -> tuple[dict, float, Path]:
    """One run: its summary, its CPU seconds and its run directory; its handout figure goes to `figures`."""
    overrides = [f"seed={seed}", f"log_root={out}"] + ([f"figures_dir={figures}"] if figures else [])
    config = load_config(TabularConfig, CONFIG_DIR / f"{name}.yaml", overrides)
    start = time.process_time()
    summary, run_dir = run(config)
    return summary, time.process_time() - start, run_dir


def expressive_targets(seeds: list[int], out: Path, figures: Path | None) -> list[tuple[str, bool]]:
    """Section 5.4: each policy's config on `seeds`; prints its table, returns the target checks."""
    rows, checks = [], []
    for name, (direction, target) in EXPRESSIVE_TARGETS.items():
        rates, cpus = [], []
        for seed in seeds:
            overrides = [f"seed={seed}", f"log_root={out}"] + ([f"figures_dir={figures}"] if figures and seed == seeds[0] else [])
            config = load_config(ExpressiveConfig, CONFIG_DIR / f"{name}.yaml", overrides)
            start = time.process_time()
            summary, _ = run_expressive(config)
            cpus.append(time.process_time() - start)
            rates.append(summary["success_rate"])
        mean = float(np.mean(rates))
        holds = mean <= target if direction == "<=" else mean >= target
        rows.append((name, len(seeds), f"{mean:.2f} ± {np.std(rates):.2f}", ", ".join(f"{r:.2f}" for r in rates),
                     f"success {direction} {target}", f"{np.mean(cpus):.0f}",
                     f"python -m hw1_imitation.run_expressive --config hw1_imitation/configs/{name}.yaml --set seed=S"))
        checks.append((f"target {name}: mean success rate {direction} {target}", holds))
    print("\n| experiment | seeds | success rate | per seed | target | CPU s per run | command (S = seed) |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    return checks

IMITATION_SEEDS = (0, 1, 2)
CONFIG_NAMES = {"HalfCheetah-v5": "halfcheetah", "Hopper-v5": "hopper", "Walker2d-v5": "walker2d", "Ant-v5": "ant"}
BC_SPLIT, DAGGER_TARGET = 0.3, 0.9   # sections 3.4 and 4.3: fractions of the expert's return


def imitation_targets(envs: list[str], seeds: list[int], out: Path, figures: Path | None) -> list[tuple[str, bool]]:
    """Sections 3.4 and 4.3: BC and DAgger on each env with an expert; prints the table, returns the checks."""
    from hw1_imitation.imitation_plots import plot_dagger

    rows, fractions = [], {"bc": {}, "dagger": {}}
    for env_id in envs:
        name = CONFIG_NAMES[env_id]
        if not expert_paths(env_id)["data"].exists():
            rows.append((f"bc / dagger {env_id}", 0, "no shipped expert yet", "-", "-", "-", "-", "-"))
            continue
        for algorithm in ("bc", "dagger"):
            returns, walls = [], []
            for seed in seeds:
                config = load_config(ImitationConfig, CONFIG_DIR / f"{algorithm}_{name}.yaml",
                                     [f"seed={seed}", f"log_root={out}", "progress_bar=false"])
                start = time.perf_counter()
                summary = run_imitation(config)
                walls.append((time.perf_counter() - start) / 60)
                returns.append(summary["eval_return"])
                expert = summary["expert_return"]
            fraction = float(np.mean(returns)) / expert
            fractions[algorithm][env_id] = fraction
            target = (f"BC >= {BC_SPLIT:.0%} on one task, < {BC_SPLIT:.0%} on another" if algorithm == "bc"
                      else f">= {DAGGER_TARGET:.0%} of the expert on two tasks")
            rows.append((f"{algorithm} {env_id}", len(seeds), f"{np.mean(returns):.0f} ± {np.std(returns):.0f}",
                         ", ".join(f"{r:.0f}" for r in returns), f"{fraction:.0%} of {expert:.0f}", target,
                         f"{np.mean(walls):.1f}",
                         f"python -m hw1_imitation.run --config hw1_imitation/configs/{algorithm}_{name}.yaml --set seed=S"))
        if figures is not None:
            plot_dagger([out / "hw1"], figures / f"dagger_{name}.png", title=f"DAgger on {env_id}", env_id=env_id)
    print("\n| experiment | seeds | final eval return | per seed | of the expert | target | wall min per run | command (S = seed) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    bc = fractions["bc"].values()
    return [
        (f"target bc: >= {BC_SPLIT:.0%} of the expert on one task and < {BC_SPLIT:.0%} on another "
         f"({len(fractions['bc'])} of {len(envs)} tasks measured)",
         any(f >= BC_SPLIT for f in bc) and any(f < BC_SPLIT for f in bc)),
        (f"target dagger: >= {DAGGER_TARGET:.0%} of the expert on at least two tasks "
         f"({len(fractions['dagger'])} of {len(envs)} tasks measured)",
         sum(f >= DAGGER_TARGET for f in fractions["dagger"].values()) >= 2),
    ]


def mean_std(values: list[float]) -> str:
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hw1_targets", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--out", default="runs/hw1_targets", help="where the runs go (default: runs/hw1_targets)")
    parser.add_argument("--figures", default=str(FIGURE_DIR), help="where the figures go (default: the handout's)")
    parser.add_argument("--expressive-seeds", type=int, nargs="+", default=list(EXPRESSIVE_SEEDS))
    parser.add_argument("--no-expressive", action="store_true", help="skip part 3 (a few minutes)")
    parser.add_argument("--imitation-seeds", type=int, nargs="+", default=list(IMITATION_SEEDS))
    parser.add_argument("--imitation-envs", nargs="+", default=list(ENVS), choices=ENVS)
    parser.add_argument("--no-imitation", action="store_true", help="skip parts 1-2 (about 6 CPU minutes per task)")
    parser.add_argument("--only-imitation", action="store_true", help="run parts 1-2 only")
    args = parser.parse_args(argv)
    out, figures = Path(args.out), Path(args.figures)
    if args.only_imitation:
        checks = imitation_targets(args.imitation_envs, args.imitation_seeds, out, figures)
        print()
        for text, holds in checks:
            print(f"- {text}: {'holds' if holds else 'FAILS'}")
        return 0 if all(holds for _, holds in checks) else 1
    rows, results, run_dirs = [], {}, {}
    for name in IRL_CONFIGS:
        outcomes = [run_config(name, seed, out, figures if seed == args.seeds[0] else None) for seed in args.seeds]
        summaries = [summary for summary, _, _ in outcomes]
        results[name] = {key: [s[key] for s in summaries] for key in ("visitation_tv", "reward_correlation", "demonstrations_tv")}
        run_dirs[name] = [run_dir for _, _, run_dir in outcomes]
        target = (f"TV <= {TV_TARGET}, correlation >= {CORRELATION_TARGET}" if name == "maxent_irl"
                  else "(comparison with maxent_irl)")
        rows.append((name, len(args.seeds), mean_std(results[name]["visitation_tv"]),
                     mean_std(results[name]["reward_correlation"]), mean_std(results[name]["demonstrations_tv"]),
                     target, f"{np.mean([cpu for _, cpu, _ in outcomes]):.1f}",
                     f"python -m hw1_imitation.run_tabular --config hw1_imitation/configs/{name}.yaml --set seed=S"))
    lottery, lottery_cpu, _ = run_config("lottery", 0, out, figures)
    rows.append(("lottery", 1, f"buys the ticket: exact {lottery['exact']['lottery_probability']:.3f}, "
                 f"variational {lottery['variational']['lottery_probability']:.3f}",
                 f"brute-force error {lottery['brute_force']['largest_error']:.1e}", "-",
                 "exact takes the lottery, variational does not; values match brute force", f"{lottery_cpu:.1f}",
                 "python -m hw1_imitation.run_tabular --config hw1_imitation/configs/lottery.yaml"))
    for y in ("visitation_tv", "reward_correlation"):
        short = "tv" if y == "visitation_tv" else "correlation"
        plot_runs(run_dirs["maxent_irl"] + run_dirs["maxent_irl_state_features"], x="iteration", y=y,
                  out=figures / f"maxent_irl_{short}.png", title=f"MaxEnt IRL: {y.replace('_', ' ')}")

    print("\n| experiment | seeds | visitation TV / result | reward correlation | demonstrations' TV | target | CPU s per run | command (S = seed) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    terrain, per_cell = results["maxent_irl"], results["maxent_irl_state_features"]
    checks = [
        ("target maxent_irl: TV <= 0.05 and correlation >= 0.9 (mean over seeds)",
         np.mean(terrain["visitation_tv"]) <= TV_TARGET and np.mean(terrain["reward_correlation"]) >= CORRELATION_TARGET),
        ("target lottery: exact inference takes the lottery, variational does not, both match brute force",
         lottery["exact_takes_lottery"] and not lottery["variational_takes_lottery"]
         and lottery["brute_force"]["largest_error"] < 1e-6),
        ("lesson: terrain features end closer to the expert than per-cell features (TV, every seed)",
         all(a < b for a, b in zip(terrain["visitation_tv"], per_cell["visitation_tv"]))),
        ("lesson: the terrain reward's visitation is closer to the expert's than the demonstrations' own (every seed)",
         all(a < b for a, b in zip(terrain["visitation_tv"], terrain["demonstrations_tv"]))),
        ("lesson: terrain features recover the reward better than per-cell features (correlation, every seed)",
         all(a > b for a, b in zip(terrain["reward_correlation"], per_cell["reward_correlation"]))),
    ]
    if not args.no_expressive:
        checks += expressive_targets(args.expressive_seeds, out, figures)
    if not args.no_imitation:
        checks += imitation_targets(args.imitation_envs, args.imitation_seeds, out, figures)
    print()
    for text, holds in checks:
        print(f"- {text}: {'holds' if holds else 'FAILS'}")
    print(f"\nruns: {out / 'hw1'}; figures: {figures}")
    return 0 if all(holds for _, holds in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
