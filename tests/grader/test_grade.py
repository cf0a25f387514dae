"""End to end: `python -m grader grade` on the fixture homework, through the real worker."""
import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.harness import grade as grade_module
from grader.harness.grade import grade
from grader.manifest import find_homework

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
