"""Homework 2 through the real grader: the reference earns every point, the starter none, and a
policy that scores without learning earns no training points."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from grader.starter import make_starter

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / "hw2_policy_gradient" / "submission.yaml").read_text())

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


def copy_submission(out: Path, starter: bool = False) -> Path:
    for name in MANIFEST["files"]:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        text = (ROOT / name).read_text()
        (out / name).write_text(make_starter(text, name, hw="hw2").text if starter else text)
    return out


def grade(tmp_path: Path, submission: Path | None) -> dict:
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "grader", "grade", "hw2", "--out", str(out)]
    if submission is not None:
        command += ["--submission", str(submission)]
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return json.loads(out.read_text())


def test_the_reference_earns_every_point(tmp_path: Path):
    results = grade(tmp_path, None)
    short = [(t["name"], t["output"][:300]) for t in results["tests"] if t["score"] < t["max_score"]]
    assert results["score"] == sum(MANIFEST["parts"].values()) and not short, short
    assert "tests add up to" not in results["output"], results["output"]  # each part's points match the manifest
    assert "reserved times add up to" not in results["output"], results["output"]  # the time reserves fit the budget


def test_the_starter_earns_nothing(tmp_path: Path):
    results = grade(tmp_path, copy_submission(tmp_path / "starter", starter=True))
    paid = [(t["name"], t["score"]) for t in results["tests"] if t["score"] > 0]
    assert results["score"] == 0 and not paid, paid


def test_a_hand_written_controller_earns_no_training_points(tmp_path: Path):
    submission = copy_submission(tmp_path / "submission")
    agent_file = submission / "hw2_policy_gradient" / "agent.py"
    agent_file.write_text(agent_file.read_text() + HAND_WRITTEN_CONTROLLER)
    tests = {t["name"]: t for t in grade(tmp_path, submission)["tests"]}
    training = next(t for name, t in tests.items() if "cartpole_smoke_training" in name)
    assert training["score"] == 0, training["output"]
    # the untouched functions still earn their points: only the cheat is penalised
    returns_points = sum(t["score"] for t in tests.values() if t.get("part") == "returns")
    assert returns_points == MANIFEST["parts"]["returns"]
