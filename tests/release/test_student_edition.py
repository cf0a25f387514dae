"""The student edition reads as the students' own: its README, no instructor-only text, no mention of
a file it leaves out, and the grader's commands answer sensibly there (grader/release.py, check.py,
grader/harness/grade.py)."""
import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader import check, release
from grader.harness import grade as grade_module
from grader.release import (INSTRUCTOR_BEGIN, INSTRUCTOR_END, ReleaseError, build_release, find_mentions,
                            strip_instructor_blocks)
from grader.starter import MarkerError

REPO_ROOT = Path(__file__).resolve().parents[2]
STUDENT_README = "docs/STUDENT_README.md"


# ---------------------------------------------------------------- instructor-only Markdown blocks

def test_instructor_blocks_are_dropped_with_their_markers():
    text = (f"# Results\nintro\n{INSTRUCTOR_BEGIN}\nProduced by `python -m benchmarks.x`.\n{INSTRUCTOR_END}\n"
            f"| table |\n  {INSTRUCTOR_BEGIN}  \nmore TA text\n{INSTRUCTOR_END}\nend\n")
    assert strip_instructor_blocks(text, "README.md") == "# Results\nintro\n| table |\nend\n"


def test_text_without_instructor_blocks_is_unchanged_and_quoted_markers_are_text():
    text = f"Wrap TA lines in `{INSTRUCTOR_BEGIN}` ... `{INSTRUCTOR_END}`.\r\nSecond line\r\n"
    assert strip_instructor_blocks(text, "docs/A.md") == text


@pytest.mark.parametrize("lines, row, words", [
    (["a", INSTRUCTOR_END, "b"], 2, "without a matching"),
    (["a", INSTRUCTOR_BEGIN, "b"], 2, "never closed"),
    ([INSTRUCTOR_BEGIN, "a", INSTRUCTOR_BEGIN, "b", INSTRUCTOR_END], 3, "inside the instructor block opened at line 1"),
    (["a", "<!-- begin instructor -->", "b", INSTRUCTOR_END], 2, "looks like an instructor marker"),
    (["a", f"text {INSTRUCTOR_BEGIN}", "b"], 2, "looks like an instructor marker"),
    ([INSTRUCTOR_BEGIN, "<!-- END INSTRUCTORS -->"], 2, "looks like an instructor marker"),
])
def test_unpaired_or_mistyped_instructor_markers_are_errors_with_file_and_line(lines, row, words):
    with pytest.raises(MarkerError) as error:
        strip_instructor_blocks("\n".join(lines) + "\n", "hw0_toy/README.md")
    assert f"hw0_toy/README.md:{row}: " in str(error.value) and words in str(error.value)


def test_release_drops_instructor_blocks_from_every_markdown_file(toy_root: Path, tmp_path: Path):
    readme = toy_root / "hw0_toy" / "README.md"
    readme.write_text(readme.read_text() + f"\n{INSTRUCTOR_BEGIN}\nTA: the secret is to loop backwards.\n"
                                           f"{INSTRUCTOR_END}\nLast student line.\n")
    (toy_root / "common" / "GUIDE.md").write_text(f"Given code.\n{INSTRUCTOR_BEGIN}\nTA only\n{INSTRUCTOR_END}\n")
    build_release(toy_root, tmp_path / "out")
    released = (tmp_path / "out" / "hw0_toy" / "README.md").read_text()
    assert "loop backwards" not in released and "INSTRUCTOR" not in released
    assert released.endswith("\nLast student line.\n") and "Implement `discounted_sum`" in released
    assert (tmp_path / "out" / "common" / "GUIDE.md").read_text() == "Given code.\n"


