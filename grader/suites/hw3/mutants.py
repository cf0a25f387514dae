"""Proof that the hw3 hidden suite catches planted bugs, pays correct variants in full and cheats nothing
(instructor tool, not a test file).

    python -m grader.suites.hw3.mutants                          # all of them
    python -m grader.suites.hw3.mutants dqn_no_target_network soft_q_max_not_logsumexp

Each entry is the reference (or, with `starter=True`, the starter) with one change planted, graded
through the real harness (grader/mutants.py) on the suite files that can see it, and must behave as
its kind says:
    bug      every test in `must_fail` loses points
    correct  a legitimate reading of the handout: every graded test scores full marks
    cheat    points without the work: every test in `must_fail` scores 0 (`must_fail=("*",)`: all of them)
Exit status 1 when one of them does not. The sac.py entries live in mutants_sac.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

from grader.mutants import HomeworkMutants, Mutant
from grader.suites.hw3.mutants_sac import SAC_MUTANTS, SAC_SNIPPETS

FILE_SUITES = {"schedules.py": ("test_dqn.py", "test_soft_q.py"), "dqn.py": ("test_dqn.py", "test_soft_q.py"),
               "sac.py": ("test_sac.py",), "atari.py": ("test_atari.py",)}

DQN_MUTANTS = (
)

MUTANTS = DQN_MUTANTS + tuple(SAC_MUTANTS)

SNIPPETS: dict[str, str] = {**SAC_SNIPPETS}

HOMEWORK = HomeworkMutants("hw3", Path(__file__).resolve().parent, FILE_SUITES, MUTANTS, SNIPPETS)


def run(mutant: Mutant, seed: int | None = None) -> tuple[str | None, dict]:
    """Grade `mutant`; `seed` fixes the hidden inputs (None: fresh ones, as a real grading draws)."""
    return HOMEWORK.run(mutant, seed)


if __name__ == "__main__":
    sys.exit(HOMEWORK.main(sys.argv[1:]))
