"""`python -m grader check`: each proof it makes, on the toy course (grader/check.py)."""
import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import check
from grader.check import check_hidden, check_homework, format_table, run_public_tests
from grader.release import find_leaks

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_toy_homework_passes_every_check_but_the_hidden_suite(toy_root: Path, tmp_path: Path):
    result = check_homework(toy_root, "hw0", "hw0_toy", tmp_path, hidden=False)
    assert result.problems == [], result.problems
    assert (result.todos, result.notebook, result.imports, result.leaks) == (7, "ok", "ok", 0)
    assert (result.public_reference, result.public_starter) == ("5/5 pass", "5/5 fail")
    assert "hw0" in format_table([result]) and "ok" in format_table([result]).splitlines()[-1]


def test_starter_failures_read_as_not_implemented(toy_root: Path, tmp_path: Path):
    from grader.release import build_release
    build_release(toy_root, tmp_path / "release")
    outcome = run_public_tests(tmp_path / "release", "hw0_toy", tmp_path / "junit.xml")
    assert (outcome.returncode, outcome.failed, outcome.not_implemented, outcome.crashes) == (1, 5, 5, [])


def test_starter_crash_that_is_not_a_todo_message_is_reported(toy_root: Path, tmp_path: Path):
    # a `# SOLUTION` line whose stub (`factor = ...`) is then used: the starter fails with a TypeError,
    # above a TODO raise that the traceback quotes (which must not count as "not implemented")
    with open(toy_root / "hw0_toy" / "returns.py", "a") as module:
        module.write("\n\ndef scaled(x):\n    factor = 2.0  # SOLUTION\n    value = factor * x\n"
                     "    # BEGIN SOLUTION\n    return value\n    # END SOLUTION\n")
    with open(toy_root / "hw0_toy" / "tests" / "test_public.py", "a") as tests:
        tests.write("\n\ndef test_scaled():\n    from hw0_toy.returns import scaled\n    assert scaled(1.0) == 2.0\n")
    result = check_homework(toy_root, "hw0", "hw0_toy", tmp_path, hidden=False)
    assert any("test_scaled" in p and "without 'not implemented'" in p and "TypeError" in p
               for p in result.problems), result.problems


def test_failing_reference_is_reported(toy_root: Path, tmp_path: Path):
    with open(toy_root / "hw0_toy" / "tests" / "test_public.py", "a") as tests:
        tests.write("\n\ndef test_wrong_expectation():\n    assert 1 == 2\n")
    result = check_homework(toy_root, "hw0", "hw0_toy", tmp_path, hidden=False)
    assert result.public_reference == "5/6 pass"
    assert any(p.startswith("public tests on the reference") for p in result.problems)


def test_import_error_in_the_starter_is_reported(toy_root: Path, tmp_path: Path):
    # a module-level name computed by a function that the starter stubs: importing the starter raises
    with open(toy_root / "hw0_toy" / "agent.py", "a") as module:
        module.write("\n\nDEFAULT_SCHEDULE = ToyAgent.make_schedule(1.0)(0)\n")
    result = check_homework(toy_root, "hw0", "hw0_toy", tmp_path, hidden=False)
    assert result.imports == "2 failed"  # hw0_toy.agent, and hw0_toy.run that imports it
    assert any("import hw0_toy.agent: NotImplementedError" in p for p in result.problems), result.problems


def test_solution_text_copied_elsewhere_is_a_leak(toy_root: Path, tmp_path: Path):
    (toy_root / "hw0_toy" / "CHEATSHEET.md").write_text(
        "Use this:\n\n    harmonic_decay_value = start / (1.0 + step)\n")
    (toy_root / "common" / "helpers.py").write_text(
        "def rtg(rewards, gamma):\n    return [total_return := reward + gamma for reward in rewards]  # ok\n"
        "    total_return = reward + gamma * total_return\n")
    result = check_homework(toy_root, "hw0", "hw0_toy", tmp_path, hidden=False)
    leaks = [p for p in result.problems if "leaked" in p]
    assert result.leaks == 2
    assert leaks[0].startswith("common/helpers.py:3: solution line leaked")
    assert leaks[1].startswith("hw0_toy/CHEATSHEET.md:3: solution line leaked")


def test_marker_left_in_a_released_file_is_a_leak(tmp_path: Path):
    (tmp_path / "hw0_toy").mkdir()
    (tmp_path / "hw0_toy" / "config.yaml").write_text("lr: 0.1\n# BEGIN SOLUTION\nsecret: 1\n")
    (tmp_path / "hw0_toy" / "doc.py").write_text('"""Docstring that mentions\n# BEGIN SOLUTION\n"""\n')
    toy = Path(__file__).resolve().parent / "toy_course"
    assert find_leaks(toy, "hw0_toy", tmp_path) == ["hw0_toy/config.yaml:2: marker left in the release"]


