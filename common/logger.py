"""Where a training run writes what it did: a run directory, metrics.csv, TensorBoard, checkpoints.

Every run gets its own directory::

    runs/<hw>/<exp_name>_<env_id>_<seed>_<stamp>/
        config.yaml        the full config the run used
        metrics.csv        one row per `log()` call, one column per metric name
        events.out.tfevents.*   the same scalars for TensorBoard (when tensorboard is installed)
        checkpoints/<name>.pt   `state_dict`s saved with `save_checkpoint`

A training loop reads::

    with Logger("hw2", "pg_baseline", "CartPole-v1", seed=0, config=config) as logger:
        bar = progress_bar(total=config.total_steps, desc="pg_baseline")
        while env_steps < config.total_steps:
            ...
            row = {"env_steps": env_steps, "train_return": train_return, "policy_loss": loss}
            if evaluated_this_iteration:
                row["eval_return"] = eval_return
            logger.log(row)
            bar.update(steps_this_iteration)
            bar.show_metrics(row, keys=("train_return", "eval_return"))  # eval_return: the latest one
        save_checkpoint(logger, "policy", policy.state_dict())

`common.plotting` reads the directories back: it groups runs by the `<exp_name>_<env_id>` part of the
name and averages over seeds.
"""
from __future__ import annotations

import csv
import math
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from common.config import save_config

METRICS_FILE = "metrics.csv"
CONFIG_FILE = "config.yaml"
CHECKPOINT_DIR = "checkpoints"
# The stamp holds no underscore, so `<exp>_<env>` is everything before the last two underscores.
STAMP_FORMAT = "%Y%m%d-%H%M%S"


class Logger:
    """Scalar logging for one run: `metrics.csv` always, TensorBoard when it is installed.

    Args:
        hw: homework name, the first directory level under `root` (e.g. "hw2").
        exp_name: experiment name from the handout (e.g. "pg_baseline"); runs of the same
            experiment and env with different seeds are averaged together by common.plotting.
        env_id: environment id (e.g. "HalfCheetah-v5"); "/" becomes "-" in the directory name.
        seed: the run's seed.
        config: the run's config (dataclass or dict), written to config.yaml; None writes nothing.
        root: the directory holding all runs.
        tensorboard: False skips TensorBoard even when it is installed.
    """

    def __init__(
        self,
        hw: str,
        exp_name: str,
        env_id: str,
        seed: int,
        config: Any = None,
        root: str | Path = "runs",
        tensorboard: bool = True,
    ) -> None:
        self.run_dir = make_run_dir(root, hw, exp_name, env_id, seed)
        if config is not None:
            save_config(config, self.run_dir / CONFIG_FILE)
        self.metrics_path = self.run_dir / METRICS_FILE
        self._csv = _MetricsCSV(self.metrics_path)
        self._tensorboard = _open_tensorboard(self.run_dir) if tensorboard else None
        self.num_rows = 0

    @property
    def uses_tensorboard(self) -> bool:
        return self._tensorboard is not None

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Append one row to metrics.csv (and one point per metric to TensorBoard).

        `metrics` maps names from the course vocabulary (`env_steps`, `train_return`, `eval_return`,
        `eval_return_std`, `episode_length`, `<what>_loss`) to numbers. A name that first appears
        in a later call becomes a new column; earlier rows leave it empty. TensorBoard's x-axis is
        `step`, else `metrics["env_steps"]`, else the row number.
        """
        if self._csv.closed:
            raise RuntimeError(
                f"log() called after close() on the logger of {self.run_dir}: log inside its `with` block"
            )
        row = {str(name): _scalar(name, value) for name, value in metrics.items()}
        self._csv.append(row)
        if self._tensorboard is not None:
            x = step if step is not None else int(row.get("env_steps", self.num_rows))
            for name, value in row.items():
                self._tensorboard.add_scalar(name, value, global_step=x)
        self.num_rows += 1

    def close(self) -> None:
        """Flush and close the files; safe to call twice."""
        self._csv.close()
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None

    def __enter__(self) -> Logger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Logger({str(self.run_dir)!r})"


def make_run_dir(root: str | Path, hw: str, exp_name: str, env_id: str, seed: int) -> Path:
    """Create and return `root/hw/<exp_name>_<env_id>_<seed>_<stamp>`, unique even within a second.

    When two runs start in the same second the later one's stamp gets a suffix: `...-014500-1`.
    """
    if not exp_name:
        raise ValueError("exp_name must not be empty: it names the experiment in plots")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int (it is part of the directory name), got {seed!r}")
    parent = Path(root) / _safe_name(hw)
    parent.mkdir(parents=True, exist_ok=True)
    base = f"{_safe_name(exp_name)}_{_safe_name(env_id)}_{seed}_{time.strftime(STAMP_FORMAT)}"
    for attempt in range(1000):
        run_dir = parent / (base if attempt == 0 else f"{base}-{attempt}")
        try:
            run_dir.mkdir()  # fails if it exists, so two processes never share a directory
            return run_dir
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a fresh run directory next to {parent / base}")


class ProgressBar(tqdm):
    """A tqdm bar that also shows the run's key metrics, each with its most recent value."""

    def show_metrics(self, metrics: Mapping[str, Any], keys: Sequence[str] | None = None,
                     digits: int = 1) -> None:
        """Show `metrics[key]` for each of `keys` (default: all of `metrics`) after the bar.

        A metric that is missing from `metrics`, None or NaN keeps the value it showed last: the
        bar of a run that evaluates every few iterations shows the latest `eval_return`, not
        `eval_return=nan` in between. A metric that never had a value is not shown. Numbers are
        rounded to `digits` decimals. The bar redraws at its next `update`.
        """
        shown = self.__dict__.setdefault("_shown_metrics", {})
        for key in metrics if keys is None else keys:
            value = metrics.get(key)
            if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
                continue
            shown[key] = f"{value:.{digits}f}" if isinstance(value, (float, np.floating)) else str(value)
        if shown:
            self.set_postfix(shown, refresh=False)


