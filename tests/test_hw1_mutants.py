"""The hw1 hidden suite catches planted bugs, pays correct variants in full and pays cheats nothing.

Each entry of grader/suites/hw1/mutants.py is the reference (or the starter) with one change planted,
graded through the real harness on the suite files that can see it. CI grades each with a fixed seed
(from its name), so a red run is reproducible and never a draw of luck;
`python -m grader.suites.hw1.mutants` grades them on fresh inputs, which is how a suite's fragile
inputs are found.

The default run (CI) grades the issue's bugs, the correct variants and the cheats; the other planted
bugs are marked slow (`pytest -m slow tests/test_hw1_mutants.py`, or the mutants command above).
"""

import pytest

from grader.suites.hw1 import mutants
from tests.grading_helpers import check_graded_as_kind, missing_mutants, mutant_names

# the "hidden suite must catch" list of homework 1's issue (11)
ISSUE_BUGS = {
    # control as inference, MaxEnt IRL, optimism (README 6-8)
    "soft_vi_max_instead_of_logsumexp", "variational_backup_still_log_e_exp",
    "forward_messages_not_normalized", "irl_gradient_sign_flipped",
    # expressive policies (README 5)
    "bc_loss_on_sampled_actions", "gaussian_evaluation_samples_instead_of_the_mean", "mixture_without_the_weights",
    "mixture_without_logsumexp", "flow_target_velocity_wrong_sign", "flow_interpolation_time_reversed",
    "euler_integrates_tau_from_one_down",
    # behavior cloning and DAgger on MuJoCo (README 3-4)
    "mujoco_bc_loss_on_sampled_actions", "dagger_relabels_with_the_learner_actions", "dagger_replaces_the_dataset",
    "mujoco_evaluation_samples_instead_of_the_mean",
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
