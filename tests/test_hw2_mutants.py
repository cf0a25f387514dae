"""The hw2 hidden suite catches planted bugs, pays correct variants in full and pays cheats nothing.

Each entry of grader/suites/hw2/mutants.py is the reference (or the starter) with one change planted,
graded through the real harness on the suite files that can see it. CI grades each with a fixed seed
(from its name), so a red run is reproducible and never a draw of luck; `python -m
grader.suites.hw2.mutants` grades them on fresh inputs, which is how a suite's fragile inputs are found.
"""

import pytest

from grader.suites.hw2 import mutants
from tests.grading_helpers import check_graded_as_kind, missing_mutants, mutant_names


@pytest.mark.parametrize("name", mutant_names(mutants.MUTANTS))   # all graded in the default run
def test_planted_change_is_graded_as_its_kind_requires(name, graded_mutants):
    check_graded_as_kind(name, mutants.MUTANTS, graded_mutants)  # graded with seed crc32(name), see tests/conftest.py


# the "hidden suite must catch" list of homework 2's issue, and the held-out classes of issues 8 and 9
ISSUE_BUGS = {
    "rtg_off_by_one", "rtg_discounted_from_episode_start", "rtg_leaks_across_episodes",
    "gae_leaks_across_episodes", "truncation_as_termination", "normalization_missing",
    "actor_gradient_into_baseline", "baseline_updated_before_the_actor", "log_prob_not_summed",
    "wrong_loss_sign", "ppo_ratio_through_old_log_probs", "ppo_clip_wrong_side",
    "gae_lambda_zero_as_off", "baseline_ignores_full_returns", "ppo_entropy_bonus_ignored",
    "ppo_one_minibatch_per_epoch",
}
CORRECT_VARIANTS = {"gae_reads_values_t_plus_1", "ppo_minibatches_by_slicing", "critic_loss_written_out"}
CHEATS = {"controller_in_weights", "controller_in_weights_after_a_few_updates", "vacuous_stubs"}


def test_every_class_of_the_issues_has_an_entry():
    assert not missing_mutants(mutants.MUTANTS, ISSUE_BUGS, CORRECT_VARIANTS, CHEATS)


def test_the_suite_and_its_mutants_follow_the_rules():
    """Every hidden test draws its inputs from rng (fixed inputs let a lookup table learned from one
    submission's feedback score in the next) and compares against the reference's values, never a
    literal; every mutant name is unique and every must_fail name a test its grading runs."""
    problems = {rule: found for rule, found in mutants.HOMEWORK.hygiene_problems().items() if found}
    assert not problems, problems
