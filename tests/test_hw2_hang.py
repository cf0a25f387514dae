"""A hang costs only the tests that run the hanging code (homework 2, through the real grader).

Each case is the reference submission with one function replaced by an infinite loop that first
prints a marker. What a test's code printed is in its output (also when the call then timed out),
so the marker names the tests that call the function without depending on the suite's test names.
Every test that does not call it must score full points, none may end "not run", and the grading
must stay within its total time budget.

To keep CI cheap the gradings run side by side, with the homework's per-test limit lowered to
TEST_TIMEOUT_S (a hang's cost scales with it), and the loop sleeps instead of spinning: to the
grader a hang is a call that does not answer either way. The total budget is wall-clock time, and
the gradings share the cores with each other (and, in CI, with another pytest worker), so each gets
the homework's total times the number of gradings side by side; with only the homework's total, a
loaded CI machine left the last unrelated tests a few seconds (one failed that way).
"""
import dataclasses
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.harness.grade import grade
from grader.manifest import find_homework

ROOT = Path(__file__).resolve().parents[1]
TEST_TIMEOUT_S = 20.0  # 12 s starved a reference call at load average 10

# case -> (file, code appended to it that puts HANG in front of the function)
PATCHES = {
    "ValueCritic.update": ("critics.py", """
_original_update = ValueCritic.update


def _hanging_update(self, *args, **kwargs):
    {hang}
    return _original_update(self, *args, **kwargs)


ValueCritic.update = _hanging_update
"""),
    "discounted_return": ("returns.py", """
_original_discounted_return = discounted_return


def discounted_return(*args, **kwargs):  # noqa: F811 (the module's own code calls it by this name too)
    {hang}
    return _original_discounted_return(*args, **kwargs)
"""),
}
MARKER = "@@called {}@@"
HANG = "print({marker!r})\n    import time\n    while True:\n        time.sleep(0.05)"


def total_budget_s() -> float:
    """Each grading's wall-clock budget: hw2's total times the gradings that share the cores (docstring)."""
    return find_homework("hw2").limits.total_timeout_s * len(PATCHES)


def grade_with_a_hang(case: str, tmp_path: Path) -> dict:
    """Grade the reference with `case` hanging, under hw2's limits but TEST_TIMEOUT_S a test."""
    homework = find_homework("hw2")
    for path in homework.files:
        (tmp_path / case / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / case / path)
    file, patch = PATCHES[case]
    target = tmp_path / case / homework.package / file
    target.write_text(target.read_text() + patch.format(hang=HANG.format(marker=MARKER.format(case))))
    limits = dataclasses.replace(homework.limits, test_timeout_s=TEST_TIMEOUT_S, total_timeout_s=total_budget_s())
    return grade(dataclasses.replace(homework, limits=limits), tmp_path / case)


def test_a_hang_costs_only_the_tests_that_call_the_hanging_function(tmp_path):
    with ThreadPoolExecutor(len(PATCHES)) as pool:  # side by side: the hangs sleep, they use no CPU
        runs = {case: pool.submit(grade_with_a_hang, case, tmp_path) for case in PATCHES}
        all_results = {case: run.result() for case, run in runs.items()}
    budget = total_budget_s()
    for case, results in all_results.items():
        callers = {t["name"] for t in results["tests"] if MARKER.format(case) in t["output"]}
        assert callers, f"no hidden test calls {case}: pick another function for this test"
        for test in results["tests"]:
            assert not test["output"].startswith("not run"), (case, test["name"])
            if test["name"] not in callers:
                assert test["score"] == test["max_score"], (case, test["name"], test["output"][:500])
        hung = [t for t in results["tests"] if "did not finish within" in t["output"]]
        assert hung and all(t["name"] in callers for t in hung), case
        assert any("already ran out of time in an earlier call" in t["output"] for t in hung), case
        assert results["execution_time"] <= budget, (case, results["execution_time"])
        print(f"{case}: {results['score']:g} points in {results['execution_time']:.0f} s; "
              f"{len(callers)} tests call it, {len(hung)} ran out of time")
