"""The hw3 hidden suite catches planted bugs, pays correct variants in full and pays cheats nothing.

Each entry of grader/suites/hw3/mutants.py (with those of mutants_sac.py and mutants_atari.py) is the
reference (or the starter) with one change planted, graded through the real harness on the suite
files that can see it. CI grades each with a fixed seed (from its name), so a red run is
reproducible and never a draw of luck; `python -m grader.suites.hw3.mutants` grades them on fresh
inputs, which is how a suite's fragile inputs are found.

CI budget: the default run grades the issue's bugs (ISSUE_BUGS), every correct variant and every
cheat; the other bugs (classic mistakes beyond the issue's list) are marked slow:
`pytest -m slow tests/test_hw3_mutants.py` grades them, and the mutants command grades all.
"""

import pytest

from grader.suites.hw3 import mutants
from tests.grading_helpers import check_graded_as_kind, missing_mutants, mutant_names

# the "hidden suite must catch" list of homework 3's issue (10)
ISSUE_BUGS = {
    # Q-learning (README 2.x)
    "dqn_no_target_network", "dqn_target_updated_every_step", "dqn_bootstraps_through_terminal_states",
    "dqn_truncation_as_termination", "dqn_gather_on_the_batch_axis", "double_dqn_selects_with_the_target_network",
    "soft_q_max_instead_of_logsumexp", "soft_q_temperature_outside_only",
    # SAC (README 3.x, mutants_sac.py)
    "sac_tanh_correction_missing", "sac_tanh_correction_doubled", "sac_backup_not_detached",
    "sac_temperature_loss_wrong_sign", "sac_backup_entropy_omitted", "sac_min_and_mean_swapped",
    "sac_polyak_reversed",
    # pixels (README 4.x, mutants_atari.py)
    "stack_crosses_episode_boundary", "stack_pads_with_zeros", "stack_newest_first", "stack_padding_off_by_one",
}
CORRECT_VARIANTS = {"schedule_written_with_a_branch", "epsilon_greedy_draws_only_for_exploring_rows",
                    "epsilon_greedy_row_by_row", "targets_written_otherwise", "losses_and_policy_written_out",
                    "update_written_otherwise", "stack_walks_back_per_sample",
                    "sac_tanh_correction_abs_form", "sac_log_prob_with_torch_distributions",
                    "sac_gaussian_term_from_the_noise_when_reparameterized", "sac_backup_under_no_grad_and_written_out",
                    "sac_losses_written_otherwise", "sac_polyak_in_place_on_data"}
CHEATS = {"vacuous_stubs", "sac_zero_stubs"}


@pytest.mark.parametrize("name", mutant_names(mutants.MUTANTS, ISSUE_BUGS))
def test_planted_change_is_graded_as_its_kind_requires(name, graded_mutants):
    check_graded_as_kind(name, mutants.MUTANTS, graded_mutants)  # graded with seed crc32(name), see tests/conftest.py


def test_every_class_of_the_issue_has_an_entry():
    assert not missing_mutants(mutants.MUTANTS, ISSUE_BUGS, CORRECT_VARIANTS, CHEATS)


def test_the_suite_and_its_mutants_follow_the_rules():
    """Every hidden test draws its inputs from rng (fixed inputs let a lookup table learned from one
    submission's feedback score in the next) and compares against the reference's values, never a
    literal; every mutant name is unique and every must_fail name a test its grading runs."""
    problems = {rule: found for rule, found in mutants.HOMEWORK.hygiene_problems().items() if found}
    assert not problems, problems
