"""`python -m grader report`: a synthetic gradebook (as `grader batch` writes it) with known numbers."""
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main
from grader.report import load_gradebook, part_means, pass_rates

TESTS = [  # name, part, points: in the suite's order
    ("test_a: first", "returns", 2.0),
    ("test_b: second", "returns", 2.0),
    ("test_c: third", "agent", 3.0),
    ("test_d: fourth", "agent", 3.0),
]
# submission -> points per test (None: failed with 0); partial points are a failed status
CLASS = {
    "alice": [2, 2, 3, 3],        # 10
    "bob": [2, 0, 3, 1.5],        # 6.5
    "carol": [2, 0, 0, 0],        # 2
    "dave": [0, 0, 3, 3],         # 6
}
COLUMNS = ["submission", "name", "sid", "email", "status", "total", "max_total", "returns", "agent", "seed",
           "seconds", "message", "results"]


def write_gradebook(folder: Path, grades=CLASS, extra_rows=()) -> Path:
    """gradebook.csv + gradebook_results/<submission>/results.json, laid out as grader/batch.py does."""
    rows = []
    for name, points in grades.items():
        tests = [{"name": t, "score": float(p), "max_score": m, "status": "passed" if p == m else "failed",
                  "output": "", "visibility": "visible", "part": part}
                 for (t, part, m), p in zip(TESTS, points)]
        results = f"gradebook_results/{name}/results.json"
        (folder / results).parent.mkdir(parents=True)
        (folder / results).write_text(json.dumps({"score": sum(points), "execution_time": 1.0, "output": "",
                                                  "tests": tests}))
        parts = {part: sum(p for (_, pt, _), p in zip(TESTS, points) if pt == part) for part in ("returns", "agent")}
        rows.append({"submission": name, "status": "graded", "total": f"{sum(points):g}", "max_total": "10",
                     **{k: f"{v:g}" for k, v in parts.items()}, "seed": "1", "seconds": "3.0", "results": results})
    rows += list(extra_rows)
    path = folder / "gradebook.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_numbers_most_failed_first(tmp_path):
    submissions = load_gradebook(write_gradebook(tmp_path))
    stats = pass_rates(submissions)
    # pass rates: a 3/4, b 1/4, c 3/4, d 2/4 (bob's 1.5/3 is a failure); ties keep the suite's order
    assert [(s.short_name, s.passed, s.graded) for s in stats] == [
        ("test_b", 1, 4), ("test_d", 2, 4), ("test_a", 3, 4), ("test_c", 3, 4)]
    means = part_means(submissions, stats)
    assert means == {"returns": (pytest.approx(2.0), 4.0), "agent": (pytest.approx(4.125), 6.0)}


