"""Homework 2 through the real grader: the reference earns every point, the starter none, and a
policy that scores without learning earns no training points."""
from pathlib import Path

from grader.manifest import find_homework
from tests.grading_helpers import copy_submission, grade, reference_problems, starter_problems

# Balances CartPole by hand (push towards the side the pole falls to) and never trains.
HAND_WRITTEN_CONTROLLER = '''

def _hand_written_controller(self, observations, deterministic=False):
    observations = np.asarray(observations)
    return (observations[:, 2] + observations[:, 3] > 0).astype(np.int64)


def _no_learning(self, *args, **kwargs):
    return {"actor_loss": 0.0, "entropy": 0.0}


PGAgent.get_action = _hand_written_controller
PGAgent.update = _no_learning
'''


def test_the_reference_earns_every_point(tmp_path: Path):
    assert not reference_problems("hw2", grade("hw2", tmp_path))


def test_the_starter_earns_nothing(tmp_path: Path):
    assert not starter_problems(grade("hw2", tmp_path, copy_submission("hw2", tmp_path / "starter", starter=True)))


def test_a_hand_written_controller_earns_no_training_points(tmp_path: Path):
    submission = copy_submission("hw2", tmp_path / "submission")
    agent_file = submission / "hw2_policy_gradient" / "agent.py"
    agent_file.write_text(agent_file.read_text() + HAND_WRITTEN_CONTROLLER)
    tests = {t["name"]: t for t in grade("hw2", tmp_path, submission)["tests"]}
    training = next(t for name, t in tests.items() if "cartpole_smoke_training" in name)
    assert training["score"] == 0, training["output"]
    # the untouched functions still earn their points: only the cheat is penalised
    returns_points = sum(t["score"] for t in tests.values() if t.get("part") == "returns")
    assert returns_points == find_homework("hw2").parts["returns"]
