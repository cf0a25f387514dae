"""Homework 5 through the real grader: the reference earns every point, the starter none, weights written by
hand earn no training points, and a broken submission (a hang, a syntax error, a missing function, a NaN)
loses only the tests that need the broken code."""
from pathlib import Path

from grader.mutants import Mutant
from tests.grading_helpers import (by_name, check_a_broken_submission, copy_submission, grade, grade_changed,
                                   reference_problems, starter_problems)


def test_the_reference_earns_every_point(tmp_path: Path):
    assert not reference_problems("hw5", grade("hw5", tmp_path))


def test_the_starter_earns_nothing_and_says_what_is_missing(tmp_path: Path):
    results = grade("hw5", tmp_path, copy_submission("hw5", tmp_path / "starter", starter=True))
    assert not starter_problems(results)
    assert all("not implemented yet" in t["output"] for t in results["tests"]), \
        [(t["name"], t["output"][:200]) for t in results["tests"] if "not implemented yet" not in t["output"]]


# CQL: two correct updates (the training's update check), then the Q-network's output bias written by hand.
CQL_HAND_WEIGHTS = '''

_course_update = CQLAgent.update


def _update_twice_then_write_weights(self, batch):
    self._calls = getattr(self, "_calls", 0) + 1
    if self._calls <= 2:
        return _course_update(self, batch)
    with torch.no_grad():
        self.dqn.q_network.net[-1].bias.copy_(torch.tensor([1000.0, 0.0, 0.0, 0.0]))
    return {"q_loss": 0.0, "cql_regularizer": 0.0, "q_values": 0.0, "ood_q_values": 0.0, "target_values": 0.0,
            "grad_norm": 0.0}


CQLAgent.update = _update_twice_then_write_weights
'''


def test_weights_written_by_hand_earn_no_training_points():
    cheat = Mutant("hand_written_weights", "cql.py", (), kind="cheat", suite_files=("test_training.py",),
                   appended=(("cql.py", CQL_HAND_WEIGHTS),))
    test = by_name(grade_changed("hw5", cheat))["test_cql_smoke_training_reaches_the_goal"]
    # it passes the update check; the bound on how far the run's Adam steps can move a weight catches it
    assert test["score"] == 0 and "away from its seeded initial value" in test["output"], test["output"]


# A broken submission: each break must cost only the tests that run the broken code.
BREAKS = Mutant(
    "broken_submission", "rnd.py",
    (("    errors = errors.detach()\n    return (errors - errors.mean())",
      "    while True:\n        pass\n    return (errors - errors.mean())"),),  # a hang in normalize_bonus
    suite_files=("test_rnd.py", "test_cql.py", "test_awac.py", "test_iql.py", "test_finetune.py"),
    also=(
        ("iql.py", "    weight = torch.abs(tau - (diff < 0).float())\n",
         "    weight = torch.abs(tau - (diff < 0).float()\n"),  # a syntax error (offline_training imports iql)
        ("awac.py", "def awac_advantages(", "def awac_advantages_renamed("),  # missing
        ("cql.py", "    return td_loss + alpha * cql_regularizer(q_values, actions)\n",
         "    return (td_loss + alpha * cql_regularizer(q_values, actions)) * float('nan')\n"),  # NaN
    ))
# the tests that may lose points, by what they run; every other test must earn full marks
BROKEN_CODE = ("normalize_bonus", "agent_update", "expectile", "iql_", "start_online_phase", "online_steps",
               "awac_advantages", "cql_loss")


def test_a_broken_submission_loses_only_the_tests_of_the_broken_code():
    check_a_broken_submission(
        "hw5", BREAKS, BROKEN_CODE,
        zero_saying=(("test_normalize_bonus_matches_reference", "did not finish"),
                     ("test_agent_update_gives_dqn_the_mixed_reward_of_the_next_state", "did not finish"),
                     ("test_expectile_loss_matches_reference", "SyntaxError"),
                     ("test_iql_q_target_matches_reference_and_masks_terminal_states", "SyntaxError"),
                     ("test_start_online_phase_keeps_every_dataset_transition_in_order", "SyntaxError"),
                     ("test_awac_advantages_match_reference", "awac_advantages"),
                     ("test_cql_loss_matches_reference", "NaN")),
        # the working code keeps its points
        kept=("test_prediction_error_matches_reference", "test_rnd_update_never_changes_the_target",
              "test_cql_regularizer_matches_reference", "test_awac_q_target_matches_reference",
              "test_awac_weights_match_reference", "test_weighted_actor_loss_matches_reference"))
