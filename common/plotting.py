"""Learning curves from run directories: the mean over seeds with a shaded +-1 std band.

    python -m common.plotting runs/hw2 --x env_steps --y eval_return --out figures/cartpole.png

    python -m common.plotting runs/hw3 --y train_return eval_return     # two metrics, one line each

Each argument is a run directory (one holding metrics.csv, as written by common.logger) or any
directory above runs. Runs are grouped by experiment, the `<exp_name>_<env_id>` part of their
directory name `<exp_name>_<env_id>_<seed>_<stamp>`, and each group becomes one line (one per
metric when `--y` names several). A run continued from a checkpoint (its config.yaml has
`resume_from` naming another run found) is one curve with the run it continues: the older run's
rows up to where the continuation starts, then the continuation's.

Seeds of one experiment rarely log at the same x (a batch of "at least 1000 steps" ends after a
whole episode), so their curves are linearly interpolated onto a common grid spanning the x range
that all of them cover; there the mean and standard deviation over seeds are taken pointwise.
A row where the y metric was not logged is skipped, but a value logged as NaN (a diverged run)
stays NaN: the line has a gap there, and so does the mean of the seeds.

In a notebook: `plot_runs(["runs/hw2"], x="env_steps", y="eval_return", out="curve.png")`, then
display the PNG; `aggregate_runs` gives the numbers without drawing.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from matplotlib.figure import Figure

from common.logger import CONFIG_FILE, METRICS_FILE

# `<exp>_<env>` then `_<seed>_<stamp>`, stamp as written by common.logger (optionally `-N` when two
# runs started in the same second).
_RUN_NAME = re.compile(r"^(?P<experiment>.+)_(?P<seed>-?\d+)_(?P<stamp>\d{8}-\d{6}(?:-\d+)?)$")


class PlotError(ValueError):
    """The runs cannot be plotted as asked (no runs, a missing column, an empty run)."""


@dataclass
class Curve:
    """One experiment's learning curve, aggregated over its runs (seeds).

    x: (P,) grid; mean, std: (P,) the mean and population std over runs at each grid point;
    run_dirs: the runs that went into it (a resumed run by its first piece).
    """

    label: str
    x: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    run_dirs: list[Path]

    @property
    def num_runs(self) -> int:
        return len(self.run_dirs)

    @property
    def num_seeds(self) -> int:
        """Distinct seeds among the runs: fewer than num_runs when a seed was run again."""
        return len({_seed_of(run) for run in self.run_dirs})


def find_runs(paths: Sequence[str | Path]) -> list[Path]:
    """Every run directory (holding metrics.csv) at or below each of `paths`, sorted, no repeats."""
    runs: list[Path] = []
    for path in map(Path, paths):
        if path.name == METRICS_FILE:
            path = path.parent
        if not path.exists():
            raise PlotError(f"{path} does not exist")
        if (path / METRICS_FILE).is_file():
            found = [path]
        else:
            found = sorted(metrics.parent for metrics in path.rglob(METRICS_FILE))
            if not found:
                raise PlotError(f"no runs found under {path} (a run directory holds {METRICS_FILE})")
        runs += [run for run in found if run not in runs]
    return runs


def experiment_name(run_dir: str | Path) -> str:
    """`<exp_name>_<env_id>` from a run directory's name; the whole name when it has another form."""
    name = Path(run_dir).name
    match = _RUN_NAME.match(name)
    return match["experiment"] if match else name


def read_metrics(run_dir: str | Path) -> dict[str, np.ndarray]:
    """metrics.csv as {column: (rows,) float array}; empty cells (metric not logged that row) are NaN."""
    return {name: _to_floats(cells) for name, cells in _read_cells(run_dir).items()}


def aggregate_runs(run_dirs: Sequence[str | Path], x: str, y: str) -> list[Curve]:
    """One Curve per experiment found under `run_dirs`, in order of first appearance.

    Raises PlotError naming the run and the columns it has when `x` or `y` is missing, or when a
    run has no row where both are logged.
    """
    groups: dict[str, list[list[Path]]] = {}
    for pieces in resumed_runs(find_runs(run_dirs)):
        groups.setdefault(experiment_name(pieces[0]), []).append(pieces)
    curves = []
    for label, runs in groups.items():
        xs, ys = zip(*(_joined_xy(pieces, x, y) for pieces in runs))
        grid, values = _common_grid(list(xs), list(ys), label, x)
        curves.append(Curve(label, grid, values.mean(axis=0), values.std(axis=0), [pieces[0] for pieces in runs]))
    return curves


