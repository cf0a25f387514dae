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
(grader/mutants.py), which is cheaper: use it for cheats and broken submissions
(`check_a_broken_submission` grades one and checks that only the tests of the broken code lose points).

A homework's mutant tests (tests/test_hwN_mutants.py) in full:

    from grader.suites.hw5 import mutants
    from tests.grading_helpers import check_graded_as_kind, missing_mutants, mutant_names

    ISSUE_BUGS = {...}   # the issue's "hidden suite must catch" list

    @pytest.mark.parametrize("name", mutant_names(mutants.MUTANTS, ISSUE_BUGS))
    def test_planted_change_is_graded_as_its_kind_requires(name, graded_mutants):
        check_graded_as_kind(name, mutants.MUTANTS, graded_mutants)

    def test_every_class_of_the_issue_has_an_entry():
        assert not missing_mutants(mutants.MUTANTS, ISSUE_BUGS)

    def test_the_suite_and_its_mutants_follow_the_rules():
        problems = {rule: found for rule, found in mutants.HOMEWORK.hygiene_problems().items() if found}
        assert not problems, problems
"""
from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
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


def check_a_broken_submission(hw: str, breaks: Mutant, broken_code: Iterable[str],
                              zero_saying: Iterable[tuple[str, str]], kept: Iterable[str]) -> None:
    """Grade `breaks` (the reference with a syntax error, a missing function, a hang, a NaN planted) and fail
    unless each break costs only the tests that run the broken code.

    broken_code: fragments of the names of the tests that may lose points; every other test must earn full
        marks, and every test must have run (a break must not stop the rest of the suite).
    zero_saying: (test, what its message says): tests that score 0 with a message that names their break.
    kept: tests of the working code, which must keep their points.
    """
    results = grade_changed(hw, breaks)
    tests = by_name(results)
    unfair = [(name, t["output"][:200]) for name, t in tests.items()
              if t["score"] < t["max_score"] and not any(code in name for code in broken_code)]
    assert not unfair, unfair
    assert "not run" not in json.dumps(results["tests"]), results["output"]
    messages = {name: t["output"] for name, t in tests.items() if t["score"] == 0}
    for test, says in zero_saying:
        assert test in messages and says in messages[test], (test, messages.get(test))
    for test in kept:
        assert tests[test]["score"] == tests[test]["max_score"], (test, tests[test]["output"])


# ---------------------------------------------------------------------------------------------
# tests/test_hwN_mutants.py: grading each mutant of grader/suites/hwN/mutants.py (the graded_mutants
# fixture of tests/conftest.py grades the selected ones, two at a time, seed crc32(name))
# ---------------------------------------------------------------------------------------------


def mutant_names(mutants, issue_bugs=None) -> list:
    """pytest params of the mutants' names. With `issue_bugs` (the issue's "must catch" list), CI's default run
    grades those bugs, every correct variant and every cheat; the other bugs are marked slow (`pytest -m slow`)."""
    import pytest

    return [pytest.param(m.name, marks=() if issue_bugs is None or m.kind != "bug" or m.name in issue_bugs
                         else pytest.mark.slow) for m in mutants]


def check_graded_as_kind(name: str, mutants, graded_mutants: dict) -> None:
    """Fail unless mutant `name` graded as its kind requires (grader/mutants.py verdict), showing its scores."""
    mutant = next(m for m in mutants if m.name == name)
    problem, results = graded_mutants[name]
    summary = [(t["name"].split(":")[0], t["score"], t["max_score"]) for t in results["tests"]]
    assert problem is None, f"{name} [{mutant.kind}]: {problem}\n{summary}\n{results['output'][-2000:]}"


def missing_mutants(mutants, issue_bugs=(), correct=(), cheats=()) -> list[str]:
    """The entries a homework's mutant list lacks: the issue's bugs (planted as bugs), the named correct
    variants and cheats, and at least one correct variant and one cheat. Empty when none is missing."""
    kinds = {m.name: m.kind for m in mutants}
    missing = [f"{name} (a bug)" for name in sorted(issue_bugs) if kinds.get(name) != "bug"]
    missing += [f"{name} (a correct variant)" for name in sorted(correct) if kinds.get(name) != "correct"]
    missing += [f"{name} (a cheat)" for name in sorted(cheats) if kinds.get(name) != "cheat"]
    missing += [f"any {kind}" for kind in ("correct", "cheat") if kind not in kinds.values()]
    return missing
