"""Homework 3 through the real grader: the reference earns every point, the starter none, cheats on the smoke
trainings earn no training points, and a broken submission (a syntax error, a missing function, a hang, a NaN)
loses only the tests that need the broken code."""
import zlib
from pathlib import Path

from grader.mutants import Mutant
from tests.grading_helpers import (by_name, check_a_broken_submission, copy_submission, grade, grade_changed,
                                   reference_problems, starter_problems)

TRAINING = ("test_training.py",)

# DQN: two correct updates (the training's update check), then none; actions from a hand-written
# CartPole controller (push towards the side the pole falls to), so the training loop plays well.
DQN_CONTROLLER = '''

_course_update = DQNAgent.update


def _update_twice_then_never(self, batch):
    self._calls = getattr(self, "_calls", 0) + 1
    if self._calls <= 2:
        return _course_update(self, batch)
    return {"q_loss": 0.0, "q_values": 0.0, "target_values": 0.0, "grad_norm": 0.0}


def _hand_written_controller(self, observations, deterministic=False, epsilon=0.0, rng=None):
    observations = np.asarray(observations)
    return (observations[:, 2] + observations[:, 3] > 0).astype(np.int64)


DQNAgent.update = _update_twice_then_never
DQNAgent.get_action = _hand_written_controller
'''

# SAC: two correct updates, then the actor's weights written by hand (a large output bias).
SAC_HAND_WEIGHTS = '''

_course_update = SACAgent.update


def _update_twice_then_write_weights(self, *args):
    self._calls = getattr(self, "_calls", 0) + 1
    if self._calls <= 2:
        return _course_update(self, *args)
    with torch.no_grad():
        self.actor.net[-1].bias.fill_(1000.0)
    return {}


SACAgent.update = _update_twice_then_write_weights
'''


def test_the_reference_earns_every_point(tmp_path: Path):
    assert not reference_problems("hw3", grade("hw3", tmp_path))


def test_the_starter_earns_nothing_and_says_what_is_missing(tmp_path: Path):
    results = grade("hw3", tmp_path, copy_submission("hw3", tmp_path / "starter", starter=True))
    assert not starter_problems(results)
    training = [t for name, t in by_name(results).items() if "smoke_training" in name]
    assert len(training) == 2 and all("not implemented yet" in t["output"] for t in training), training


def test_cheats_on_the_smoke_trainings_earn_no_training_points():
    cheat = Mutant("hand_written_play", "dqn.py", (), kind="cheat", suite_files=TRAINING,
                   appended=(("dqn.py", DQN_CONTROLLER), ("sac.py", SAC_HAND_WEIGHTS)))
    # One fixed seed (crc32 of the name, as the mutant tests use). The DQN half (2 correct updates, then none)
    # played 30, 40 and 56 in 3 of 33 simulated gradings (an untrained network's luck; most play 9 to 13), so the
    # suite also asks the weights to have travelled (DQN_MIN_TRAVEL): that check fails it on every seed.
    tests = by_name(grade_changed("hw3", cheat, seed=zlib.crc32(cheat.name.encode())))
    dqn = tests["test_dqn_cartpole_smoke_training_reaches_threshold"]
    sac = tests["test_sac_inverted_pendulum_smoke_training_reaches_threshold"]
    # both pass the update check; the learner that stopped is caught by how little its weights moved, the
    # written weights by the bound on how far the run's Adam steps can move them
    assert dqn["score"] == 0 and "the weights barely learned" in dqn["output"], dqn["output"]
    assert sac["score"] == 0 and "away from its seeded initial value" in sac["output"], sac["output"]


# A broken submission: each break must cost only the tests that run the broken code.
BREAKS = Mutant(
    "broken_submission", "schedules.py",
    (("    fraction = min(step / duration, 1.0)\n", "    fraction = min(step / duration, 1.0\n"),),  # a syntax error
    suite_files=("test_dqn.py", "test_soft_q.py", "test_sac.py", "test_training.py"),
    also=(
        ("sac.py", "@torch.no_grad()\ndef polyak_update(", "@torch.no_grad()\ndef polyak_update_renamed("),  # missing
        ("dqn.py", "    return torch.softmax(q_values / alpha, dim=-1)\n",
         "    while True:\n        pass\n"),  # a hang
        ("dqn.py", "        return rewards.float() + gamma * (1.0 - terminated.float()) * next_values\n",
         "        return rewards.float() + gamma * (1.0 - terminated.float()) * next_values * float('nan')\n"),  # NaN
    ))
# the tests that may lose points, by what they run; every other test must earn full marks
BROKEN_CODE = ("linear_schedule", "dqn_cartpole_smoke", "polyak", "agent_update", "sac_inverted_pendulum_smoke",
               "boltzmann", "soft_q_target", "compute_targets_soft_q", "update_soft_q")


def test_a_broken_submission_loses_only_the_tests_of_the_broken_code():
    check_a_broken_submission(
        "hw3", BREAKS, BROKEN_CODE,
        zero_saying=(("test_linear_schedule_on_the_way_down", "SyntaxError"),
                     ("test_polyak_update_moves_the_target_slowly_twice", "polyak_update"),
                     ("test_boltzmann_policy_matches_reference", "did not finish"),
                     ("test_soft_q_target_matches_reference", "NaN"),
                     ("test_sac_inverted_pendulum_smoke_training_reaches_threshold", "polyak_update")),
        # the working code keeps its points: the DQN update and targets, the SAC losses
        kept=("test_dqn_target_matches_reference", "test_update_one_step_matches_reference",
              "test_critic_backup_min_of_twin_critics", "test_actor_loss_reparameterized_value"))
