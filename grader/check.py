"""`python -m grader check [HW ...]`: prove that the student release is right.

For each homework (default: every `hwN_*/` package with a submission.yaml) it builds the release in
a temporary directory and checks, in this order:
1. markers: every marker of the package is well formed (the release refuses to build otherwise);
2. notebook: `notebook.py` exists and the instructor's `notebook.ipynb` is what it generates;
3. imports: every module of the released package parses and imports, from the release itself;
4. public tests (pytest in a subprocess, JUnit XML read back): all pass on the reference; on the
   starter the run completes and every failure is a "not implemented" one (no crash, no
   collection error);
5. student side: `python -m grader grade HW --public`, run inside the release, reports the tests;
6. hidden suite through the real harness (`python -m grader grade HW [--submission RELEASE]`):
   the reference gets full marks, the starter zero on every test;
7. leaks: no distinctive line of any solution block appears anywhere in the release, no marker
   (solution, prompt, instructor block) is left in any released file, and no text written for
   students (Markdown, notebooks, the homework packages) names a file the release leaves out
   (`tests/...`, `benchmarks.x`, `docs/RELEASE.md`); such a mention elsewhere (common/, the
   project's config files) is a note. The autograder's own code is not read for mentions.
It prints one table and exits 1 when any check failed.
"""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from grader.notebooks import NOTEBOOK, NOTEBOOK_SOURCE, stale_notebooks
from grader.release import ReleaseError, build_release, find_leaks, find_mentions, homework_of, homework_packages
from grader.starter import MarkerError

REPO_ROOT = Path(__file__).resolve().parent.parent
GRADE_ENTRY = "grader/harness/grade.py"
NOT_IMPLEMENTED = re.compile(r"NotImplementedError|not implemented|TODO\(hw\d+\)", re.IGNORECASE)
SUBPROCESS_TIMEOUT_S = 1200


@dataclass
class HomeworkCheck:
    hw: str
    package: str
    todos: int | str = "-"
    notebook: str = "-"
    imports: str = "-"
    public_reference: str = "-"
    public_starter: str = "-"
    student_grade: str = "-"
    hidden_reference: str = "-"
    hidden_starter: str = "-"
    leaks: int | str = "-"
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class PytestOutcome:
    returncode: int
    passed: int = 0
    failed: int = 0              # failures and errors
    not_implemented: int = 0     # failures whose message says "not implemented"
    skipped: int = 0
    crashes: list[str] = field(default_factory=list)   # "test id: first line of the message"
    output: str = ""

    @property
    def total(self) -> int:
        return self.passed + self.failed


def existing_homeworks(root: Path) -> dict[str, str]:
    """Homework id -> package for the packages that hold a submission.yaml (the ones that exist)."""
    return {hw: pkg for hw, pkg in homework_packages(root).items() if (root / pkg / "submission.yaml").is_file()}


# `python -m MODULE ARGS` as run from a tree under test, minus the import hooks of an editable install
# (`pip install -e .`, as in CI): they resolve any module missing from the tree to the instructor's
# copy, so a release that lacks a file would import the reference solution and look fine. The hook is
# often a class, not an instance, in sys.meta_path: match on its own __module__, not its type's.
_WITHOUT_EDITABLE_HOOKS = (
    "import sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in str(getattr(f, '__module__', ''))]\n"
    "sys.path[:] = [p for p in sys.path if '__editable__' not in p]\n"
)
_RUN_MODULE = "import runpy\nsys.argv = sys.argv[1:]\nrunpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
_IMPORT_MODULES = (
    "import importlib, json\n"
    "report = {}\n"
    "for name in json.loads(sys.argv[1]):\n"
    "    try:\n"
    "        report[name] = ['ok', getattr(importlib.import_module(name), '__file__', '') or '']\n"
    "    except BaseException as err:\n"
    "        report[name] = ['error', f'{type(err).__name__}: {err}']\n"
    "print(json.dumps(report))\n"
)


def in_tree_command(module: str, *args: str) -> list[str]:
    """The command line that runs `python -m module args` with the current tree's code only."""
    return [sys.executable, "-c", _WITHOUT_EDITABLE_HOOKS + _RUN_MODULE, module, *args]