def resumed_runs(runs: Sequence[Path]) -> list[list[Path]]:
    """The runs as chains of pieces, oldest first: a run whose config.yaml says `resume_from: <a run
    among them>` (or a file inside it) continues that run, so the two make one curve, not two seeds."""
    by_name = {run.name: run for run in runs}
    continued_by = {}
    for run in runs:
        source = _resumed_from(run)
        if source in by_name and source != run.name:
            continued_by[by_name[source]] = run
    continuations = set(continued_by.values())
    chains = []
    for run in runs:
        if run not in continuations:
            chain = [run]
            while chain[-1] in continued_by and continued_by[chain[-1]] not in chain:
                chain.append(continued_by[chain[-1]])
            chains.append(chain)
    return chains


def _resumed_from(run: Path) -> str | None:
    """The name of the run directory that `run` was resumed from, or None."""
    config_file = run / CONFIG_FILE
    if not config_file.is_file():
        return None
    try:
        source = (yaml.safe_load(config_file.read_text()) or {}).get("resume_from")
    except (yaml.YAMLError, AttributeError):
        return None
    if not source:
        return None
    return next((part for part in reversed(Path(str(source)).parts) if _RUN_NAME.match(part)), None)


def _joined_xy(pieces: list[Path], x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) points of a run made of pieces: each piece's points before its continuation's first row."""
    xs, ys = [], []
    for piece, continuation in zip(pieces, pieces[1:] + [None]):
        piece_x, piece_y = _xy(piece, x, y, allow_empty=continuation is not None)
        if continuation is not None:
            first = np.nanmin(_to_floats(_read_cells(continuation).get(x, [])), initial=np.inf)
            piece_x, piece_y = piece_x[piece_x < first], piece_y[piece_x < first]
        xs.append(piece_x)
        ys.append(piece_y)
    return np.concatenate(xs), np.concatenate(ys)


def plot_runs(
    run_dirs: Sequence[str | Path],
    x: str = "env_steps",
    y: str | Sequence[str] = "eval_return",
    out: str | Path = "learning_curve.png",
    title: str | None = None,
) -> Path:
    """Draw every experiment under `run_dirs` as mean +- std over seeds and save the figure to `out`.

    `y` may name several metrics: then each experiment has one line per metric, labelled with it.
    """
    metrics = [y] if isinstance(y, str) else list(y)
    curves = []
    for metric in metrics:
        for curve in aggregate_runs(run_dirs, x, metric):
            if len(metrics) > 1:
                curve.label = f"{curve.label}: {_axis_label(metric)}"
            curves.append(curve)
    figure = draw_curves(curves, x, " / ".join(metrics), title)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return out


def draw_curves(curves: Sequence[Curve], x: str, y: str, title: str | None = None) -> Figure:
    """A matplotlib Figure with one line (mean) and one shaded band (+-1 std) per curve.

    A bare Figure needs no GUI backend, so this works on headless machines and in notebooks alike.
    The legend sits below the axes, outside them, so it never covers a curve: two columns when the
    labels fit side by side, else one; the figure grows by a quarter inch per legend row.
    """
    for columns in (2, 1) if len(curves) > 1 else (1,):
        figure = _draw_with_legend_below(curves, x, y, title, columns)
        figure.draw_without_rendering()  # lays the figure out, so the legend's width is known
        if figure.legends[0].get_window_extent().width <= figure.bbox.width:
            break
    return figure


def _draw_with_legend_below(curves: Sequence[Curve], x: str, y: str, title: str | None, columns: int) -> Figure:
    legend_rows = -(-len(curves) // columns)
    figure = Figure(figsize=(7, 4.5 + 0.25 * legend_rows), layout="constrained")
    axes = figure.add_subplot()
    for curve in curves:
        (line,) = axes.plot(curve.x, curve.mean, label=_legend_label(curve))
        if curve.num_runs > 1:
            axes.fill_between(curve.x, curve.mean - curve.std, curve.mean + curve.std, color=line.get_color(), alpha=0.2)
    axes.set_xlabel(_axis_label(x))
    axes.set_ylabel(_axis_label(y))
    axes.set_title(title or f"{_axis_label(y)} (mean ± std over seeds)")
    axes.grid(alpha=0.3)
    figure.legend(loc="outside lower center", ncols=columns, fontsize="small", frameon=False)
    return figure


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m common.plotting",
        description="Plot learning curves (mean and std over seeds) from run directories.",
    )
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories or directories above them")
    parser.add_argument("--x", default="env_steps", help="column for the x-axis (default: env_steps)")
    parser.add_argument("--y", nargs="+", default=["eval_return"],
                        help="column(s) for the y-axis, one line each (default: eval_return)")
    parser.add_argument("--out", default="learning_curve.png", help="PNG file to write (default: learning_curve.png)")
    parser.add_argument("--title", default=None, help="figure title")
    args = parser.parse_args(argv)
    try:
        out = plot_runs(args.run_dirs, x=args.x, y=args.y, out=args.out, title=args.title)
    except PlotError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


def _read_cells(run_dir: str | Path) -> dict[str, list[str]]:
    """metrics.csv as {column: (rows,) cells as text}, "" where the metric was not logged that row."""
    with (Path(run_dir) / METRICS_FILE).open(newline="") as file:
        reader = csv.reader(file)
        header = next(reader, [])
        rows = [row for row in reader if row]
    return {name: [row[i] if i < len(row) else "" for row in rows] for i, name in enumerate(header)}


def _seed_of(run_dir: Path) -> str:
    """The seed part of a run directory's name; the whole name when it has another form."""
    match = _RUN_NAME.match(run_dir.name)
    return match["seed"] if match else run_dir.name


