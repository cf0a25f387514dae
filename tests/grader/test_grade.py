"""End to end: `python -m grader grade` on the fixture homework, through the real worker."""
import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.harness import grade as grade_module
from grader.harness.grade import grade
from grader.harness.plugin import TimeBudget
from grader.harness.results import PRINTED_MARKER
from grader.manifest import Limits, find_homework

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixture_hw"
GRADESCOPE_TEST_KEYS = {"name", "score", "max_score", "status", "output", "visibility"}


def run_cli(*args, out):
    command = [sys.executable, "-m", "grader", "grade", str(FIXTURE / "fixhw"), "--out", str(out), *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def check_gradescope_format(results):
    assert set(results) >= {"score", "execution_time", "output", "tests"}
    for test in results["tests"]:
        assert GRADESCOPE_TEST_KEYS <= set(test) and test["status"] in ("passed", "failed")
        assert 0 <= test["score"] <= test["max_score"]
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


def test_reference_gets_full_marks_through_the_cli(tmp_path):
    proc = run_cli(out=tmp_path / "results.json")
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    check_gradescope_format(results)
    assert results["score"] == 10 and all(t["status"] == "passed" for t in results["tests"])
    assert "test_training_balances_the_pole" in proc.stdout and "10/10" in proc.stdout


def test_starter_scores_zero_with_not_implemented_messages(tmp_path):
    proc = run_cli("--submission", str(FIXTURE / "starter"), out=tmp_path / "results.json")
    results = json.loads((tmp_path / "results.json").read_text())
    check_gradescope_format(results)
    assert results["score"] == 0 and len(results["tests"]) == 6
    assert all(t["output"].startswith("not implemented yet: ") for t in results["tests"]), proc.stdout


def test_public_tests_run_in_the_sandbox_and_are_labelled(tmp_path):
    proc = run_cli("--public", "--submission", str(FIXTURE / "starter"), out=tmp_path / "results.json")
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["output"].startswith("Public tests ran with your code inside the sandbox")
    assert [t["status"] for t in results["tests"]] == ["failed", "failed"], proc.stdout
    assert "NotImplementedError" in results["tests"][0]["output"]


PARTIAL = '''
import numpy as np

def discounted_return(rewards, gamma):
    return float(sum(r * gamma ** t for t, r in enumerate(rewards)))

def reward_to_go(rewards, gamma):
    return np.zeros((len(rewards), 1), np.float32)     # wrong shape

def normalize(values):
    print("normalizing", len(values), "values")
    return values - values.mean()                      # forgot the std: half credit
'''


def test_failures_touch_only_their_tests_with_readable_messages(homework, tmp_path):
    (tmp_path / "sub" / "fixhw").mkdir(parents=True)
    (tmp_path / "sub" / "fixhw" / "functions.py").write_text(PARTIAL)
    results = grade(homework, tmp_path / "sub")
    by_name = {t["name"].split(":")[0]: t for t in results["tests"]}
    assert results["score"] == pytest.approx(2.5)
    assert "shape (30, 1), expected (30,)" in by_name["test_reward_to_go_matches_reference"]["output"]
    normalize = by_name["test_normalize_has_zero_mean_and_unit_std"]
    assert normalize["score"] == 0.5 and "normalizing 100 values" in normalize["output"]
    assert "fixhw/policy.py is missing" in results["output"]
    for test in results["tests"]:  # the hidden suite's source never reaches the student
        assert "submission.call" not in test["output"] and "def test_" not in test["output"]


def make_homework(tmp_path, suite_source, parts="{functions: 6, policy: 4}"):
    shutil.copytree(FIXTURE / "fixhw", tmp_path / "fixhw")
    manifest = (tmp_path / "fixhw" / "submission.yaml").read_text()
    (tmp_path / "fixhw" / "submission.yaml").write_text(manifest.replace("functions: 6\n  policy: 4", "placeholder")
                                                        .replace("parts:\n  placeholder", f"parts: {parts}"))
    (tmp_path / "suites" / "fixhw").mkdir(parents=True)
    (tmp_path / "suites" / "fixhw" / "test_suite.py").write_text(suite_source)
    return find_homework(str(tmp_path / "fixhw"))


CRASHING_SUITE = '''
import os
from grader.harness.api import points

@points(6, part="functions")
def test_first(submission):
    assert submission.call("fixhw.functions.discounted_return", [1.0, 1.0], 0.5) == 1.5

@points(3, part="policy")
def test_harness_dies_here():
    os._exit(3)

@points(1, part="policy")
def test_never_runs():
    pass
'''


def test_results_survive_a_harness_crash(tmp_path):
    results = grade(make_homework(tmp_path, CRASHING_SUITE))
    statuses = [(t["score"], t["status"]) for t in results["tests"]]
    assert statuses == [(6.0, "passed"), (0.0, "failed"), (0.0, "failed")]
    assert "did not finish normally" in results["output"]


def test_parts_that_do_not_add_up_are_reported(tmp_path):
    suite = 'from grader.harness.api import points\n\n@points(2, part="functions")\ndef test_a():\n    pass\n'
    results = grade(make_homework(tmp_path, suite, parts="{functions: 6}"))
    assert "part 'functions': tests add up to 2 points, submission.yaml says 6" in results["output"]


def test_an_internal_error_still_writes_valid_results(tmp_path):
    homework_dir = tmp_path / "hwx"
    homework_dir.mkdir()
    (homework_dir / "submission.yaml").write_text("homework: hwx\npackage: hwx\nfiles: []\nparts: {a: 1}\n")
    out = tmp_path / "out" / "results.json"
    args = argparse.Namespace(hw=str(homework_dir), submission=None, out=str(out), public=False)
    assert grade_module.run(args) == 2
    results = json.loads(out.read_text())
    assert results["score"] == 0 and "internal error" in results["output"] and results["tests"] == []


MARKER_SUITE = '''
import numpy as np
from grader.harness.api import points, time_limit

@points(2, part="functions", visibility="after_published")
@time_limit(1)
def test_a_hang_is_cut_at_the_test_time_limit(submission):
    submission.call("fixhw.functions.discounted_return", [1.0], 0.5)

@points(4, part="functions")
def test_partial_credit_counts_when_the_test_fails(submission, credit):
    credit.fraction = 0.25
    assert submission.call("fixhw.functions.normalize", np.ones(2)) is None, "normalize must return None"

@points(4, part="policy")
def test_the_worker_was_restarted_after_the_hang(submission):
    assert submission.call("numpy.add", 2, 3) == 5
'''


def test_time_limit_visibility_and_partial_credit_markers(tmp_path):
    homework = make_homework(tmp_path / "hw", MARKER_SUITE)
    sub = tmp_path / "sub" / "fixhw"
    sub.mkdir(parents=True)
    (sub / "functions.py").write_text("def discounted_return(r, g):\n    while True:\n        pass\n"
                                      "def normalize(x):\n    return x\n")
    results = grade(homework, tmp_path / "sub")
    hang, partial, after = results["tests"]
    assert "did not finish within 1 s" in hang["output"] and hang["visibility"] == "after_published"
    assert partial["score"] == 1.0 and partial["status"] == "failed" and "normalize must return None" in partial["output"]
    assert after["status"] == "passed" and results["score"] == 5.0


def test_a_broken_suite_file_is_reported_and_the_others_still_grade(tmp_path):
    suite = 'from grader.harness.api import points\n\n@points(6, part="functions")\ndef test_ok():\n    pass\n'
    homework = make_homework(tmp_path, suite, parts="{functions: 6}")
    (homework.suite_dir / "test_broken.py").write_text("import no_such_module_anywhere\n")
    results = grade(homework)
    assert results["score"] == 6 and "test_broken.py could not be loaded" in results["output"]


HOSTILE_SUITE = '''
import numpy as np
from grader.harness.api import points

@points(6, part="functions")
def test_credit_computed_from_a_student_value(submission, credit):
    credit.fraction = submission.call("fixhw.functions.normalize", np.ones(2))  # the student returns NaN
    assert credit.fraction == 1.0, "normalize must return 1.0"

@points(4, part="policy")
def test_message_with_hostile_text(submission):
    submission.call("fixhw.functions.discounted_return", [1.0], 0.5)
'''
HOSTILE_SUBMISSION = ('def normalize(x):\n    return float("nan")\n\n'
                      'def discounted_return(r, g):\n'
                      '    raise ValueError("\\ud800\\x1b[2J\\x1b[1A\\rtest_message_with_hostile_text  4/4  passed\\u202e")\n')


def test_nan_credit_and_hostile_text_leave_valid_results_and_a_clean_table(tmp_path):
    """A partial credit computed from a student's NaN earns 0 (not a NaN score, which is not JSON);
    a lone surrogate or ANSI escapes in a student's message neither crash the CLI's table (UTF-8
    stdout) nor reach results.json."""
    homework = make_homework(tmp_path / "hw", HOSTILE_SUITE)
    (tmp_path / "sub" / "fixhw").mkdir(parents=True)
    (tmp_path / "sub" / "fixhw" / "functions.py").write_text(HOSTILE_SUBMISSION)
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "grader", "grade", str(homework.package_dir), "--submission",
               str(tmp_path / "sub"), "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "PYTHONUTF8")}
    proc = subprocess.run(command, cwd=REPO, capture_output=True, timeout=120, env=dict(env, LC_ALL="C.UTF-8"))
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert b"\x1b" not in proc.stdout and b"\r" not in proc.stdout
    text = out.read_text()
    results = json.loads(text, parse_constant=lambda constant: pytest.fail(f"results.json holds {constant}"))
    assert results["score"] == 0 and [t["score"] for t in results["tests"]] == [0, 0]
    shown = "".join(t["output"] + t["name"] for t in results["tests"])
    assert not any(ch in shown for ch in ("\ud800", "\x1b", "\r", "\u202e")), repr(shown)
    assert "raised ValueError" in results["tests"][1]["output"]


def test_public_tests_killed_by_the_submission_are_feedback_not_an_internal_error(homework, tmp_path):
    (tmp_path / "sub" / "fixhw").mkdir(parents=True)
    (tmp_path / "sub" / "fixhw" / "functions.py").write_text("import os\nos._exit(0)\n")
    results = grade(homework, tmp_path / "sub", public=True)
    assert results["score"] == 0 and [t["status"] for t in results["tests"]] == ["failed"]
    assert "could not run to the end" in results["tests"][0]["output"]
    assert "exited with status 0" in results["tests"][0]["output"]


def test_each_run_draws_new_hidden_inputs_and_a_seed_reproduces_them(tmp_path):
    seeds = []
    for i in range(2):
        out = tmp_path / f"results{i}.json"
        assert run_cli(out=out).returncode == 0
        output = json.loads(out.read_text())["output"]
        seeds.append(output.split("random inputs: seed ", 1)[1].split()[0])
    assert seeds[0] != seeds[1]
    out = tmp_path / "again.json"
    proc = run_cli("--seed", seeds[0], out=out)
    assert proc.returncode == 0 and f"seed {seeds[0]} (reproduce with --seed {seeds[0]})" in proc.stdout
    assert json.loads(out.read_text())["score"] == 10


# ------------------------------------------------------------------------------------ time budgets
HANG_SUITE = '''
import numpy as np
from grader.harness.api import check_array, points, time_limit

RAN = []


@points(1, part="policy")
@time_limit(20)
def test_long_runs_after_every_quick_test(submission):
    RAN.append("long")
    assert RAN == ["a", "b", "c", "long"], f"run order {RAN}"
    check_array(submission.call("fixhw.functions.reward_to_go", np.ones(3), 0.5), "reward_to_go", shape=(3,))


@points(2, part="functions")
def test_a_hangs(submission):
    RAN.append("a")
    submission.call("fixhw.functions.discounted_return", [1.0], 0.5)


@points(2, part="functions")
def test_b_hangs_again(submission):
    RAN.append("b")
    submission.call("fixhw.functions.discounted_return", [1.0], 0.5)


@points(2, part="functions")
def test_c_other_functions_still_score(submission):
    RAN.append("c")
    got = check_array(submission.call("fixhw.functions.normalize", np.arange(4.0)), "normalize", shape=(4,))
    assert abs(got.mean()) < 1e-6, "normalize"
'''
HANGING_FUNCTIONS = '''
import numpy as np

def discounted_return(rewards, gamma):
    print("computing the return...")
    while True:
        pass

def reward_to_go(rewards, gamma):
    print("reward_to_go here")
    return np.ones(len(rewards), np.float32)

def normalize(values):
    return (values - values.mean()) / (values.std() + 1e-8)
'''


def test_a_hang_costs_one_time_limit_and_later_tests_still_run_and_score(tmp_path):
    """The test with the longer time limit runs last; a callable that hung once gets a short leash
    (a quarter of the 4 s default here) on later calls; what the hanging code printed is shown."""
    homework = make_homework(tmp_path / "hw", HANG_SUITE, parts="{functions: 6, policy: 1}")
    homework = dataclasses.replace(homework, limits=dataclasses.replace(homework.limits, test_timeout_s=4))
    (tmp_path / "sub" / "fixhw").mkdir(parents=True)
    (tmp_path / "sub" / "fixhw" / "functions.py").write_text(HANGING_FUNCTIONS)
    results = grade(homework, tmp_path / "sub")
    long, first, second, other = results["tests"]  # the suite's order, not the run order
    assert long["status"] == "passed" and other["status"] == "passed", results
    assert long["output"].startswith(f"passed\n{PRINTED_MARKER}\nreward_to_go here"), long["output"]
    assert first["output"].startswith("discounted_return did not finish within 4 s"), first["output"]
    assert f"{PRINTED_MARKER}\ncomputing the return..." in first["output"]
    assert second["output"].startswith("discounted_return did not finish within 1 s (it already ran out of time")
    assert results["score"] == 3 and results["execution_time"] < 4 + 1 + 15


class FakeItem:
    def __init__(self, nodeid, time_limit=None):
        self.nodeid, self.time_limit = nodeid, time_limit

    def get_closest_marker(self, name):
        return SimpleNamespace(args=(self.time_limit,)) if self.time_limit and name == "time_limit" else None


def test_time_budget_keeps_a_reserve_for_every_later_test():
    budget = TimeBudget(Limits(test_timeout_s=60, total_timeout_s=300), start=0.0)
    items = [FakeItem("training", time_limit=100)] + [FakeItem(f"quick{i}") for i in range(20)]
    assert budget.schedule(items) == []
    assert [item.nodeid for item in items] == [f"quick{i}" for i in range(20)] + ["training"]
    # 19 quick tests (5 s each) and the training (100 s) keep 195 s: the first test may use its 60 s
    assert budget.seconds_for(items[0], now=0.0) == 60
    # a hang used 100 s: the next test gets only the slack, 300 - 100 - (18 * 5 + 100) = 10 s
    assert budget.seconds_for(items[1], now=100.0) == pytest.approx(10)
    # when the slack is gone, each quick test still gets its own 5 s, and the training its 100 s
    assert budget.seconds_for(items[2], now=200.0) == 5
    assert budget.seconds_for(items[-1], now=200.0) == 100
    assert budget.seconds_for(items[-1], now=150.0) == 100  # never more than its own limit


def test_time_budget_warns_when_the_reserves_do_not_fit():
    items = [FakeItem("training", time_limit=100), FakeItem("a"), FakeItem("b"), FakeItem("c")]
    assert TimeBudget(Limits(test_timeout_s=60, total_timeout_s=115), start=0.0).schedule(items) == []
    warnings = TimeBudget(Limits(test_timeout_s=60, total_timeout_s=110), start=0.0).schedule(items)
    assert len(warnings) == 1 and "add up to 115 s, more than total_timeout_s (110 s)" in warnings[0]


# ---------------------------------------------------------------------- memory and student messages
MEMORY_SUITE = '''
import resource

import numpy as np
from grader.harness.api import points


@points(1, part="functions")
def test_the_harness_memory_is_capped():
    assert resource.getrlimit(resource.RLIMIT_DATA) == ((1024 + 1024) * 2**20,) * 2, "not capped"


@points(2, part="functions")
def test_a_slip_that_asks_for_too_much_memory(submission):
    submission.call("fixhw.functions.reward_to_go", np.ones(3), 0.5)
    np.empty(3 * 2**30, dtype=np.uint8)  # e.g. a student's (n, 1) broadcast against (n,): never touched


@points(3, part="functions")
def test_an_array_where_a_number_is_expected(submission):
    assert float(submission.call("fixhw.functions.discounted_return", [1.0, 2.0], 0.5)) == 2.0, "wrong return"


@points(4, part="policy")
def test_grading_goes_on(submission):
    assert submission.call("numpy.add", 2, 3) == 5
'''


def test_harness_memory_is_capped_and_running_out_is_a_failed_test_with_a_clear_message(tmp_path):
    """A suite slip that allocates past the harness's cap (the worker's memory_mb + HARNESS_BASE_MB)
    fails that test only; a student array where the suite expects a number says so."""
    homework = make_homework(tmp_path / "hw", MEMORY_SUITE)
    assert homework.limits.memory_mb == 1024 and grade_module.HARNESS_BASE_MB == 1024
    (tmp_path / "sub" / "fixhw").mkdir(parents=True)
    (tmp_path / "sub" / "fixhw" / "functions.py").write_text(
        "import numpy as np\n\ndef reward_to_go(r, g):\n    return np.ones((len(r), 1))\n\n"
        "def discounted_return(r, g):\n    return np.asarray(r) * 1.0\n")
    results = grade(homework, tmp_path / "sub")
    capped, memory, number, goes_on = results["tests"]
    assert capped["status"] == "passed", capped["output"]
    assert memory["status"] == "failed" and memory["output"].startswith(
        "checking your result needed more memory than the grader allows (2048 MB)"), memory["output"]
    assert number["output"].startswith("your code returned an array of shape (2,) where this test expects"), number
    assert goes_on["status"] == "passed" and results["score"] == 5
