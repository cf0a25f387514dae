"""Homework 2 through the real grader: a policy that scores without learning earns no training points."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

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


def test_a_hand_written_controller_earns_no_training_points(tmp_path: Path):
    manifest = yaml.safe_load((ROOT / "hw2_policy_gradient" / "submission.yaml").read_text())
    for name in manifest["files"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    agent_file = tmp_path / "hw2_policy_gradient" / "agent.py"
    agent_file.write_text(agent_file.read_text() + HAND_WRITTEN_CONTROLLER)
    out = tmp_path / "results.json"
    subprocess.run([sys.executable, "-m", "grader", "grade", "hw2", "--submission", str(tmp_path), "--out", str(out)],
                   cwd=ROOT, capture_output=True, text=True, timeout=600)
    tests = {t["name"]: t for t in json.loads(out.read_text())["tests"]}
    training = next(t for name, t in tests.items() if "cartpole_smoke_training" in name)
    assert training["score"] == 0, training["output"]
    # the untouched functions still earn their points: only the cheat is penalised
    returns_points = sum(t["score"] for t in tests.values() if t.get("part") == "returns")
    assert returns_points == manifest["parts"]["returns"]