def test_unpaired_instructor_marker_fails_the_release_with_file_and_line(toy_root: Path, tmp_path: Path, capsys):
    readme = toy_root / "hw0_toy" / "README.md"
    readme.write_text(readme.read_text() + f"\n{INSTRUCTOR_BEGIN}\nTA only, never closed\n")
    row = len(readme.read_text().splitlines()) - 1
    args = argparse.Namespace(out=str(tmp_path / "out"), hw=None, force=False)
    assert release.run(args, root=toy_root) == 1
    assert f"hw0_toy/README.md:{row}: '{INSTRUCTOR_BEGIN}' is never closed" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_leftover_instructor_marker_in_a_release_is_a_leak(toy_root: Path, tmp_path: Path):
    out = tmp_path / "out"
    build_release(toy_root, out)
    (out / "hw0_toy" / "README.md").write_text(f"a\n{INSTRUCTOR_END}\n# BEGIN SOLUTION\n")
    assert release.find_leaks(toy_root, "hw0_toy", out) == ["hw0_toy/README.md:2: marker left in the release",
                                                          "hw0_toy/README.md:3: marker left in the release"]


# ---------------------------------------------------------------- the student README

def with_student_readme(root: Path, text: str) -> None:
    (root / "README.md").write_text("# Toy course (instructor)\nRun `python -m benchmarks.speed`.\n")
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "STUDENTS.md").write_text(text)
    config = root / "release.yaml"
    config.write_text(config.read_text() + "student_readme: docs/STUDENTS.md\n")


def test_student_readme_replaces_the_instructor_readme_and_lists_the_files_to_submit(toy_root: Path, tmp_path: Path):
    with_student_readme(toy_root, f"{INSTRUCTOR_BEGIN}\nsource of the student README\n{INSTRUCTOR_END}\n"
                                  "# Toy course\n\n<!-- HOMEWORK TABLE -->\n\nInstall: `pip install -e .`\n")
    report = build_release(toy_root, tmp_path / "out")
    readme = (tmp_path / "out" / "README.md").read_text()
    assert readme.startswith("# Toy course\n\n| homework | handout | files you submit")
    assert "| hw0 | [`hw0_toy/README.md`](hw0_toy/README.md) | `hw0_toy/returns.py`, `hw0_toy/agent.py` |" in readme
    assert "instructor" not in readme.lower() and "benchmarks" not in readme
    assert not (tmp_path / "out" / "docs").exists()
    assert {"README.md", "docs/STUDENTS.md"} <= set(report.excluded) and "README.md" in report.files


def test_student_readme_that_does_not_exist_is_refused(toy_root: Path, tmp_path: Path):
    config = toy_root / "release.yaml"
    config.write_text(config.read_text() + "student_readme: docs/NOPE.md\n")
    with pytest.raises(ReleaseError, match="student_readme docs/NOPE.md does not exist"):
        build_release(toy_root, tmp_path / "out")


def test_release_yaml_with_an_unknown_key_is_refused(toy_root: Path, tmp_path: Path):
    config = toy_root / "release.yaml"
    config.write_text(config.read_text() + "readme: docs/STUDENTS.md\n")
    with pytest.raises(ReleaseError, match="student_readme"):
        build_release(toy_root, tmp_path / "out")


# ---------------------------------------------------------------- the TA's header of notebook.py

def test_notebook_source_loses_its_ta_header_in_the_release(toy_root: Path, tmp_path: Path):
    source = (toy_root / "hw0_toy" / "notebook.py").read_text()
    assert source.startswith("# Source of notebook.ipynb")  # the toy's TA header
    build_release(toy_root, tmp_path / "out")
    released = (tmp_path / "out" / "hw0_toy" / "notebook.py").read_text()
    assert released.startswith("# %% [markdown]\n") and "Source of notebook" not in released
    assert "Source of notebook" not in (tmp_path / "out" / "hw0_toy" / "notebook.ipynb").read_text()


# ---------------------------------------------------------------- mentions of left-out files

def mentions_in(root: Path, tmp_path: Path, rel: str, text: str) -> list[tuple[str, int, str]]:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)
    out = tmp_path / "out"
    build_release(root, out, force=True)
    return [m for m in find_mentions(root, out) if m[0] == rel]


