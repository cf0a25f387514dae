"""What the tests that grade a homework through the real grader share (tests/test_hwN_grading.py).

    from tests.grading_helpers import by_name, copy_submission, grade, grade_changed, \
        reference_problems, starter_problems

    def test_the_reference_earns_every_point(tmp_path):
        assert not reference_problems("hw5", grade("hw5", tmp_path))

    def test_the_starter_earns_nothing(tmp_path):
        results = grade("hw5", tmp_path, copy_submission("hw5", tmp_path / "starter", starter=True))
        assert not starter_problems(results)

`grade` runs `python -m grader grade` as a student's grading runs (whole suite, sandbox, CLI);
`grade_changed` grades the reference with a planted change on the suite files it names only
(grader/mutants.py), which is cheaper: use it for cheats and broken submissions.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grader.manifest import find_homework
from grader.mutants import HomeworkMutants, Mutant
from grader.starter import make_starter

ROOT = Path(__file__).resolve().parents[1]


def copy_submission(hw: str, out: Path, starter: bool = False) -> Path:
    """The reference's (or, `starter`, the starter's) versions of `hw`'s student files, laid out in `out`."""
    for name in find_homework(hw).files:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        text = (ROOT / name).read_text()
        (out / name).write_text(make_starter(text, name, hw=hw).text if starter else text)
    return out


def grade(hw: str, tmp_path: Path, submission: Path | None = None, timeout: float = 900) -> dict:
    """results.json of `python -m grader grade hw [--submission submission]` (the reference without one)."""
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "grader", "grade", hw, "--out", str(out)]
    if submission is not None:
        command += ["--submission", str(submission)]
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return json.loads(out.read_text())


def grade_changed(hw: str, mutant: Mutant, seed: int | None = None) -> dict:
    """Grade the reference with `mutant`'s change, on its suite files only (grader/mutants.py); `seed` fixes
    the hidden inputs (None: fresh ones, as a real grading draws)."""
    homework = find_homework(hw)
    return HomeworkMutants(hw, homework.suite_dir, {}, (mutant,)).run(mutant, seed=seed)[1]


def by_name(results: dict) -> dict:
    """test function name -> its row of results.json."""
    return {t["name"].split(":")[0]: t for t in results["tests"]}


def reference_problems(hw: str, results: dict) -> list:
    """What keeps `results` from being the reference's full marks: tests short of their points, parts whose
    tests do not add up to the manifest, time reserves beyond the budget. Empty when all is well."""
    problems = [(t["name"], t["output"][:300]) for t in results["tests"] if t["score"] < t["max_score"]]
    if results["score"] != find_homework(hw).total_points:
        problems.append(("score", results["score"], find_homework(hw).total_points))
    for warning in ("tests add up to", "reserved times add up to"):  # the plugin's words for those two
        if warning in results["output"]:
            problems.append(("output", results["output"]))
    return problems


def starter_problems(results: dict) -> list:
    """Tests that paid the starter anything (and a non-zero total). Empty when the starter earns nothing."""
    paid = [(t["name"], t["score"]) for t in results["tests"] if t["score"] > 0]
    return paid + ([("score", results["score"])] if results["score"] != 0 else [])