def _legend_label(curve: Curve) -> str:
    """`<exp>_<env> (3 seeds)`, or `(2 seeds, 3 runs)` when a seed was run more than once.

    The runs are counted then because the mean mixes the runs of that seed (an old run left next
    to a new one, say), which the number of seeds alone would hide.
    """
    counts = f"{curve.num_seeds} seed" + ("" if curve.num_seeds == 1 else "s")
    if curve.num_runs != curve.num_seeds:
        counts += f", {curve.num_runs} runs"
    return f"{curve.label} ({counts})"


def _xy(run: Path, x: str, y: str, allow_empty: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) points of one run, keeping the rows where both are logged, sorted by x.

    A y value logged as NaN (a diverged loss, say) is kept, unlike an empty cell: the curve then
    has a gap there, where interpolating over the row would draw a made-up value and hide it.
    allow_empty: a run with no such row gives no points instead of an error (a resumed run's piece).
    """
    cells = _read_cells(run)
    if not cells:
        raise PlotError(f"run {run} is empty: {METRICS_FILE} has no columns yet")
    for name in (x, y):
        if name not in cells:
            raise PlotError(f"column {name!r} not in {run / METRICS_FILE}; columns there: {', '.join(cells)}")
    xs, ys = _to_floats(cells[x]), _to_floats(cells[y])
    if len(xs) == 0 and not allow_empty:
        raise PlotError(f"run {run} is empty: {METRICS_FILE} has a header but no rows yet")
    logged = ~np.isnan(xs) & np.array([cell != "" for cell in cells[y]])
    if not logged.any() and not allow_empty:
        raise PlotError(f"run {run} has no row with both {x!r} and {y!r} logged ({len(xs)} rows in {METRICS_FILE})")
    order = np.argsort(xs[logged], kind="stable")
    return xs[logged][order], ys[logged][order]


def _common_grid(xs: list[np.ndarray], ys: list[np.ndarray], label: str, x_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Put the runs of one experiment on one x grid: returns grid (P,) and values (runs, P)."""
    if all(len(xi) == len(xs[0]) and np.array_equal(xi, xs[0]) for xi in xs):
        return xs[0], np.stack(ys)
    start, stop = max(xi[0] for xi in xs), min(xi[-1] for xi in xs)
    if start > stop:
        raise PlotError(f"the runs of {label} cover {x_name} ranges that do not overlap; plot them separately")
    grid = np.linspace(start, stop, max(len(xi) for xi in xs))
    return grid, np.stack([np.interp(grid, xi, yi) for xi, yi in zip(xs, ys)])


def _to_floats(cells: list[str]) -> np.ndarray:
    """(rows,) float64; an empty or non-numeric cell becomes NaN."""
    return np.array([_to_float(cell) for cell in cells], dtype=np.float64)


def _to_float(cell: str) -> float:
    try:
        return float(cell) if cell else np.nan
    except ValueError:
        return np.nan


def _axis_label(column: str) -> str:
    return column.replace("_", " ")


if __name__ == "__main__":
    sys.exit(main())
