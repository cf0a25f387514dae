"""Planted-change grading: proof that a hidden suite catches bugs, pays correct readings in full and
pays cheats nothing (instructor tool; each homework's suite lists its own mutants and uses this).

A mutant is the reference (or, with `starter=True`, the starter) with one change planted: text
replacements in student files and/or code appended to them. It is graded like a submission through
the real harness, on the suite files that can see the change only (grading the others would only
cost CI time), and must behave as its kind says:
    bug      every test in `must_fail` loses points
    correct  a legitimate reading of the handout: every graded test scores full marks
    cheat    points without the work: every test in `must_fail` scores 0 (`must_fail=("*",)`: all of them)

A homework's list:

    HOMEWORK = HomeworkMutants("hw2", Path(__file__).resolve().parent, FILE_SUITES, MUTANTS, SNIPPETS)
    problem, results = HOMEWORK.run(mutant, seed=...)     # problem is None when it behaved
    sys.exit(HOMEWORK.main(sys.argv[1:]))                 # the command line: all, or the named ones
"""
from __future__ import annotations

import ast
import dataclasses
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.harness.grade import grade
from grader.manifest import find_homework
from grader.starter import make_starter


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str                                      # the student file (inside the package) it changes
    replacements: tuple[tuple[str, str], ...]      # (old, new) text in `file`; each old must be there
    must_fail: tuple[str, ...] = ()
    kind: str = "bug"                              # "bug", "correct" or "cheat"
    appended: tuple[tuple[str, str], ...] = ()     # (student file, code appended to it; snippet names expand)
    suite_files: tuple[str, ...] = ()              # default: the homework's file_suites[file]
    starter: bool = False                          # plant into the starter instead of the reference
    also: tuple[tuple[str, str, str], ...] = ()    # (student file, old, new): companion changes elsewhere


@dataclass(frozen=True)
class HomeworkMutants:
    """The mutants of one homework and how to grade them."""

    hw: str                                        # "hw2": the homework as `find_homework` knows it
    suite: Path                                    # the hidden suite's folder
    file_suites: Mapping[str, tuple[str, ...]]     # student file -> the suite files that can see it
    mutants: tuple[Mutant, ...]
    snippets: Mapping[str, str] = dataclasses.field(default_factory=dict)  # NAME -> code, for `appended`

    def graded_files(self, mutant: Mutant) -> tuple[str, ...]:
        return mutant.suite_files or self.file_suites[mutant.file]

    def write(self, mutant: Mutant, out: Path) -> None:
        """The mutant's submission: every student file of the homework, the change planted."""
        homework = find_homework(self.hw)
        for file in homework.files:
            (out / file).parent.mkdir(parents=True, exist_ok=True)
            text = (homework.root / file).read_text()
            (out / file).write_text(make_starter(text, file, hw=self.hw).text if mutant.starter else text)
        package = out / homework.package
        changes = [(mutant.file, old, new) for old, new in mutant.replacements] + list(mutant.also)
        for file, old, new in changes:
            text = (package / file).read_text()
            if old not in text:
                raise SystemExit(f"mutant {mutant.name}: {old!r} not found in {file}; update the mutant")
            (package / file).write_text(text.replace(old, new))
        for file, code in mutant.appended:
            for name, snippet in self.snippets.items():
                code = code.replace(name, snippet)
            (package / file).write_text((package / file).read_text() + code)

    def partial_suite(self, files: tuple[str, ...], out: Path) -> Path:
        """A copy of the suite with only `files` of its tests (and all its helper modules)."""
        out.mkdir()
        for source in self.suite.glob("*.py"):
            if not source.name.startswith("test_") or source.name in files:
                shutil.copy(source, out / source.name)
        return out

    def run(self, mutant: Mutant, seed: int | None = None) -> tuple[str | None, dict]:
        """Grade `mutant`; `seed` fixes the hidden inputs (None: fresh ones, as a real grading draws)."""
        homework = find_homework(self.hw)
        with tempfile.TemporaryDirectory() as tmp:
            self.write(mutant, Path(tmp) / "submission")
            suite = self.partial_suite(self.graded_files(mutant), Path(tmp) / "suite")
            results = grade(dataclasses.replace(homework, suite_dir=suite), submission=Path(tmp) / "submission",
                            seed=seed)
        return verdict(mutant, results), results

    def unknown_must_fail(self) -> list[str]:
        """`mutant: test` for each must_fail name that is no test of the mutant's graded suite files (a
        misspelt name would only show as NOT CAUGHT when the mutant is graded)."""
        tests_of: dict[str, set[str]] = {}
        for file, node in hidden_tests(self.suite):
            tests_of.setdefault(file, set()).add(node.name)
        return [f"{mutant.name}: {name}" for mutant in self.mutants for name in mutant.must_fail
                if name != "*" and not any(name in tests_of.get(f, ()) for f in self.graded_files(mutant))]

    def hygiene_problems(self) -> dict[str, list[str]]:
        """What breaks the rules every suite follows, by rule (empty lists when all is well): a CI test
        of each homework asserts that nothing is listed."""
        names = [m.name for m in self.mutants]
        return {"mutant names used twice": sorted({n for n in names if names.count(n) > 1}),
                "must_fail names no test of the mutant's graded suite files": self.unknown_must_fail(),
                "hidden tests without the rng fixture": missing_rng_fixture(self.suite),
                "hidden tests with assert_close against a literal": literal_comparisons(self.suite)}

    def main(self, names: list[str]) -> int:
        """Grade the named mutants (all when none is named) on fresh inputs; 1 when one misbehaves."""
        unknown = sorted(set(names) - {m.name for m in self.mutants})
        if unknown:
            print(f"unknown mutants: {', '.join(unknown)}")
            return 2
        failures = 0
        for mutant in [m for m in self.mutants if not names or m.name in names]:
            problem, results = self.run(mutant)
            failures += problem is not None
            lost = sorted(t["name"].split(":")[0] for t in results["tests"] if t["score"] < t["max_score"])
            top = sum(t["max_score"] for t in results["tests"])
            print(f"{mutant.name} [{mutant.kind}]: {problem or 'as required'}; score {results['score']:g}/{top:g} "
                  f"on {', '.join(self.graded_files(mutant))}; tests losing points: {', '.join(lost) or 'none'}",
                  flush=True)
        return 1 if failures else 0


