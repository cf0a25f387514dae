"""`python -m grader report GRADEBOOK.csv --out report/`: what a whole class got right and wrong.

    report/score_histogram.png   total scores of the class, mean and median marked
    report/test_pass_rates.png   one bar per hidden test, the tests most of the class fails first
    report/part_means.png        the mean score of each part, as % of its points
    report/summary.md            the same numbers in a few tables

The gradebook is the CSV `python -m grader batch` writes (one row per submission). Per-part scores
come from it; per-test outcomes come from each submission's results.json, which the batch keeps
next to the gradebook (the row names it). A test "passes" when it earned all its points: partial
credit counts as a failure in the pass rate, the points still count in the part means.
Rows without a total (the batch could not grade them: an unreadable upload, a grader error, a
timeout) are left out of every number and counted apart in the summary, by status; a row with a
total but no per-test results (an unreadable upload scores 0; a results.json gone missing) counts
in the scores but not in the pass rates or the part means, which describe the suite's tests.
Per-part points come from the gradebook, each part's maximum from the tests' max_score.
"""
from __future__ import annotations

import csv
import json
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

TOP_FAILED = 5          # tests listed in summary.md
HISTOGRAM_BINS = 10


class ReportError(ValueError):
    """The gradebook cannot be read (missing, empty, malformed): the message says what to fix."""


@dataclass
class Submission:
    name: str
    score: float | None                          # None: the batch could not grade it
    max_score: float | None
    parts: dict[str, float]                      # part -> points earned (from the gradebook)
    tests: list[dict] | None = None              # results.json's tests, None when there are none
    status: str = ""                             # the batch's status (graded, incomplete, error...)


@dataclass
class PassRate:
    name: str                                    # full name as in results.json
    part: str
    order: int                                   # first position in the suite's results
    passed: int = 0
    graded: int = 0
    points: list[float] = field(default_factory=list)
    max_score: float = 0.0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0

    @property
    def short_name(self) -> str:
        return self.name.split(": ")[0]