@pytest.mark.parametrize("rel, line, name", [
    ("hw0_toy/GUIDE.md", "Run `python -m pytest tests/test_release.py` first.", "tests/test_release.py"),
    ("hw0_toy/GUIDE.md", "Targets come from `python -m benchmarks.speed --jobs 2`.", "benchmarks.speed"),
    ("hw0_toy/GUIDE.md", "See [the notes](NOTES.md).", "NOTES.md"),
    ("hw0_toy/GUIDE.md", "Compare with ../benchmarks/speed.py.", "../benchmarks/speed.py"),
    ("hw0_toy/GUIDE.md", "Hidden tests live in grader/suites/<hw>/.", "grader/suites/"),
    ("hw0_toy/extra.py", "# measured with benchmarks/speed.py", "benchmarks/speed.py"),
    ("common/notes.md", "the list is in release.yaml", "release.yaml"),
    ("common/notes.md", "the grading notes: hw0_toy/NOTES.md", "hw0_toy/NOTES.md"),
])
def test_a_mention_of_a_left_out_file_is_found_with_file_and_line(toy_root: Path, tmp_path: Path, rel, line, name):
    assert mentions_in(toy_root, tmp_path, rel, f"first line\n{line}\n") == [(rel, 2, name)]


@pytest.mark.parametrize("line", [
    "python -m pytest hw0_toy/tests/test_public.py -q",     # the homework's public tests ship
    "python -m pytest tests/test_public.py (from this folder)",  # read from the file's folder: they exist
    "np.tests.assert_allclose and the tests of this homework",  # words, not paths
    "path = f'{package}/tests/' and <root>/benchmarks/",    # placeholders, not the root's folders
    "https://example.org/tests/benchmarks/speed.py",        # inside a longer path
    "Run the tests. Then the benchmarks. See speed.py",
])
def test_shipped_paths_words_and_urls_are_not_mentions(toy_root: Path, tmp_path: Path, line):
    assert mentions_in(toy_root, tmp_path, "hw0_toy/GUIDE.md", line + "\n") == []


def test_the_autograder_code_is_not_read_for_mentions(toy_root: Path, tmp_path: Path):
    assert mentions_in(toy_root, tmp_path, "grader/manifest.py", "SUITES = 'grader/suites/'\n") == []


def test_check_fails_on_a_mention_in_student_text_and_notes_one_elsewhere(toy_root: Path, tmp_path: Path):
    (toy_root / "hw0_toy" / "README.md").write_text("# Homework 0\nTargets: `python -m benchmarks.speed`.\n")
    (toy_root / "common" / "maths.py").write_text(
        (toy_root / "common" / "maths.py").read_text() + "# timed by benchmarks/speed.py\n")
    result = check.check_homework(toy_root, "hw0", "hw0_toy", tmp_path, hidden=False)
    assert [p for p in result.problems if "names" in p] == [
        "hw0_toy/README.md:2: names benchmarks.speed, which the student edition leaves out: reword it or wrap "
        "it in <!-- BEGIN INSTRUCTOR --> ... <!-- END INSTRUCTOR -->"]
    assert result.leaks == 1
    row = len((toy_root / "common" / "maths.py").read_text().splitlines())
    assert f"common/maths.py:{row}: names benchmarks/speed.py, which the student edition leaves out" in result.notes


# ---------------------------------------------------------------- this repository's student edition

@pytest.fixture(scope="module")
def student_edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student") / "course"
    build_release(REPO_ROOT, out)
    return out


