"""Tables and sweep plots of offline runs (README 4.4, 5.8, 6.2). Nothing to implement here.

    python -m hw5_exploration_offline.offline_results runs/hw5                       # one row per experiment
    python -m hw5_exploration_offline.offline_results runs/hw5 --only cql_medium_alpha --against cql_alpha \
        --out alpha_sweep.png                                                       # return and Q against alpha
    python -m hw5_exploration_offline.offline_results runs/hw5 --only cql_medium_size --against dataset_size \
        --out dataset_size.png

A run's "final" value is the mean of its last `--last` evaluations (default 3: one evaluation of 10
episodes is noisy); a row gives the mean and the population std of that over the seeds.
`--against KEY` groups the runs by a config key (read from each run's config.yaml) and plots the
final eval_return, and the final eval_q_estimate next to eval_discounted_return, against it.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from common.plotting import PlotError, experiment_name, find_runs, read_metrics

FINAL_COLUMNS = ("eval_return", "eval_success", "eval_q_estimate", "eval_discounted_return")


@dataclass
class RunResult:
    run_dir: Path
    experiment: str
    config: dict
    final: dict[str, float]        # the mean of the last evaluations, per FINAL_COLUMNS entry
    best_return: float             # the highest single evaluation
    gradient_steps: int
    env_steps: int


def run_result(run_dir: Path, last: int = 3) -> RunResult:
    """The final values of one offline run (the mean of its last `last` evaluation rows)."""
    metrics = read_metrics(run_dir)
    if "eval_q_estimate" not in metrics:
        raise PlotError(f"{run_dir} is not an offline run (no eval_q_estimate column)")
    evaluated = ~np.isnan(metrics["eval_return"])
    final = {key: float(np.mean(metrics[key][evaluated][-last:])) for key in FINAL_COLUMNS}
    config = yaml.safe_load((run_dir / "config.yaml").read_text()) if (run_dir / "config.yaml").exists() else {}
    return RunResult(run_dir, experiment_name(run_dir), config or {}, final,
                     float(np.max(metrics["eval_return"][evaluated])),
                     int(metrics["gradient_steps"][-1]), int(metrics["env_steps"][-1]))


def config_value(config: dict, key: str):
    """A dotted key of a run's config.yaml (`iql.expectile`), None when absent."""
    value = config
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def group(results: Sequence[RunResult], key: str | None) -> dict[object, list[RunResult]]:
    groups: dict[object, list[RunResult]] = {}
    for result in results:
        label = result.experiment if key is None else config_value(result.config, key)
        groups.setdefault(label, []).append(result)
    return groups


def table(groups: dict[object, list[RunResult]], header: str) -> str:
    """A markdown table: per group, seeds, steps, final return / success / Q estimate / true discounted return."""
    lines = [f"| {header} | seeds | gradient steps | env steps | final eval_return | final eval_success "
             "| final Q(s0, a0) | final discounted return | per seed |", "|---|---|---|---|---|---|---|---|---|"]
    for label, results in groups.items():
        finals = {key: np.array([r.final[key] for r in results]) for key in FINAL_COLUMNS}
        seeds = ", ".join(f"{r.final['eval_return']:.1f}" for r in results)
        lines.append(
            f"| {label} | {len(results)} | {results[0].gradient_steps} | {results[0].env_steps} "
            f"| {finals['eval_return'].mean():.1f} ± {finals['eval_return'].std():.1f} "
            f"| {finals['eval_success'].mean():.2f} | {finals['eval_q_estimate'].mean():.2f} "
            f"| {finals['eval_discounted_return'].mean():.2f} | {seeds} |")
    return "\n".join(lines)


def plot_against(groups: dict[object, list[RunResult]], key: str, out: Path) -> Path:
    """Final return (left) and final Q estimate vs true discounted return (right) against a config value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = sorted(groups, key=float)
    x = np.arange(len(values))
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for axis, columns in ((left, ("eval_return",)), (right, ("eval_q_estimate", "eval_discounted_return"))):
        for column in columns:
            finals = [np.array([r.final[column] for r in groups[v]]) for v in values]
            means, stds = np.array([f.mean() for f in finals]), np.array([f.std() for f in finals])
            axis.errorbar(x, means, yerr=stds, marker="o", capsize=3, label=column)
        axis.set_xticks(x, [str(v) for v in values])
        axis.set_xlabel(key)
        axis.grid(alpha=0.3)
    left.set_ylabel("final eval_return (mean ± std over seeds)")
    right.set_ylabel("discounted return from s0")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run directories or folders above them")
    parser.add_argument("--only", default=None, help="keep the experiments whose name starts with this")
    parser.add_argument("--against", default=None, help="group by this config key (cql_alpha, dataset_size, ...)")
    parser.add_argument("--last", type=int, default=3, help="evaluations averaged into a run's final value")
    parser.add_argument("--out", type=Path, default=None, help="with --against: the plot's path")
    parser.add_argument("--finished", action="store_true", help="only runs that finished (checkpoints/agent.pt written)")
    args = parser.parse_args(argv)
    try:
        runs = find_runs(args.runs)
        results = [run_result(run, args.last) for run in runs
                   if "eval_q_estimate" in (run / "metrics.csv").read_text().split("\n", 1)[0]]
    except PlotError as error:
        print(error)
        return 2
    results = [r for r in results if args.only is None or r.experiment.startswith(args.only)]
    if args.finished:
        results = [r for r in results if (r.run_dir / "checkpoints" / "agent.pt").exists()]
    if not results:
        print("no offline runs found (runs with an eval_q_estimate column)")
        return 2
    groups = group(results, args.against)
    if args.against:
        try:
            groups = dict(sorted(groups.items(), key=lambda item: float(item[0])))
        except (TypeError, ValueError):
            pass  # values that are not numbers keep the order of first appearance
    print(table(groups, args.against or "experiment"))
    if args.against and args.out:
        print(f"plot: {plot_against(groups, args.against, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
