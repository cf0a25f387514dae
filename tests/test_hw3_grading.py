"""Homework 3 through the real grader: the reference earns every point, the starter none, cheats on the smoke
trainings earn no training points, and a broken submission (a syntax error, a missing function, a hang, a NaN)
loses only the tests that need the broken code."""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from grader.mutants import HomeworkMutants, Mutant
from grader.starter import make_starter

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / "hw3_qlearning_ac" / "submission.yaml").read_text())
SUITE = ROOT / "grader" / "suites" / "hw3"
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


def copy_submission(out: Path, starter: bool = False) -> Path:
    for name in MANIFEST["files"]:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        text = (ROOT / name).read_text()
        (out / name).write_text(make_starter(text, name, hw="hw3").text if starter else text)
    return out


def grade(tmp_path: Path, submission: Path | None) -> dict:
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "grader", "grade", "hw3", "--out", str(out)]
    if submission is not None:
        command += ["--submission", str(submission)]
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    return json.loads(out.read_text())


def grade_changed(mutant: Mutant) -> dict:
    """Grade the reference with `mutant`'s change, on its suite files only (grader/mutants.py)."""
    homework = HomeworkMutants("hw3", SUITE, {}, (mutant,))
    return homework.run(mutant)[1]


def by_name(results: dict) -> dict:
    return {t["name"].split(":")[0]: t for t in results["tests"]}


def test_the_reference_earns_every_point(tmp_path: Path):
    results = grade(tmp_path, None)
    short = [(t["name"], t["output"][:300]) for t in results["tests"] if t["score"] < t["max_score"]]
    assert results["score"] == sum(MANIFEST["parts"].values()) and not short, short
    assert "tests add up to" not in results["output"], results["output"]  # each part's points match the manifest
    assert "reserved times add up to" not in results["output"], results["output"]  # the time reserves fit the budget


def test_the_starter_earns_nothing_and_says_what_is_missing(tmp_path: Path):
    results = grade(tmp_path, copy_submission(tmp_path / "starter", starter=True))
    paid = [(t["name"], t["score"]) for t in results["tests"] if t["score"] > 0]
    assert results["score"] == 0 and not paid, paid
    training = [t for name, t in by_name(results).items() if "smoke_training" in name]
    assert len(training) == 2 and all("not implemented yet" in t["output"] for t in training), training


def test_cheats_on_the_smoke_trainings_earn_no_training_points():
    cheat = Mutant("hand_written_play", "dqn.py", (), kind="cheat", suite_files=TRAINING,
                   appended=(("dqn.py", DQN_CONTROLLER), ("sac.py", SAC_HAND_WEIGHTS)))
    tests = by_name(grade_changed(cheat))
    dqn = tests["test_dqn_cartpole_smoke_training_reaches_threshold"]
    sac = tests["test_sac_inverted_pendulum_smoke_training_reaches_threshold"]
    # both pass the update check; the controller is caught by the harness's own evaluation of the weights,
    # the written weights by the bound on how far the run's Adam steps can move them
    assert dqn["score"] == 0 and "mean return of the greedy policy" in dqn["output"], dqn["output"]
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
    results = grade_changed(BREAKS)
    tests = by_name(results)
    unfair = [(name, t["output"][:200]) for name, t in tests.items()
              if t["score"] < t["max_score"] and not any(code in name for code in BROKEN_CODE)]
    assert not unfair, unfair
    assert "not run" not in json.dumps(results["tests"]), results["output"]
    messages = {name: t["output"] for name, t in tests.items() if t["score"] == 0}
    for test, says in (("test_linear_schedule_on_the_way_down", "SyntaxError"),
                       ("test_polyak_update_moves_the_target_slowly_twice", "polyak_update"),
                       ("test_boltzmann_policy_matches_reference", "did not finish"),
                       ("test_soft_q_target_matches_reference", "NaN"),
                       ("test_sac_inverted_pendulum_smoke_training_reaches_threshold", "polyak_update")):
        assert test in messages and says in messages[test], (test, messages.get(test))
    # the working code keeps its points: the DQN update and targets, the SAC losses
    for kept in ("test_dqn_target_matches_reference", "test_update_one_step_matches_reference",
                 "test_critic_backup_min_of_twin_critics", "test_actor_loss_reparameterized_value"):
        assert tests[kept]["score"] == tests[kept]["max_score"], (kept, tests[kept]["output"])