# ------------------------------------------------------------------------------------------ reading
def load_gradebook(path: str | Path) -> list[Submission]:
    """Read the batch's gradebook (columns: GRADEBOOK_COLUMNS plus one per part) and each row's results.json.

    Rows without a total (the batch could not grade them: unreadable, error, timeout) are returned
    with `score` None; the report counts them apart."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"{path}: no such gradebook (write one with `python -m grader batch HW SUBMISSIONS`)")
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = [c.strip() for c in reader.fieldnames or []]
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as err:
        raise ReportError(f"{path}: not a readable CSV file ({err})") from None
    if not columns:
        raise ReportError(f"{path}: the gradebook is empty (not even a header row)")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ReportError(f"{path}: not a gradebook of `python -m grader batch`: no column "
                          f"{', '.join(map(repr, missing))} (columns: {', '.join(columns)})")
    if not rows:
        raise ReportError(f"{path}: the gradebook has a header but no submissions")
    parts = [c for c in columns if c not in GRADEBOOK_COLUMNS]
    submissions = []
    for line, row in enumerate(rows, start=2):
        if None in row:
            raise ReportError(f"{path}, line {line}: more cells than the header has columns")
        row = {k.strip(): (v or "").strip() for k, v in row.items()}
        total = row.get("total", "")
        score = _number(total, path, line, "total") if total else None
        max_score = _number(row["max_total"], path, line, "max_total") if row.get("max_total") else None
        points = {part: _number(row[part], path, line, part) for part in parts if row.get(part)}
        tests = _read_tests(path.parent, row.get("results", "")) if score is not None else None
        submissions.append(Submission(row.get("submission") or f"line {line}", score, max_score, points, tests,
                                      row.get("status", "")))
    return submissions


# The batch's gradebook (grader/batch.py, write_gradebook): these columns, plus one per manifest part.
GRADEBOOK_COLUMNS = ("submission", "name", "sid", "email", "status", "total", "max_total", "seed", "seconds",
                     "message", "results")
REQUIRED_COLUMNS = ("submission", "total", "max_total", "results")


def _number(cell: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ReportError(f"{path}, line {line}: column {column!r} should be a number, not {cell!r}") from None
    if not math.isfinite(value):
        raise ReportError(f"{path}, line {line}: column {column!r} is {cell!r}, not a finite number")
    return value


def _read_tests(folder: Path, cell: str) -> list[dict] | None:
    """The tests of one results.json (a path relative to the gradebook's folder), None when there are none."""
    if not cell:
        return None
    results = folder / cell
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # counted as "no per-test results" in the summary
    tests = data.get("tests") if isinstance(data, dict) else None
    if not isinstance(tests, list) or not tests:
        return None
    return [t for t in tests if isinstance(t, dict) and "name" in t]


# ---------------------------------------------------------------------------------------- numbers
def pass_rates(submissions: list[Submission]) -> list[PassRate]:
    """One entry per hidden test, most failed first (ties in the suite's order)."""
    stats: dict[str, PassRate] = {}
    for sub in submissions:
        for test in sub.tests or []:
            name = str(test["name"])
            entry = stats.setdefault(name, PassRate(name, str(test.get("part") or "-"), len(stats)))
            score, max_score = float(test.get("score", 0) or 0), float(test.get("max_score", 0) or 0)
            entry.graded += 1
            entry.passed += test.get("status") == "passed" and score >= max_score
            entry.points.append(score)
            entry.max_score = max(entry.max_score, max_score)
    return sorted(stats.values(), key=lambda s: (s.pass_rate, s.order))


def part_means(submissions: list[Submission], tests: list[PassRate]) -> dict[str, tuple[float, float]]:
    """part -> (mean points, points of the part): points from the gradebook, a part's points from
    the tests' max_score in results.json (the gradebook does not carry them)."""
    maxima: dict[str, float] = {}
    for test in sorted(tests, key=lambda t: t.order):
        maxima[test.part] = maxima.get(test.part, 0.0) + test.max_score
    names = list(dict.fromkeys([p for sub in submissions for p in sub.parts] + list(maxima)))
    means = {}
    for part in names:
        values = [sub.parts[part] for sub in submissions if part in sub.parts]
        if not values:  # no gradebook column: sum the tests of that part in each results.json
            values = [sum(float(t.get("score", 0) or 0) for t in sub.tests if (t.get("part") or "-") == part)
                      for sub in submissions if sub.tests]
        if values and maxima.get(part):
            means[part] = (statistics.fmean(values), maxima[part])
    return means


def total_points(submissions: list[Submission], tests: list[PassRate]) -> float:
    listed = [s.max_score for s in submissions if s.max_score]
    if listed:
        return max(listed)
    return sum(t.max_score for t in tests) or max(s.score for s in submissions) or 1.0


def histogram(scores: list[float], top: float, bins: int = HISTOGRAM_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Counts of scores in `bins` equal bins over [0, top] (the last bin includes the top score)."""
    counts, edges = np.histogram(np.clip(scores, 0, top), bins=bins, range=(0, top))
    return counts, edges


# --------------------------------------------------------------------------------------- drawing
def plot_histogram(scores: list[float], top: float, out: Path) -> None:
    counts, edges = histogram(scores, top)
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#4C72B0", edgecolor="white")
    mean, median = statistics.fmean(scores), statistics.median(scores)
    ax.axvline(mean, color="#C44E52", linewidth=2, label=f"mean {mean:.2f}")
    ax.axvline(median, color="#55A868", linewidth=2, linestyle="--", label=f"median {median:.2f}")
    ax.set_xlim(0, top)
    ax.set_xlabel(f"total score (out of {top:g})")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"Scores of {len(scores)} submissions")
    ax.legend(loc="upper left")
    fig.savefig(out, dpi=120)


def plot_pass_rates(tests: list[PassRate], out: Path) -> None:
    fig = Figure(figsize=(9, 1.2 + 0.32 * max(len(tests), 1)), layout="constrained")
    ax = fig.subplots()
    parts = list(dict.fromkeys(t.part for t in sorted(tests, key=lambda t: t.order)))
    colors = {p: f"C{i % 10}" for i, p in enumerate(parts)}
    rows = np.arange(len(tests))
    ax.barh(rows, [100 * t.pass_rate for t in tests], color=[colors[t.part] for t in tests])
    for row, test in zip(rows, tests):
        ax.text(100 * test.pass_rate + 1, row, f"{100 * test.pass_rate:.0f}%", va="center", fontsize=8)
    ax.set_yticks(rows, [t.short_name for t in tests], fontsize=8)
    ax.invert_yaxis()  # the most failed test on top
    ax.set_xlim(0, 110)
    ax.set_xlabel("submissions that passed (% of those graded)")
    ax.set_title("Hidden tests, most failed first")
    if parts:
        ax.legend(handles=[Patch(color=colors[p], label=p) for p in parts], title="part", loc="upper left",
                  bbox_to_anchor=(1.01, 1), fontsize=8)  # outside: the bottom bars are the long ones
    fig.savefig(out, dpi=120)


def plot_part_means(means: dict[str, tuple[float, float]], out: Path) -> None:
    fig = Figure(figsize=(1.5 + 1.1 * max(len(means), 1), 4.2), layout="constrained")
    ax = fig.subplots()
    names = list(means)
    percents = [100 * mean / top for mean, top in means.values()]
    bars = ax.bar(names, percents, color=[f"C{i % 10}" for i in range(len(names))])
    for bar, (mean, top) in zip(bars, means.values()):
        label = f"{100 * mean / top:.0f}% ({mean:.1f}/{top:g})"
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 1.5, label,
                ha="center", fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel("mean score (% of the part's points)")
    ax.set_title("Mean score per part")
    ax.tick_params(axis="x", labelrotation=20)
    fig.savefig(out, dpi=120)


# ----------------------------------------------------------------------------------------- report
def write_report(gradebook: str | Path, out: str | Path) -> Path:
    """Write the three PNGs and summary.md into `out`; return the summary's path."""
    everyone = load_gradebook(gradebook)
    submissions = [s for s in everyone if s.score is not None]
    if not submissions:
        raise ReportError(f"{gradebook}: none of its {len(everyone)} submissions has a score (see its status "
                          "and message columns)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tests = pass_rates(submissions)
    means = part_means([s for s in submissions if s.tests is not None], tests)
    scores = [s.score for s in submissions]
    top = total_points(submissions, tests)
    plot_histogram(scores, top, out / "score_histogram.png")
    plot_pass_rates(tests, out / "test_pass_rates.png")
    plot_part_means(means, out / "part_means.png")
    summary = out / "summary.md"
    ungraded = [s for s in everyone if s.score is None]
    summary.write_text(summary_markdown(Path(gradebook).name, submissions, tests, means, top, ungraded),
                       encoding="utf-8")
    return summary


def summary_markdown(source: str, submissions: list[Submission], tests: list[PassRate],
                     means: dict[str, tuple[float, float]], top: float, ungraded: list[Submission] = ()) -> str:
    scores = [s.score for s in submissions]
    missing = sum(s.tests is None for s in submissions)  # e.g. an unreadable upload: total 0, no tests
    lines = [f"# Class report: {source}", "",
             f"{len(scores)} submissions, scored out of {top:g}: mean {statistics.fmean(scores):.2f}, "
             f"median {statistics.median(scores):.2f}, min {min(scores):g}, max {max(scores):g}, "
             f"standard deviation {statistics.pstdev(scores):.2f}.", ""]
    if ungraded:
        statuses = Counter(s.status or "no total" for s in ungraded)
        lines += [f"{len(ungraded)} more submission(s) have no score (" +
                  ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items())) +
                  "): they are left out of everything below; see their row's message in the gradebook.", ""]
    if missing:
        statuses = Counter(s.status or "no status" for s in submissions if s.tests is None)
        lines += [f"{missing} submission(s) have no per-test results (" +
                  ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items())) +
                  "): they count in the scores, not in the pass rates or the part means.", ""]
    counts, edges = histogram(scores, top)
    lines += ["## Scores", "", "![score histogram](score_histogram.png)", "", "| score | submissions |", "|---|---:|"]
    for i, count in enumerate(counts):
        closing = "]" if i == len(counts) - 1 else ")"
        lines.append(f"| [{edges[i]:g}, {edges[i + 1]:g}{closing} | {count} |")
    lines += ["", f"## The {min(TOP_FAILED, len(tests))} most failed tests", "",
              "![pass rate of each test](test_pass_rates.png)", "",
              "| test | part | passed | pass rate | mean points |", "|---|---|---:|---:|---:|"]
    for test in tests[:TOP_FAILED]:
        lines.append(f"| `{test.short_name}` | {test.part} | {test.passed}/{test.graded} | "
                     f"{100 * test.pass_rate:.0f}% | {statistics.fmean(test.points):.2f}/{test.max_score:g} |")
    if not tests:
        lines.append("| (no per-test results found next to the gradebook) | | | | |")
    lines += ["", "## Parts", "", "![mean score per part](part_means.png)", "",
              "| part | mean | points | mean % |", "|---|---:|---:|---:|"]
    for part, (mean, points) in means.items():
        lines.append(f"| {part} | {mean:.2f} | {points:g} | {100 * mean / points:.0f}% |")
    lines.append("")
    return "\n".join(lines)


def run(args) -> int:
    """CLI entry point (called by grader.cli)."""
    try:
        summary = write_report(args.gradebook, args.out)
    except ReportError as err:
        print(f"report: {err}")
        return 2
    print(f"report written to {summary.parent}/ (summary.md, score_histogram.png, test_pass_rates.png, "
          "part_means.png)")
    return 0