GRADER_TROUBLE = ("not run:", "the grader could not check your result")


def verdict(mutant: Mutant, results: dict) -> str | None:
    """None when the mutant behaves as its kind requires, else what went wrong."""
    tests = results["tests"]
    # a grading that broke down loses points everywhere: that must never count as "caught"
    trouble = [t["name"].split(":")[0] for t in tests if any(m in t["output"] for m in GRADER_TROUBLE)]
    if trouble or "internal error" in results["output"] or not tests:
        return f"the grading itself failed (tests {trouble}): {results['output'][-500:]}"
    scores = {t["name"].split(":")[0]: (t["score"], t["max_score"]) for t in tests}
    if mutant.kind == "correct":
        short = [name for name, (score, top) in scores.items() if score < top]
        return f"a correct variant lost points in {short}" if short else None
    if mutant.kind == "cheat":
        names = list(scores) if mutant.must_fail == ("*",) else mutant.must_fail
        paid = [name for name in names if scores.get(name, (0, 0))[0] > 0]
        missing = [name for name in names if name not in scores]
        return f"the cheat earned points in {paid}" if paid else (f"tests not run: {missing}" if missing else None)
    lost = {name for name, (score, top) in scores.items() if score < top}
    missed = [name for name in mutant.must_fail if name not in lost]
    return f"NOT CAUGHT by {missed}" if missed else None


# ---------------------------------------------------------------------------------------- suite rules
def hidden_tests(suite: Path) -> Iterator[tuple[str, ast.FunctionDef]]:
    """(file name, function) of every test function of a hidden suite, read as source."""
    for path in sorted(suite.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield path.name, node


def missing_rng_fixture(suite: Path) -> list[str]:
    """Tests that do not take the `rng` fixture: fixed inputs let a lookup table learned from one
    submission's feedback score in the next."""
    return [f"{file}::{node.name}" for file, node in hidden_tests(suite)
            if "rng" not in [argument.arg for argument in node.args.args]]


def literal_comparisons(suite: Path) -> list[str]:
    """Tests with an `assert_close(actual, [...])`: expected values come from the reference on random
    inputs, never from a literal in the suite."""
    return [f"{file}::{node.name}" for file, node in hidden_tests(suite)
            if any(isinstance(call, ast.Call) and getattr(call.func, "id", "") == "assert_close" and len(call.args) > 1
                   and isinstance(call.args[1], (ast.List, ast.Tuple)) for call in ast.walk(node))]