def child_env() -> dict[str, str]:
    """Environment of every subprocess: no PYTHONPATH (the tree under test must be what is imported),
    one thread per library (the machines running this are small and shared)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", DEEPRL_TORCH_THREADS="1")
    return env


def run_public_tests(tree: Path, package: str, junit_path: Path) -> PytestOutcome:
    """pytest on `<tree>/<package>/tests` in a subprocess run from `tree`; counts read from JUnit XML."""
    command = in_tree_command("pytest", f"{package}/tests", "-q", "-p", "no:cacheprovider", f"--junitxml={junit_path}")
    try:
        proc = subprocess.run(command, cwd=tree, env=child_env(), capture_output=True, text=True,
                              timeout=SUBPROCESS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return PytestOutcome(returncode=-1, crashes=[f"pytest timed out after {SUBPROCESS_TIMEOUT_S} s"])
    outcome = PytestOutcome(returncode=proc.returncode, output=proc.stdout + proc.stderr)
    if not junit_path.is_file():
        outcome.crashes.append(f"pytest wrote no report (exit code {proc.returncode})")
        return outcome
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if case.find("skipped") is not None:
            outcome.skipped += 1
        elif bad is None:
            outcome.passed += 1
        else:
            outcome.failed += 1
            reason = _failure_reason(bad)
            if NOT_IMPLEMENTED.search(reason):
                outcome.not_implemented += 1
            else:
                outcome.crashes.append(f"{name}: {reason[:200]}")
    return outcome


def _failure_reason(element: ET.Element) -> str:
    """The exception line of a JUnit failure ("TypeError: ..."), not the whole traceback: a traceback
    may quote a `raise NotImplementedError` line below the line that really failed."""
    message = (element.get("message") or "").strip()
    if message:
        return message.splitlines()[0]
    error_lines = [line for line in (element.text or "").splitlines() if line.startswith("E ")]
    return error_lines[-1][1:].strip() if error_lines else "error"


def check_imports(tree: Path, package: str) -> list[str]:
    """Import every module of the package (tests and notebook source aside) from `tree`, in a fresh
    process; return one line per module that does not parse, fails to import or resolves elsewhere."""
    problems, modules = [], []
    for path in sorted((tree / package).rglob("*.py")):
        rel = path.relative_to(tree)
        if "tests" in rel.parts or rel.name == NOTEBOOK_SOURCE or "__pycache__" in rel.parts:
            continue
        try:
            ast.parse(path.read_bytes(), filename=str(rel))
        except SyntaxError as err:
            problems.append(f"{rel}:{err.lineno}: does not parse: {err.msg}")
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules.append(".".join(parts))
    try:
        proc = subprocess.run([sys.executable, "-c", _WITHOUT_EDITABLE_HOOKS + _IMPORT_MODULES, json.dumps(modules)],
                              cwd=tree, env=child_env(),
                              capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as err:
        return problems + [f"importing {package} crashed the interpreter: {type(err).__name__}"]
    tree = tree.resolve()
    for name, (status, detail) in report.items():
        if status != "ok":
            problems.append(f"import {name}: {detail.splitlines()[0] if detail else 'failed'}")
        elif detail and tree not in Path(detail).resolve().parents:
            problems.append(f"import {name} resolved to {detail}, outside the tree under test")
    return problems


def grade(root: Path, hw: str, out: Path, submission: Path | None = None,
          public: bool = False) -> tuple[dict | None, str]:
    """Run the real harness from `root`; return (results.json content or None, a one-line explanation).
    `public`: what a student runs in the release, with that tree's code only."""
    args = ["grade", hw, "--out", str(out)] + (["--submission", str(submission)] if submission else [])
    args += ["--public"] if public else []
    command = in_tree_command("grader", *args) if public else [sys.executable, "-m", "grader", *args]
    shown = "python -m grader " + " ".join(args)
    try:
        proc = subprocess.run(command, cwd=root, env=child_env(), capture_output=True, text=True,
                              timeout=SUBPROCESS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"`{shown}` timed out after {SUBPROCESS_TIMEOUT_S} s"
    if not out.is_file():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        return None, f"`{shown}` wrote no results (exit code {proc.returncode}): {' | '.join(tail)}"
    try:
        return json.loads(out.read_text(encoding="utf-8")), ""
    except json.JSONDecodeError as err:
        return None, f"{out} is not valid JSON: {err}"


def _points(results: dict) -> tuple[float, float]:
    tests = results.get("tests") or []
    return float(results.get("score", sum(t.get("score", 0) for t in tests))), float(sum(t.get("max_score", 0) for t in tests))


def hidden_suite_dir(root: Path, package: str, hw: str) -> Path:
    """Where submission.yaml says the hidden suite lives (default grader/suites/<hw>)."""
    manifest = yaml.safe_load((root / package / "submission.yaml").read_text(encoding="utf-8")) or {}
    return root / str(manifest.get("suite") or f"grader/suites/{hw}")


def check_hidden(root: Path, hw: str, release: Path, work: Path, result: HomeworkCheck) -> None:
    if not (root / GRADE_ENTRY).is_file():
        result.hidden_reference = result.hidden_starter = "n/a"
        result.problems.append(f"grader not available: {GRADE_ENTRY} does not exist yet")
        return
    suite = hidden_suite_dir(root, result.package, hw)
    if not suite.is_dir():
        result.hidden_reference = result.hidden_starter = "none"
        result.problems.append(f"no hidden suite: {suite.relative_to(root)} does not exist")
        return
    reference, why = grade(root, hw, work / f"{hw}_reference.json")
    if reference is None:
        result.hidden_reference = "error"
        result.problems.append(f"hidden suite on the reference: {why}")
    else:
        score, maximum = _points(reference)
        result.hidden_reference = f"{score:g}/{maximum:g}"
        if maximum <= 0:
            result.problems.append("hidden suite: no test carries points")
        for test in reference.get("tests", []):
            if test.get("score", 0) < test.get("max_score", 0):
                result.problems.append(f"hidden suite, reference loses points: {test.get('name')}: "
                                       f"{str(test.get('output', '')).strip().splitlines()[:1]}")
    starter, why = grade(root, hw, work / f"{hw}_starter.json", submission=release)
    if starter is None:
        result.hidden_starter = "error"
        result.problems.append(f"hidden suite on the starter: {why}")
        return
    score, maximum = _points(starter)
    result.hidden_starter = f"{score:g}/{maximum:g}"
    for test in starter.get("tests", []):
        if test.get("score", 0) > 0:
            result.problems.append(f"hidden suite, starter scores {test.get('score')} on {test.get('name')}")
        elif not NOT_IMPLEMENTED.search(str(test.get("output", ""))):
            result.notes.append(f"hidden test {test.get('name')} fails on the starter without a "
                                "'not implemented' message")


def check_public(root: Path, package: str, release: Path, work: Path, result: HomeworkCheck) -> None:
    if not (root / package / "tests").is_dir():
        result.problems.append(f"{package}/tests/ is missing: every homework ships public tests")
        return
    reference = run_public_tests(root, package, work / "public_reference.xml")
    result.public_reference = f"{reference.passed}/{reference.total} pass"
    if reference.returncode != 0 or reference.failed or not reference.total:
        detail = "; ".join(reference.crashes[:3]) or " | ".join(reference.output.strip().splitlines()[-2:])
        result.problems.append(f"public tests on the reference: exit code {reference.returncode}: {detail}")
    starter = run_public_tests(release, package, work / "public_starter.xml")
    result.public_starter = f"{starter.failed}/{starter.total} fail"
    if starter.returncode not in (0, 1):
        result.problems.append(f"public tests on the starter crashed (pytest exit code {starter.returncode}): "
                               f"{'; '.join(starter.crashes[:3])}")
    elif not starter.failed:
        result.problems.append("public tests: none fails on the starter, so none exercises a TODO")
    for crash in starter.crashes:
        result.problems.append(f"public test fails on the starter without 'not implemented': {crash}")
    if starter.passed:
        result.notes.append(f"{starter.passed} public test(s) pass on the starter (they test given code)")


def check_student_grade(hw: str, release: Path, work: Path, result: HomeworkCheck) -> None:
    """What a student runs on the release: `python -m grader grade HW --public` must report every test."""
    if not (release / GRADE_ENTRY).is_file():
        result.student_grade = "n/a"
        result.problems.append(f"the release has no {GRADE_ENTRY}: students cannot run the public tests")
        return
    results, why = grade(release, hw, work / "student_public.json", public=True)
    tests = (results or {}).get("tests") or []
    result.student_grade = f"{len(tests)} tests" if tests else "error"
    if not tests:
        result.problems.append(f"`python -m grader grade {hw} --public` in the release: {why or 'no tests reported'}")


def check_notebook(root: Path, hw: str, package: str, result: HomeworkCheck) -> None:
    if not (root / package / NOTEBOOK_SOURCE).is_file():
        result.notebook = "missing"
        result.problems.append(f"{package}/{NOTEBOOK_SOURCE} is missing: every homework ships a notebook")
    elif stale_notebooks(root, [hw]):
        result.notebook = "stale"
        result.problems.append(f"{package}/{NOTEBOOK} is stale or missing: run `python -m grader.notebooks {hw}`")
    else:
        result.notebook = "ok"


def check_homework(root: Path, hw: str, package: str, work: Path, *, hidden: bool = True) -> HomeworkCheck:
    """Every check above for one homework; `work` is an empty scratch directory."""
    result = HomeworkCheck(hw, package)
    release = work / "release"
    try:
        report = build_release(root, release, [hw])
    except (MarkerError, ReleaseError) as err:
        result.problems += [f"release failed: {line}" for line in str(err).splitlines()]
        return result
    result.todos = report.todos.get(hw, 0)
    if not result.todos:
        result.problems.append(f"{package} has no solution markers: the starter would be the reference")
    check_notebook(root, hw, package, result)
    import_problems = check_imports(release, package)
    result.imports = "ok" if not import_problems else f"{len(import_problems)} failed"
    result.problems += import_problems
    check_public(root, package, release, work, result)
    if hidden:
        check_student_grade(hw, release, work, result)
        check_hidden(root, hw, release, work, result)
    leaks = find_leaks(root, package, release)
    for rel, row, name in find_mentions(root, release):
        mention = f"{rel}:{row}: names {name}, which the student edition leaves out"
        if is_student_text(rel):
            leaks.append(mention + ": reword it or wrap it in <!-- BEGIN INSTRUCTOR --> ... <!-- END INSTRUCTOR -->")
        else:
            result.notes.append(mention)
    result.leaks = len(leaks)
    result.problems += leaks
    return result


def is_student_text(rel: str) -> bool:
    """Text written for students: Markdown, notebooks, anything in a homework package."""
    return rel.endswith((".md", ".ipynb")) or homework_of(rel) is not None


COLUMNS = (("homework", "hw"), ("TODOs", "todos"), ("notebook", "notebook"), ("imports", "imports"),
           ("public ref", "public_reference"), ("public starter", "public_starter"),
           ("student --public", "student_grade"),
           ("hidden ref", "hidden_reference"), ("hidden starter", "hidden_starter"), ("leaks", "leaks"))


def format_table(results: list[HomeworkCheck]) -> str:
    rows = [[title for title, _ in COLUMNS] + ["result"]]
    rows += [[str(getattr(r, name)) for _, name in COLUMNS] + ["ok" if r.ok else "FAIL"] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(args, root: Path = REPO_ROOT) -> int:
    """CLI entry: `python -m grader check [HW ...]` (0 all green, 1 a check failed, 2 unknown homework)."""
    available = existing_homeworks(root)
    wanted = list(args.hw or available)
    unknown = [hw for hw in wanted if hw not in available]
    if unknown:
        print(f"check: unknown homework {', '.join(unknown)}; homeworks with a submission.yaml: "
              f"{', '.join(available) or 'none'}", file=sys.stderr)
        return 2
    if not wanted:
        print("check: no homework has a submission.yaml yet; nothing to check")
        return 0
    results = []
    for hw in wanted:
        print(f"checking {hw} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"check-{hw}-") as work:
            results.append(check_homework(root, hw, available[hw], Path(work)))
    print()
    print(format_table(results))
    for result in results:
        for problem in result.problems:
            print(f"{result.hw}: FAIL {problem}")
        for note in result.notes:
            print(f"{result.hw}: note {note}")
    return 0 if all(r.ok for r in results) else 1
