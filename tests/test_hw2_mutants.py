"""The hw2 hidden suite catches every classic bug of the homework's issue.

Each mutant is the reference with one bug planted (grader/suites/hw2/mutants.py), graded through the
real harness; the tests it names must lose points.
"""
import pytest

from grader.suites.hw2 import mutants


@pytest.mark.parametrize("name", [m.name for m in mutants.MUTANTS])
def test_hidden_suite_catches_planted_bug(name, capsys):
    assert mutants.main([name]) == 0, capsys.readouterr().out


# the "hidden suite must catch" list of homework 2's issue, one mutant each
ISSUE_BUGS = {
    "rtg_off_by_one", "rtg_discounted_from_episode_start", "rtg_leaks_across_episodes",
    "gae_leaks_across_episodes", "truncation_as_termination", "normalization_missing",
    "actor_gradient_into_baseline", "baseline_updated_before_the_actor", "log_prob_not_summed",
    "wrong_loss_sign", "ppo_ratio_through_old_log_probs", "ppo_clip_wrong_side",
}


def test_every_bug_of_the_issue_has_a_mutant():
    assert ISSUE_BUGS <= {m.name for m in mutants.MUTANTS}