def test_report_writes_pngs_and_summary(tmp_path, capsys):
    gradebook = write_gradebook(tmp_path, extra_rows=[
        {"submission": "eve", "status": "unreadable", "total": "", "max_total": "10", "message": "bad zip",
         "results": "gradebook_results/eve/results.json"},
        {"submission": "frank", "status": "timeout", "total": "", "max_total": "10", "message": "killed",
         "results": "gradebook_results/frank/results.json"}])
    out = tmp_path / "report"
    assert main(["report", str(gradebook), "--out", str(out)]) == 0
    assert "report written to" in capsys.readouterr().out
    for name in ("score_histogram.png", "test_pass_rates.png", "part_means.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, name
    summary = (out / "summary.md").read_text()
    assert "4 submissions, scored out of 10: mean 6.12, median 6.25, min 2, max 10" in summary
    assert "2 more submission(s) have no score (timeout: 1, unreadable: 1)" in summary
    assert "| [2, 3) | 1 |" in summary and "| [6, 7) | 2 |" in summary and "| [9, 10] | 1 |" in summary
    failed = summary.split("most failed tests")[1].split("## Parts")[0]
    rows = [line for line in failed.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["test_b", "test_d", "test_a", "test_c"]
    assert "| `test_b` | returns | 1/4 | 25% | 0.50/2 |" in rows[0]
    assert "| returns | 2.00 | 4 | 50% |" in summary and "| agent | 4.12 | 6 | 69% |" in summary


def test_a_graded_row_without_results_counts_in_scores_not_pass_rates(tmp_path):
    gradebook = write_gradebook(tmp_path)
    (tmp_path / "gradebook_results" / "dave" / "results.json").unlink()
    assert main(["report", str(gradebook), "--out", str(tmp_path / "report")]) == 0
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "4 submissions" in summary and "1 submission(s) have no per-test results (graded: 1)" in summary
    assert "| returns | 2.67 | 4 | 67% |" in summary    # alice 4, bob 2, carol 2: dave's row is left out
    assert "| `test_b` | returns | 1/3 | 33% |" in summary  # alice, bob, carol: dave's tests are unknown


@pytest.mark.parametrize("content, message", [
    (None, "no such gradebook"),
    ("", "the gradebook is empty"),
    (",".join(COLUMNS) + "\n", "header but no submissions"),
    ("student,points\nalice,3\n", "not a gradebook of `python -m grader batch`: no column 'submission'"),
    (",".join(COLUMNS) + "\nalice,,,,graded,ten,10,1,1,1,1,,r.json\n", "line 2: column 'total' should be a number"),
    (",".join(COLUMNS) + "\nalice,,,,graded,nan,10,1,1,1,1,,r.json\n", "not a finite number"),
    (",".join(COLUMNS) + "\nalice,,,,graded,3,10,1,1,1,1,,r.json,extra\n", "more cells than the header"),
    (",".join(COLUMNS) + "\nalice,,,,error,,10,,,1,1,boom,r.json\n", "none of its 1 submissions has a score"),
])
def test_bad_gradebooks_are_clear_errors(tmp_path, capsys, content, message):
    gradebook = tmp_path / "gradebook.csv"
    if content is not None:
        gradebook.write_text(content)
    assert main(["report", str(gradebook), "--out", str(tmp_path / "report")]) == 2
    assert message in capsys.readouterr().out
    assert not (tmp_path / "report" / "summary.md").exists()


WRONG_FUNCTIONS = """
import numpy as np

def discounted_return(rewards, gamma):
    return float(sum(r * gamma ** (t + 1) for t, r in enumerate(rewards)))

def reward_to_go(rewards, gamma):
    return np.cumsum(np.asarray(rewards, np.float32)[::-1])[::-1].copy()

def normalize(values):
    values = np.asarray(values, np.float32)
    return (values - values.mean()) / (values.std() + 1e-8)
"""


def test_report_of_a_real_batch_gradebook(tmp_path):
    """The contract with `grader batch`: its CSV and results folders, read as they are written."""
    repo, fixture = Path(__file__).resolve().parents[2], Path(__file__).resolve().parents[1] / "fixture_hw"
    subs = tmp_path / "subs"
    for name, functions in (("right", (fixture / "fixhw" / "functions.py").read_text()), ("wrong", WRONG_FUNCTIONS)):
        (subs / name / "fixhw").mkdir(parents=True)
        (subs / name / "fixhw" / "functions.py").write_text(functions)
        shutil.copyfile(fixture / "fixhw" / "policy.py", subs / name / "fixhw" / "policy.py")
    (subs / "broken.zip").write_bytes(b"not a zip")
    batch = subprocess.run([sys.executable, "-m", "grader", "batch", str(fixture / "fixhw"), str(subs), "--out",
                            str(tmp_path / "gradebook.csv"), "--workers", "2", "--seed", "3"],
                           cwd=repo, capture_output=True, text=True, timeout=600)
    assert batch.returncode == 0, batch.stdout + batch.stderr
    assert main(["report", str(tmp_path / "gradebook.csv"), "--out", str(tmp_path / "report")]) == 0
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "3 submissions, scored out of 10: mean 5.33" in summary           # 10, 6, and 0 for the broken zip
    assert "1 submission(s) have no per-test results (unreadable: 1)" in summary
    failed = [line.split("`")[1] for line in summary.split("## Parts")[0].splitlines() if line.startswith("| `")]
    assert failed[:2] == ["test_discounted_return_matches_reference", "test_reward_to_go_matches_reference"]
    assert "| functions | 4.00 | 6 | 67% |" in summary and "| policy | 4.00 | 4 | 100% |" in summary
