"""The hw3 hidden suite catches planted bugs, pays correct variants in full and pays cheats nothing.

Each entry of grader/suites/hw3/mutants.py (with those of mutants_sac.py and mutants_atari.py) is the
reference (or the starter) with one change planted, graded through the real harness on the suite
files that can see it. CI grades each with a fixed seed (from its name), so a red run is
reproducible and never a draw of luck; `python -m grader.suites.hw3.mutants` grades them on fresh
inputs, which is how a suite's fragile inputs are found.
"""
import zlib
from pathlib import Path

import pytest

from grader.mutants import literal_comparisons, missing_rng_fixture
from grader.suites.hw3 import mutants

SUITE = Path(mutants.__file__).resolve().parent


@pytest.mark.parametrize("name", [m.name for m in mutants.MUTANTS])
def test_planted_change_is_graded_as_its_kind_requires(name):
    mutant = next(m for m in mutants.MUTANTS if m.name == name)
    problem, results = mutants.run(mutant, seed=zlib.crc32(name.encode()))
    summary = [(t["name"].split(":")[0], t["score"], t["max_score"]) for t in results["tests"]]
    assert problem is None, f"{name} [{mutant.kind}]: {problem}\n{summary}\n{results['output'][-2000:]}"


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
                    "update_written_otherwise", "stack_walks_back_per_sample"}
CHEATS = {"vacuous_stubs", "sac_zero_stubs"}


def test_every_class_of_the_issue_has_an_entry():
    kinds = {m.name: m.kind for m in mutants.MUTANTS}
    assert ISSUE_BUGS <= {name for name, kind in kinds.items() if kind == "bug"}, \
        sorted(ISSUE_BUGS - {name for name, kind in kinds.items() if kind == "bug"})
    assert CORRECT_VARIANTS <= {name for name, kind in kinds.items() if kind == "correct"}
    assert CHEATS <= {name for name, kind in kinds.items() if kind == "cheat"}


def test_mutant_names_are_unique_and_name_tests_of_their_graded_files():
    names = [m.name for m in mutants.MUTANTS]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    unknown = mutants.HOMEWORK.unknown_must_fail()
    assert not unknown, f"must_fail names no test of the mutant's graded suite files: {unknown}"


def test_every_hidden_test_draws_its_inputs_from_rng():
    """Fixed inputs let a lookup table learned from one submission's feedback score in the next."""
    without = missing_rng_fixture(SUITE)
    assert not without, f"hidden tests without the rng fixture: {without}"


def test_no_hidden_test_compares_against_a_literal_array():
    """Expected values come from the reference on random inputs, never from a literal in the suite."""
    literal = literal_comparisons(SUITE)
    assert not literal, f"assert_close against a literal: {literal}"