def progress_bar(total: int | None, desc: str | None = None, unit: str = "step", **tqdm_kwargs: Any) -> ProgressBar:
    """The tqdm bar every long loop shows. Advance it with `bar.update(n)`, show the key metrics with
    `bar.show_metrics(row, keys=("train_return", "eval_return"))` (each keeps its latest value until a
    new one comes, see ProgressBar.show_metrics), and `bar.close()` at the end (or use `with`).

    Set DEEPRL_PROGRESS=0 to hide bars (e.g. in batch jobs whose logs should stay short).
    """
    tqdm_kwargs.setdefault("disable", os.environ.get("DEEPRL_PROGRESS", "1") == "0")
    tqdm_kwargs.setdefault("dynamic_ncols", True)
    tqdm_kwargs.setdefault("mininterval", 0.5)
    return ProgressBar(total=total, desc=desc, unit=unit, **tqdm_kwargs)


def save_checkpoint(run: Logger | str | Path, name: str, state_dict: Mapping[str, Any]) -> Path:
    """Save `state_dict` (e.g. `policy.state_dict()`, or a dict of several) to `<run_dir>/checkpoints/<name>.pt`.

    `run` is a Logger or a run directory. Returns the file's path.
    """
    run_dir = run.run_dir if isinstance(run, Logger) else Path(run)
    path = run_dir / CHECKPOINT_DIR / (name if name.endswith(".pt") else f"{name}.pt")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict), path)
    return path


def run_experiment(hw: str, config: Any, train) -> Logger:
    """What every `python -m hwN_topic.run` does: `train(config, logger)` inside a run directory, then
    the trained agent saved as checkpoints/agent.pt and its eval_return curve drawn to eval_return.png.

    `config` has exp_name, env_id, seed and log_root. Prints where the metrics and the plot are and
    returns the (closed) Logger, whose run_dir a homework can use for more plots.
    """
    with Logger(hw, config.exp_name, config.env_id, config.seed, config, root=config.log_root) as logger:
        agent = train(config, logger)
        save_checkpoint(logger, "agent", agent.state_dict())
    from common.plotting import plot_runs  # matplotlib only once training is done

    figure = plot_runs([logger.run_dir], x="env_steps", y="eval_return",
                       out=logger.run_dir / "eval_return.png", title=config.exp_name)
    print(f"metrics: {logger.metrics_path}")
    print(f"plot:    {figure}")
    return logger


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a file written by `save_checkpoint`.

    `weights_only=True` lets torch read tensors, numbers, strings and containers only, never
    arbitrary pickled objects, so loading cannot run code hidden in the file.
    """
    return torch.load(Path(path), map_location=map_location, weights_only=True)


class _MetricsCSV:
    """metrics.csv that stays a valid CSV while its set of columns grows.

    Rows are appended and flushed at once (so plots can be drawn while a run trains). When a row
    brings a new column, the file is rewritten with the wider header; this happens a handful of
    times per run, when a metric is logged for the first time.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.columns: list[str] = []
        self._file = path.open("w", newline="")
        self.closed = False

    def append(self, row: dict[str, float | int]) -> None:
        new_columns = [name for name in row if name not in self.columns]
        if new_columns:
            self._widen(self.columns + new_columns)
        csv.DictWriter(self._file, fieldnames=self.columns, restval="").writerow(row)
        self._file.flush()

    def _widen(self, columns: list[str]) -> None:
        self._file.close()
        with self.path.open(newline="") as old:
            old_rows = list(csv.DictReader(old)) if self.columns else []
        tmp_path = self.path.with_suffix(".csv.tmp")
        with tmp_path.open("w", newline="") as new:
            writer = csv.DictWriter(new, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(old_rows)
        os.replace(tmp_path, self.path)  # readers see the old file or the new one, never half of one
        self.columns = columns
        self._file = self.path.open("a", newline="")

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self.closed = True


def _scalar(name: Any, value: Any) -> float | int:
    """A metric value as a Python int or float; numpy scalars and 1-element arrays/tensors are unwrapped."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()  # works for tensors that require grad too
    elif isinstance(value, (np.ndarray, np.generic)) and value.size == 1:
        value = value.item()
    if isinstance(value, bool):
        return int(value)  # a CSV cell "True" would not parse as a number when plotting
    if isinstance(value, (int, float)):
        return value
    raise ValueError(f"metric {name!r} must be a single number, got {type(value).__name__}: {value!r:.80}")


def _open_tensorboard(run_dir: Path):
    """A SummaryWriter into `run_dir`, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # the `tensorboard` extra is optional: metrics.csv is always written
        return None
    return SummaryWriter(log_dir=str(run_dir))


def _safe_name(text: str) -> str:
    """`text` with characters that are awkward in file names (/, spaces, ...) replaced by '-'."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(text)).strip("-") or "unnamed"
