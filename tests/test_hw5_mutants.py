"""The hw5 hidden suite catches planted bugs, pays correct variants in full and pays cheats nothing.

Each entry of grader/suites/hw5/mutants.py (with those of mutants_offline.py) is the reference (or the starter) with one change planted,
graded through the real harness on the suite files that can see it. CI grades each with a fixed seed
(from its name), so a red run is reproducible and never a draw of luck; `python -m grader.suites.hw5.mutants`
grades them on fresh inputs, which is how a suite's fragile inputs are found.

CI budget: the default run grades the issue's bugs (ISSUE_BUGS), every correct variant and every
cheat; the other bugs (classic mistakes beyond the issue's list) are marked slow:
`pytest -m slow tests/test_hw5_mutants.py` grades them, and the mutants command grades all.
"""

import pytest

from grader.suites.hw5 import mutants
from tests.grading_helpers import check_graded_as_kind, missing_mutants, mutant_names

# the "hidden suite must catch" list of homework 5's issue (13)
ISSUE_BUGS = {
    # exploration (README 3.x)
    "rnd_target_trained", "rnd_target_reinitialized_every_update", "bonus_not_normalized",
    # offline (README 4-6, mutants_offline.py)
    "cql_regularizer_wrong_sign", "cql_regularizer_policy_action_instead_of_logsumexp",
    "iql_expectile_weights_reversed", "iql_value_against_the_policy_action",
    "awac_weights_not_exponentiated", "awac_weights_not_clipped",
    "finetune_resets_the_replay_data", "finetune_resets_the_networks",
}


@pytest.mark.parametrize("name", mutant_names(mutants.MUTANTS, ISSUE_BUGS))
def test_planted_change_is_graded_as_its_kind_requires(name, graded_mutants):
    check_graded_as_kind(name, mutants.MUTANTS, graded_mutants)  # graded with seed crc32(name), see tests/conftest.py


def test_every_class_of_the_issue_has_an_entry():
    assert not missing_mutants(mutants.MUTANTS, ISSUE_BUGS)


def test_the_suite_and_its_mutants_follow_the_rules():
    """Every hidden test draws its inputs from rng (fixed inputs let a lookup table learned from one
    submission's feedback score in the next) and compares against the reference's values, never a
    literal; every mutant name is unique and every must_fail name a test its grading runs."""
    problems = {rule: found for rule, found in mutants.HOMEWORK.hygiene_problems().items() if found}
    assert not problems, problems
