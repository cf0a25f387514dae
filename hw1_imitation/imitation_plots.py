"""DAgger's learning curves with the expert and behavior cloning as horizontal lines (README 4.3).

    python -m hw1_imitation.imitation_plots runs/hw1 --env HalfCheetah-v5 --out hw1_imitation/figures/dagger_halfcheetah.png

DAgger runs (exp_name starting with dagger) give eval_return over iterations, mean +- std over seeds;
the expert line is the expert's measured mean return (the runs' expert_return column) and the
BC line the mean final eval_return of the behavior cloning runs (exp_name starting with bc) found
among the same directories (none found: DAgger's own iteration 0, which is behavior cloning).
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.plotting import aggregate_runs, draw_curves, experiment_name, find_runs, read_metrics


def plot_dagger(run_dirs: Sequence[str | Path], out: str | Path, title: str | None = None, env_id: str | None = None) -> Path:
    runs = [run for run in find_runs(run_dirs) if env_id is None or experiment_name(run).endswith(env_id)]
    dagger = [run for run in runs if experiment_name(run).startswith("dagger")]
    bc = [run for run in runs if experiment_name(run).startswith("bc")]
    curves = aggregate_runs(dagger, "iteration", "eval_return")
    figure = draw_curves(curves, "iteration", "eval_return", title)
    axes = figure.axes[0]
    expert = np.mean([read_metrics(run)["expert_return"][-1] for run in dagger])
    bc_return = (np.mean([read_metrics(run)["eval_return"][-1] for run in bc]) if bc
                 else np.mean([read_metrics(run)["eval_return"][0] for run in dagger]))
    axes.axhline(expert, color="black", linestyle="--", label=f"expert ({expert:.0f})")
    axes.axhline(bc_return, color="gray", linestyle=":", label=f"behavior cloning ({bc_return:.0f})")
    figure.legends[0].remove()
    handles, labels = axes.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=2)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--env", default=None, help="only runs of this env id")
    parser.add_argument("--out", required=True)
    parser.add_argument("--title", default=None)
    args = parser.parse_args(argv)
    print(plot_dagger(args.runs, args.out, args.title or args.env, args.env))


if __name__ == "__main__":
    main()
