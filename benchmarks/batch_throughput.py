"""Throughput of `python -m grader batch`: N copies of the reference, 1 worker, then 2 workers.

    python benchmarks/batch_throughput.py [--hw hw2] [--copies 8] [--seed 1]

Both runs grade the same copies with the same seed (fresh gradebooks: nothing is skipped), through
the same code as the CLI (`grader.batch.run_batch` with the local pool). Prints each run's wall time,
its per-grading times and scores, the load average, and as its last line
`speedup <wall with 1 worker / wall with 2 workers>` (goal: at least 1.7 on 2 free cores).
Every copy must score the reference's full marks in both runs: a grading slowed past its time
limits would show up here as a lower score.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader import batch  # noqa: E402
from grader.manifest import find_homework  # noqa: E402


def make_copies(hw: str, folder: Path, copies: int) -> None:
    homework = find_homework(hw)
    for i in range(copies):
        for name in homework.files:  # the reference's student files, as a flat upload
            target = folder / f"copy{i:02d}" / Path(name).name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((homework.root / name).read_bytes())


def timed_batch(hw: str, folder: Path, out: Path, workers: int, seed: int) -> tuple[float, list[batch.Row]]:
    started = time.monotonic()
    rows = batch.run_batch(hw, folder, out, batch.local_engine(workers), seed=seed, progress=False)
    return time.monotonic() - started, rows


def describe(label: str, wall: float, rows: list[batch.Row], max_score: float) -> str:
    seconds = [r.seconds for r in rows]
    scores = sorted({r.score for r in rows}, key=lambda s: -1 if s is None else s)
    full = sum(r.status == "graded" and r.score == max_score for r in rows)
    return (f"{label}: wall {wall:.1f} s for {len(rows)} gradings; per grading median {statistics.median(seconds):.1f} s "
            f"(min {min(seconds):.1f}, max {max(seconds):.1f}); full marks {full}/{len(rows)}, scores {scores}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hw", default="hw2")
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    homework = find_homework(args.hw)
    print(f"{args.hw}: {args.copies} copies of the reference; cores {len(os.sched_getaffinity(0))}, "
          f"sandbox cpus {homework.limits.cpus:g}, default workers here {batch.default_workers(homework)}")
    with tempfile.TemporaryDirectory(prefix="batch-throughput-") as tmp:
        tmp = Path(tmp)
        make_copies(args.hw, tmp / "subs", args.copies)
        walls = {}
        for workers in (1, 2):
            load = os.getloadavg()
            wall, rows = timed_batch(args.hw, tmp / "subs", tmp / f"w{workers}" / "gradebook.csv", workers, args.seed)
            walls[workers] = wall
            print(describe(f"{workers} worker(s)", wall, rows, homework.total_points)
                  + f"; load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}", flush=True)
    print(f"speedup {walls[1] / walls[2]:.2f}")


if __name__ == "__main__":
    main()