def in_release(out: Path, module: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m module args` run inside the release with its own code only (no editable-install hook)."""
    return subprocess.run(check.in_tree_command(module, *args), cwd=out, env=check.child_env(),
                          capture_output=True, text=True, timeout=timeout)


def test_readme_is_the_student_one(student_edition: Path):
    readme = (student_edition / "README.md").read_text()
    expected = strip_instructor_blocks((REPO_ROOT / STUDENT_README).read_text(), STUDENT_README)
    assert readme.split("| homework |")[0] == expected.split("<!-- HOMEWORK TABLE -->")[0]
    assert "python -m grader grade hw2 --public" in readme
    assert "For instructors" not in readme and "For TAs" not in readme and "INSTRUCTOR" not in readme
    for package in (p.parent for p in REPO_ROOT.glob("hw*_*/submission.yaml")):
        files = yaml.safe_load((package / "submission.yaml").read_text())["files"]
        assert all(f"`{name}`" in readme for name in files)
    assert not (student_edition / STUDENT_README).exists()


def test_no_student_text_names_a_left_out_file(student_edition: Path):
    mentions = [m for m in find_mentions(REPO_ROOT, student_edition) if check.is_student_text(m[0])]
    assert mentions == []
    text = "\n".join(p.read_text() for p in student_edition.rglob("*.md"))
    for left_out in ("docs/RELEASE.md", "benchmarks.", "tests/release", "grader/suites", "release.yaml"):
        assert left_out not in text


def test_notebook_does_not_open_with_the_ta_note(student_edition: Path):
    for source in student_edition.glob("hw*_*/notebook.py"):
        assert source.read_text().startswith("# %%"), source


def test_every_module_and_path_the_student_readme_names_exists_in_the_release(student_edition: Path):
    readme = (student_edition / "README.md").read_text()
    commands = [line.split("#")[0].strip() for block in re.findall(r"```bash\n(.*?)```", readme, re.S)
                for line in block.splitlines()]
    modules = [c.split()[2] for c in commands if c.startswith("python -m ")]
    assert {"pytest", "grader", "hw2_policy_gradient.run", "common.plotting"} <= set(modules)
    for module in set(modules) - {"pytest"}:
        path = student_edition / module.replace(".", "/")
        assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file(), module
    paths = {word for c in commands for word in c.split() if "/" in word and not word.startswith(("runs/", ".venv/"))}
    assert paths and all((student_edition / p).exists() for p in paths), paths


def test_grade_without_a_suite_in_a_tree_without_suites_is_not_an_internal_error(monkeypatch, tmp_path, capsys):
    homework = tmp_path / "hwx"
    homework.mkdir()
    (homework / "submission.yaml").write_text("homework: hwx\npackage: hwx\nfiles: []\nparts: {a: 1}\n")
    monkeypatch.setattr(grade_module, "REPO_ROOT", tmp_path)  # like the student edition: no grader/suites/
    args = argparse.Namespace(hw=str(homework), submission=None, out=str(tmp_path / "results.json"), public=False)
    assert grade_module.run(args) == 0
    out = capsys.readouterr()
    assert "not part of the student edition" in out.out and f"grade {homework} --public" in out.out
    assert "internal error" not in out.out + out.err and not (tmp_path / "results.json").exists()


def test_grading_without_public_in_the_student_edition_points_to_public(student_edition: Path):
    proc = in_release(student_edition, "grader", "grade", "hw2")
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, output
    assert output.splitlines() == [
        "The hidden tests of hw2 are not part of the student edition: they run when you submit. "
        "For feedback now, run the public tests: python -m grader grade hw2 --public"]
    assert "internal error" not in output and not (student_edition / "results.json").exists()


@pytest.mark.parametrize("command", ["release", "check"])
def test_instructor_commands_in_the_student_edition_say_so(student_edition: Path, tmp_path: Path, command: str):
    proc = in_release(student_edition, "grader", command, *([str(tmp_path / "x")] if command == "release" else []))
    assert proc.returncode == 2 and "only available in the instructor edition" in proc.stdout, proc.stdout + proc.stderr
    assert not (tmp_path / "x").exists()


def test_readme_commands_run_in_the_student_edition(student_edition: Path, tmp_path: Path):
    public = in_release(student_edition, "grader", "grade", "hw2", "--public", "--out", str(tmp_path / "r.json"))
    assert public.returncode == 0 and "feedback, not your grade" in public.stdout, public.stdout + public.stderr
    assert (tmp_path / "r.json").is_file()
    tests = in_release(student_edition, "pytest", "hw2_policy_gradient/tests", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 1 and "NotImplementedError" in tests.stdout  # the starter: TODOs fail
    for module in ("hw2_policy_gradient.run", "common.plotting"):
        assert in_release(student_edition, module, "--help").returncode == 0
