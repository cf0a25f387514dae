"""One grading of a batch, in its own process: `python -m grader.batch_one HW SUBMISSION OUT --seed N`.

grader.batch starts one of these per submission, so that nothing a grading does (a crash of the
grader, a leak, a hang in staging) can stop the batch: the batch only waits for its exit status.
It writes results.json to OUT whatever happens and exits with the outcome's status below.
"""
from __future__ import annotations

import argparse
import sys

from grader.harness.grade import ERROR, GRADED, INCOMPLETE, UNREADABLE, grade_and_write

EXIT_STATUS = {GRADED: 0, INCOMPLETE: 4, UNREADABLE: 3, ERROR: 2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.batch_one")
    parser.add_argument("hw")
    parser.add_argument("submission")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--unsandboxed", action="store_true")
    args = parser.parse_args(argv)
    results, outcome = grade_and_write(args.hw, args.out, submission=args.submission, seed=args.seed,
                                       force_fallback=args.unsandboxed)
    if outcome == ERROR:  # the reason, for the batch's row (results.json holds it too)
        print(results["output"], file=sys.stderr)
    return EXIT_STATUS[outcome]


if __name__ == "__main__":
    sys.exit(main())
