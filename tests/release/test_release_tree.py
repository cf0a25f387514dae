"""`python -m grader release`: what the student edition holds and leaves out (grader/release.py)."""
import argparse
import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest


from grader import release
from grader.release import (ReleaseError, build_release, find_leaks, glob_to_regex, homework_of, homework_packages,
                            source_files)
from grader.starter import MarkerError

REPO_ROOT = Path(__file__).resolve().parents[2]
# distinctive lines of the toy's reference code: none may reach the release
SOLUTION_TEXT = ("total_return = reward + gamma", "future_rewards_weighted", "harmonic_decay_value",
                 "self.learning_rate * (reward - self.estimate)", "gamma ** np.arange", "value * 2 + 0",
                 "num_steps = 3")


def released_text(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())


def test_release_stubs_solutions_and_leaves_out_instructor_files(toy_root: Path, tmp_path: Path):
    for litter in ("hw0_toy/__pycache__/returns.cpython-311.pyc", "runs/hw0/run_0/metrics.csv",
                   ".venv/lib/site.py", "hw0_toy/.ipynb_checkpoints/notebook-checkpoint.ipynb"):
        (toy_root / litter).parent.mkdir(parents=True, exist_ok=True)
        (toy_root / litter).write_text("litter")
    out = tmp_path / "release"
    report = build_release(toy_root, out)
    files = sorted(str(p.relative_to(out).as_posix()) for p in out.rglob("*") if p.is_file())
    assert files == sorted(report.files) == [
        "common/__init__.py", "common/maths.py", "grader/__init__.py",
        "hw0_toy/README.md", "hw0_toy/__init__.py", "hw0_toy/agent.py", "hw0_toy/notebook.ipynb",
        "hw0_toy/notebook.py", "hw0_toy/returns.py", "hw0_toy/run.py", "hw0_toy/submission.yaml",
        "hw0_toy/tabs.py", "hw0_toy/tests/test_public.py", "pyproject.toml",
    ]
    assert report.todos == {"hw0": 7}
    text = released_text(out)
    for solution in SOLUTION_TEXT:
        assert solution not in text
    assert "BEGIN SOLUTION" not in text.replace('"# BEGIN SOLUTION is only text inside a string"', "")
    for path in out.rglob("*.py"):
        ast.parse(path.read_text(), filename=str(path))
    # files without markers are copied byte for byte
    assert (out / "hw0_toy/run.py").read_bytes() == (toy_root / "hw0_toy/run.py").read_bytes()


