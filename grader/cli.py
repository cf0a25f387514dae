"""Command-line interface of the autograder and the release tool.

Each subcommand lives in its own module; this file only parses arguments and dispatches,
importing the module lazily so that a broken or slow import in one never affects the others.
"""
from __future__ import annotations

import argparse
import importlib

HOMEWORKS = ("hw1", "hw2", "hw3", "hw4", "hw5")

# subcommand -> module whose `run(args) -> int` carries it out
COMMANDS = {
    "grade": "grader.harness.grade",
    "batch": "grader.batch",
    "release": "grader.release",
    "check": "grader.check",
    "report": "grader.report",
    "bundle": "grader.bundle",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="score one submission (default: the built-in reference solution)")
    grade.add_argument("hw", help="homework id, e.g. hw2")
    grade.add_argument("--submission", help="directory or .zip shaped like the student release")
    grade.add_argument("--out", default="results.json", help="where to write Gradescope results.json")
    grade.add_argument("--public", action="store_true", help="run only the public tests (what students run)")
    grade.add_argument("--unsandboxed", action="store_true", help="grade without bubblewrap's sandbox (the "
                       "submission can read the disk; never for real grades); without it, grading stops when "
                       "bubblewrap does not work here")
    grade.add_argument("--seed", type=int, help="seed of the hidden tests' random inputs (default: a new one "
                       "each run, printed in the output, so a grade can be reproduced)")

    batch = sub.add_parser("batch", help="grade a folder of submissions in parallel into a gradebook CSV")
    batch.add_argument("hw", help="homework id, e.g. hw2")
    batch.add_argument("submissions", help="folder of submission folders and/or .zip files (a Gradescope "
                       "'export submissions' folder works as is: its submission_metadata.yml names the rows)")
    batch.add_argument("--out", default="gradebook.csv", help="gradebook CSV; each submission's results.json "
                       "goes to <out stem>_results/<submission>/ next to it")
    batch.add_argument("--workers", type=int, help="gradings at once (default: what this machine's cores and "
                       "memory hold with every grading within its budgets)")
    batch.add_argument("--seed", type=int, help="seed of the hidden tests' inputs for every submission "
                       "(default: a new one per submission, recorded in its row)")
    batch.add_argument("--unsandboxed", action="store_true", help="as for grade: never for real grades")
    batch.add_argument("--cluster", metavar="ADDRESS", help="run the gradings as Ray tasks on this cluster "
                       "(needs the `ray` extra)")

    release = sub.add_parser("release", help="write the student edition")
    release.add_argument("out", help="output directory")
    release.add_argument("--hw", action="append", help="only these homeworks (repeatable); default: all")
    release.add_argument("--force", action="store_true", help="write into a non-empty directory")
    release.add_argument("--solved", action="append", metavar="HW", help="ship this homework's reference "
                         "solutions (solved edition, markers dropped) once it is past due, e.g. --solved hw3 "
                         "for hw4, which imports hw3's SAC (repeatable)")

    check = sub.add_parser("check", help="prove the release is right: starter fails, reference passes, no leaks")
    check.add_argument("hw", nargs="*", help="homeworks to check; default: all that exist")

    report = sub.add_parser("report", help="class report of a gradebook: score histogram, per-test pass "
                            "rates (most failed first), per-part means, summary.md")
    report.add_argument("gradebook", help="gradebook CSV written by `batch` (its results folder next to it)")
    report.add_argument("--out", default="report", help="output folder (default: report/)")

    bundle = sub.add_parser("bundle", help="write a Gradescope autograder zip (setup.sh, run_autograder, "
                            "the grader and this homework's hidden suite)")
    bundle.add_argument("hw", help="homework id, e.g. hw2")
    bundle.add_argument("out", help="the zip to write, e.g. hw2_autograder.zip")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module_name = COMMANDS[args.command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        # release and check need the reference solutions: the student edition leaves them out.
        print(f"'{args.command}' is only available in the instructor edition of the course repository.")
        return 2
    return int(module.run(args) or 0)
