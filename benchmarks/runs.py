"""What the homeworks' learning-target benchmarks (benchmarks/hwN_targets.py) share.

Each hwN_targets.py runs the student's command for one (experiment, seed) in its own process and prints
a markdown table of the runs. Shared here:
- running one process: `run_to_end` (waits for it: hw2, hw5) or `run_watched` (polls it every POLL_S
  seconds, samples the load, marks its seed directory as being trained, may stop it: hw3, hw4); both
  read the child's own CPU time with os.wait4, whatever else runs on the cores;
- the bookkeeping of resumable runs (hw3, hw4), one seed directory per (experiment, seed) holding
  the run's pieces (one run directory per process): the segments file (CPU and wall time, load, exit
  status of each piece), the newest resume checkpoint, and for the figures a stitched copy of the pieces;
- table cells (mean ± std, minutes, load) and the --set rule (one OUT, one setting).
"""
from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEGMENTS_FILE = "segments.json"  # per seed directory: CPU and wall time, load, exit status of each process
RUNNING_FILE = "running.pid"     # per seed directory, while a benchmark's process trains it
POLL_S = 10.0


# ---------------------------------------------------------------------------------------------
# Running one process
# ---------------------------------------------------------------------------------------------


def training_env() -> dict:
    """The environment of a benchmark's run: no progress output, one torch thread."""
    return {**os.environ, "DEEPRL_PROGRESS": "0", "DEEPRL_TORCH_THREADS": "1", "OMP_NUM_THREADS": "1"}


def run_to_end(command: list[str], log: Path) -> tuple[int, resource.struct_rusage, float]:
    """Run `command` (its output to `log`, overwritten) until it exits: its exit code, its own resource
    usage (CPU time: ru_utime + ru_stime) and the wall minutes it took."""
    start = time.perf_counter()
    with log.open("w") as file:
        process = subprocess.Popen(command, cwd=ROOT, env=training_env(), stdout=file, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own CPU time, whatever runs beside it
    return os.waitstatus_to_exitcode(status), usage, (time.perf_counter() - start) / 60


def run_watched(command: list[str], seed_dir: Path,
                every_poll: Callable[[subprocess.Popen], None] | None = None
                ) -> tuple[int, resource.struct_rusage, list[float]]:
    """Run `command` (its output appended to seed_dir/stdout.log) until it exits, checking on it every
    POLL_S seconds: the load average is sampled and `every_poll(process)` called (it may stop the run).
    While it runs, seed_dir/RUNNING_FILE holds its pid (`is_running`). Returns its exit code, its own
    resource usage and the load samples."""
    loads = [load_average()]
    with (seed_dir / "stdout.log").open("a") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=training_env(), stdout=log, stderr=subprocess.STDOUT)
        (seed_dir / RUNNING_FILE).write_text(str(process.pid))
        while True:  # wait4 with WNOHANG: the child's own CPU time, whatever runs beside it
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(POLL_S)
            loads.append(load_average())
            if every_poll is not None:
                every_poll(process)
        (seed_dir / RUNNING_FILE).unlink(missing_ok=True)
    return os.waitstatus_to_exitcode(status), usage, loads


def load_average() -> float:
    """The 1-minute load average of the machine."""
    return float(Path("/proc/loadavg").read_text().split()[0])


# ---------------------------------------------------------------------------------------------
# One (experiment, seed) of a resumable benchmark: its pieces
# ---------------------------------------------------------------------------------------------


def seed_dir_of(out: Path, experiment: str, seed: int) -> Path:
    return out / experiment / f"seed{seed}"


def is_running(seed_dir: Path) -> bool:
    """Whether a benchmark process is training this (experiment, seed) now."""
    path = seed_dir / RUNNING_FILE
    if not path.exists():
        return False
    try:
        os.kill(int(path.read_text()), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def read_rows(metrics: Path) -> list[dict]:
    """The rows of a metrics.csv, each {column: float} without its empty cells."""
    with metrics.open() as file:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(file)]


def segments_of(seed_dir: Path) -> dict:
    """piece name -> what the process that wrote it took (cpu_minutes, wall_minutes, load_mean, returncode, ...)."""
    path = seed_dir / SEGMENTS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def record_segment(seed_dir: Path, piece: str, info: dict) -> None:
    segments = segments_of(seed_dir)
    segments[piece] = info
    (seed_dir / SEGMENTS_FILE).write_text(json.dumps(segments, indent=2))


def resume_point(pieces: list[Path]) -> Path | None:
    """The newest of the pieces (oldest first) that holds a resume checkpoint."""
    with_checkpoint = [p for p in pieces if (p / "checkpoints" / "resume.pt").exists()]
    return with_checkpoint[-1] if with_checkpoint else None


def whole_run_dir(seed_dir: Path, pieces: Callable[[Path], list[Path]], stitch: Callable[[Path], list[dict]]) -> Path:
    """A run directory with the whole curve, for the figures: the only piece, or a stitched copy of all of
    them, seed_dir/stitched/<first piece>/metrics.csv (`pieces` and `stitch` are the homework's)."""
    found = pieces(seed_dir)
    if len(found) == 1:
        return found[0]
    rows = stitch(seed_dir)
    target = seed_dir / "stitched" / found[0].name
    target.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for r in rows for k in r if not k.startswith("_")))
    with (target / "metrics.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return target


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def stats_cell(values, digits: int = 1) -> str:
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def minutes_cell(results: list[dict]) -> str:
    """CPU minutes (what one free core takes) and, in brackets, wall minutes, both means over seeds;
    `-` for the CPU time when a run lacks it (a result.json from before it was recorded)."""
    wall = f"{np.mean([r['wall_minutes'] for r in results]):.1f}"
    cpu = [r.get("cpu_minutes") for r in results]
    return f"{np.mean(cpu):.1f} ({wall})" if all(c is not None for c in cpu) else f"- ({wall})"


def loads_cell(results: list[dict]) -> str:
    """The mean load average sampled while the runs trained."""
    loads = [x for r in results for x in r["load"]]
    return f"{np.mean(loads):.1f}" if loads else "-"


def check_overrides(out: Path, overrides: list[str], table_only: bool) -> list[str]:
    """The overrides this OUT was run with; refuses other ones (one table, one setting)."""
    path = out / "overrides.json"
    if path.exists():
        recorded = json.loads(path.read_text())
        if table_only or recorded == overrides:
            return recorded
        raise SystemExit(f"{out} holds runs made with --set {' '.join(recorded) or '(none)'}; "
                         f"use another --out for --set {' '.join(overrides) or '(none)'}")
    if not table_only:
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(overrides))
    return overrides