def test_release_notebook_is_regenerated_from_the_stubbed_source(toy_root: Path, tmp_path: Path):
    build_release(toy_root, tmp_path / "out")
    notebook = nbformat.read(tmp_path / "out" / "hw0_toy" / "notebook.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "num_steps = ...\n" in code and "num_steps = 3" not in code


def test_marker_error_names_file_and_line_and_writes_nothing(toy_root: Path, tmp_path: Path):
    agent = toy_root / "hw0_toy" / "agent.py"
    lines = agent.read_text().splitlines(keepends=True)
    end = max(i for i, line in enumerate(lines) if "# END SOLUTION" in line)
    agent.write_text("".join(lines[:end] + lines[end + 1:]))  # drop the last END SOLUTION: unpaired BEGIN
    out = tmp_path / "out"
    with pytest.raises(MarkerError) as caught:
        build_release(toy_root, out)
    begin = max(i for i, line in enumerate(lines, start=1) if "# BEGIN SOLUTION" in line)
    assert str(caught.value) == f"hw0_toy/agent.py:{begin}: '# BEGIN SOLUTION' is never closed (missing '# END SOLUTION')"
    assert not out.exists()


def test_nested_marker_is_reported_with_file_and_line(toy_root: Path, tmp_path: Path):
    returns = toy_root / "hw0_toy" / "returns.py"
    lines = returns.read_text().splitlines(keepends=True)
    inner = next(i for i, line in enumerate(lines) if "total_return = 0.0" in line)
    lines.insert(inner + 1, "    # BEGIN SOLUTION\n")
    returns.write_text("".join(lines))
    with pytest.raises(MarkerError) as caught:
        build_release(toy_root, tmp_path / "out")
    assert f"hw0_toy/returns.py:{inner + 2}: nested marker" in str(caught.value)


def test_non_empty_out_is_refused_unless_forced(toy_root: Path, tmp_path: Path):
    out = tmp_path / "out"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref")
    (out / "stale_solution.py").write_text("x = 1\n")
    with pytest.raises(ReleaseError, match="not empty"):
        build_release(toy_root, out)
    build_release(toy_root, out, force=True)
    assert not (out / "stale_solution.py").exists()       # --force empties OUT ...
    assert (out / ".git" / "HEAD").read_text() == "ref"   # ... but keeps a students' repo clone's .git
    assert (out / "hw0_toy" / "returns.py").is_file()


@pytest.mark.parametrize("where", [".", ".."])
def test_out_holding_the_source_tree_is_refused(toy_root: Path, where: str):
    with pytest.raises(ReleaseError, match="holds the instructor tree"):
        build_release(toy_root, toy_root / where, force=True)


def test_out_inside_the_tree_is_not_copied_into_itself(toy_root: Path):
    build_release(toy_root, toy_root / "student")
    report = build_release(toy_root, toy_root / "student", force=True)
    assert not any(f.startswith("student/") for f in report.files)


def test_hw_option_keeps_only_the_named_homeworks(toy_root: Path, tmp_path: Path):
    other = toy_root / "hw9_other"
    other.mkdir()
    (other / "__init__.py").write_text("")
    assert "hw9_other/__init__.py" in build_release(toy_root, tmp_path / "all").files
    report = build_release(toy_root, tmp_path / "hw0", ["hw0"])
    assert not (tmp_path / "hw0" / "hw9_other").exists() and "hw9_other/__init__.py" in report.excluded
    with pytest.raises(ReleaseError, match="unknown homework hw7"):
        build_release(toy_root, tmp_path / "bad", ["hw7"])
    manifest = toy_root / "hw0_toy" / "submission.yaml"  # hw0 imports hw9: hw9's student edition ships too
    manifest.write_text(manifest.read_text() + "uses: [hw9_other]\n")
    (other / "solved.py").write_text("def f():\n    # BEGIN SOLUTION (README 1.1)\n    return 42\n    # END SOLUTION\n")
    build_release(toy_root, tmp_path / "uses", ["hw0"])
    assert "TODO(hw9)" in (tmp_path / "uses" / "hw9_other" / "solved.py").read_text()
    assert "return 42" not in released_text(tmp_path / "uses")
    # once hw9 is past due: --solved ships its solutions (markers dropped), also without --hw naming it
    report = build_release(toy_root, tmp_path / "solved", ["hw0"], solved=["hw9_other"])
    assert (tmp_path / "solved" / "hw9_other" / "solved.py").read_text() == "def f():\n    return 42\n"
    assert report.solved == ["hw9"] and "hw9" not in report.todos and report.todos["hw0"] == 7
    assert "return 42" not in released_text(tmp_path / "solved" / "hw0_toy")  # hw0 itself stays stubbed
    manifest.write_text(manifest.read_text().replace("uses: [hw9_other]\n", ""))
    build_release(toy_root, tmp_path / "solved_alone", ["hw0"], solved=["hw9"])
    assert "return 42" in (tmp_path / "solved_alone" / "hw9_other" / "solved.py").read_text()
    with pytest.raises(ReleaseError, match="unknown homework hw7"):
        build_release(toy_root, tmp_path / "bad_solved", ["hw0"], solved=["hw7"])


def test_git_checkout_lists_files_through_git_so_gitignore_applies(toy_root: Path):
    (toy_root / ".gitignore").write_text("*.ckpt\n")
    (toy_root / "hw0_toy" / "local.ckpt").write_text("big")
    subprocess.run(["git", "init", "-q", str(toy_root)], check=True)
    files = source_files(toy_root)
    assert "hw0_toy/local.ckpt" not in files and "hw0_toy/returns.py" in files and ".gitignore" in files


@pytest.mark.parametrize("pattern, path, expected", [
    ("tests/", "tests/release/test_x.py", True),
    ("tests", "tests/a.py", True),
    ("tests/", "hw2_pg/tests/test_a.py", False),
    ("grader/suites/**", "grader/suites/hw2/test_a.py", True),
    ("docs/RELEASE.md", "docs/RELEASE.md", True),
    ("docs/RELEASE.md", "docs/ARCHITECTURE.md", False),
    ("**/*_notes.md", "hw2_pg/notes/ppo_notes.md", True),
    ("**/*_notes.md", "ppo_notes.md", True),
    ("hw*/secret_*.py", "hw2_pg/secret_ref.py", True),
    ("hw*/secret_*.py", "hw2_pg/sub/secret_ref.py", False),
])
def test_release_yaml_globs(pattern, path, expected):
    assert bool(glob_to_regex(pattern).fullmatch(path)) is expected


def test_homework_of_a_path():
    assert homework_of("hw2_policy_gradient/returns.py") == "hw2"
    assert homework_of("common/envs.py") is None and homework_of("hw2_policy_gradient") is None


def test_release_of_this_repository_ships_no_hidden_suite_and_no_project_tests(tmp_path: Path):
    out = tmp_path / "student"
    proc = subprocess.run([sys.executable, "-m", "grader", "release", str(out)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "TODOs stubbed" in proc.stdout
    assert not (out / "grader" / "suites").exists()
    assert not (out / "tests").exists() and not (out / "benchmarks").exists()
    assert not (out / "release.yaml").exists() and not (out / "docs" / "RELEASE.md").exists()
    assert (out / "grader" / "cli.py").is_file()  # students run `python -m grader grade HW --public`
    for package in homework_packages(REPO_ROOT).values():
        assert find_leaks(REPO_ROOT, package, out) == []
    again = subprocess.run([sys.executable, "-m", "grader", "release", str(out)], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_release_command_prints_marker_errors_and_exits_1(toy_root: Path, tmp_path: Path, capsys):
    returns = toy_root / "hw0_toy" / "returns.py"
    returns.write_text(returns.read_text() + "\n\ndef extra():\n    return 1\n    # END SOLUTION\n")
    line = len(returns.read_text().splitlines())
    args = argparse.Namespace(out=str(tmp_path / "out"), hw=None, force=False)
    assert release.run(args, root=toy_root) == 1
    err = capsys.readouterr().err
    assert "nothing was written" in err
    assert f"hw0_toy/returns.py:{line}: '# END SOLUTION' without a matching '# BEGIN SOLUTION'" in err
    assert not (tmp_path / "out").exists()