def test_malformed_marker_fails_the_check_with_file_and_line(toy_root: Path, tmp_path: Path):
    returns = toy_root / "hw0_toy" / "returns.py"
    returns.write_text(returns.read_text().replace("# END SOLUTION", "# END SOLUTIONS", 1))
    result = check_homework(toy_root, "hw0", "hw0_toy", tmp_path, hidden=False)
    assert not result.ok
    assert any(p.startswith("release failed: hw0_toy/returns.py:") and "malformed marker" in p
               for p in result.problems), result.problems


def test_hidden_step_says_when_the_grader_is_not_available(toy_root: Path, tmp_path: Path):
    result = check.HomeworkCheck("hw0", "hw0_toy")
    check_hidden(toy_root, "hw0", tmp_path, tmp_path, result)
    assert result.problems == ["grader not available: grader/harness/grade.py does not exist yet"]
    assert "n/a" in format_table([result]) and "FAIL" in format_table([result])


def test_hidden_step_scores_through_the_grade_command(toy_root: Path, tmp_path: Path):
    """A stand-in grade command: reference full marks, starter zero (the real one is tested end to end below)."""
    harness = toy_root / "grader" / "harness"
    harness.mkdir()
    (harness / "__init__.py").write_text("")
    (harness / "grade.py").write_text("")
    (toy_root / "grader" / "__main__.py").write_text(
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "out = args[args.index('--out') + 1]\n"
        "starter = '--submission' in args\n"
        "tests = [{'name': 't1', 'score': 0 if starter else 2, 'max_score': 2, 'status': 'failed' if starter else 'passed',\n"
        "          'output': 'NotImplementedError: TODO(hw0): f' if starter else '', 'visibility': 'visible'}]\n"
        "json.dump({'score': sum(t['score'] for t in tests), 'tests': tests}, open(out, 'w'))\n")
    result = check.HomeworkCheck("hw0", "hw0_toy")
    check_hidden(toy_root, "hw0", tmp_path / "release", tmp_path, result)
    assert (result.hidden_reference, result.hidden_starter, result.problems) == ("2/2", "0/2", [])
    check.check_student_grade("hw0", toy_root, tmp_path, result)  # the toy tree stands in for a release
    assert (result.student_grade, result.problems) == ("1 tests", [])
    shutil.rmtree(toy_root / "grader" / "suites")
    check_hidden(toy_root, "hw0", tmp_path / "release", tmp_path, result)
    assert result.problems == ["no hidden suite: grader/suites/hw0 does not exist"]


def test_check_command_rejects_an_unknown_homework(capsys):
    assert check.run(argparse.Namespace(hw=["hw7"])) == 2
    assert "unknown homework hw7" in capsys.readouterr().err


def test_check_command_prints_the_table_and_fails_without_the_grader(toy_root: Path, capsys):
    assert check.run(argparse.Namespace(hw=[]), root=toy_root) == 1
    out = capsys.readouterr().out
    header, rule, row = out.split("\n\n", 1)[1].splitlines()[:3]
    assert header.split() == ["homework", "TODOs", "notebook", "imports", "public", "ref", "public", "starter",
                              "student", "--public", "hidden", "ref", "hidden", "starter", "leaks", "result"]
    assert row.split() == ["hw0", "7", "ok", "ok", "5/5", "pass", "5/5", "fail", "n/a", "n/a", "n/a", "0", "FAIL"]
    assert "hw0: FAIL the release has no grader/harness/grade.py" in out


@pytest.mark.parametrize("hw", sorted(check.existing_homeworks(REPO_ROOT)))
def test_check_command_is_green_for_every_homework(hw: str):
    proc = subprocess.run([sys.executable, "-m", "grader", "check", hw], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_tree_commands_ignore_an_editable_install_of_the_instructor_tree(tmp_path: Path):
    """CI installs the project with `pip install -e .`, whose import hook would resolve a module missing
    from the release to the instructor's copy; commands run in a tree under test drop that hook."""
    (tmp_path / "probe.py").write_text(
        "import sys\nprint([str(getattr(f, '__module__', '')) for f in sys.meta_path], sys.path, sys.argv[1:])\n")
    proc = subprocess.run(check.in_tree_command("probe", "--flag", "x"), cwd=tmp_path, capture_output=True,
                          text=True, env=check.child_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "__editable__" not in proc.stdout and proc.stdout.strip().endswith("['--flag', 'x']")
