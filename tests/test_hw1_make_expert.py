"""make_expert trains resumably with homework 3's SAC, records the chain of runs, and exports an expert that
hw1's loader reads; make_expert_data rolls it out (tiny runs: no SAC update happens before learning_starts)."""
import json
from pathlib import Path

import numpy as np
import torch

from hw1_imitation import make_expert, make_expert_data
from hw1_imitation.experts import load_expert, load_expert_trajectories


def test_train_resume_export_and_demonstrations(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "experts"
    common = ["--env", "Hopper-v5", "--run-root", str(runs), "--out", str(out), "--eval-episodes", "1"]
    make_expert.main([*common, "--total-env-steps", "400"])
    make_expert.main([*common, "--total-env-steps", "800"])        # continues the newest run
    meta = json.loads((out / "Hopper-v5.json").read_text())
    assert [s["last_env_steps"] for s in meta["training_runs"]] == [400, 800]
    assert [s["first_env_steps"] for s in meta["training_runs"]] == [0, 400]
    assert meta["total_env_steps"] == 800 and meta["taken_over_from"] is None
    assert "--total-env-steps 800" in meta["command"]
    state = torch.load(out / "Hopper-v5.pt", weights_only=True)
    assert all(value.dtype == torch.float32 for value in state.values())

    # the exported mean head is the SAC actor's tanh(mu), in the env's action box
    newest = Path(meta["training_runs"][-1]["run_dir"])  # absolute: tmp_path is outside the repository
    resume = torch.load(newest / "checkpoints" / "resume.pt", weights_only=True)
    from hw3_qlearning_ac.sac import SACAgent

    agent = SACAgent(11, 3, meta["training_config"]["agent"], action_low=meta["action_low"],
                     action_high=meta["action_high"])
    agent.load_state_dict(resume["agent"])
    observations = np.random.default_rng(0).normal(size=(5, 11)).astype(np.float32)
    expert = load_expert("Hopper-v5", out)
    np.testing.assert_allclose(expert.act(observations), agent.get_action(observations, deterministic=True), atol=1e-6)

    make_expert_data.main(["--env", "Hopper-v5", "--folder", str(out), "--num-trajectories", "2"])
    trajectories = load_expert_trajectories("Hopper-v5", folder=out)
    meta = json.loads((out / "Hopper-v5.json").read_text())
    np.testing.assert_allclose([t.episode_return for t in trajectories], meta["data"]["returns"], atol=0.01)
    np.testing.assert_allclose(expert.act(trajectories[0].observations), trajectories[0].actions, atol=1e-6)


def test_taking_over_a_resumed_run_records_its_newest_piece(tmp_path):
    hw3_root, runs, out = tmp_path / "hw3", tmp_path / "runs", tmp_path / "experts"
    common = ["--env", "Hopper-v5", "--out", str(out), "--eval-episodes", "1"]
    make_expert.main([*common, "--run-root", str(hw3_root), "--total-env-steps", "400"])
    make_expert.main([*common, "--run-root", str(hw3_root), "--total-env-steps", "800"])   # a resumed "hw3" run
    newest = make_expert.runs_in(hw3_root)[-1]
    make_expert.main([*common, "--run-root", str(runs), "--init-from", str(newest), "--total-env-steps", "1200"])
    meta = json.loads((out / "Hopper-v5.json").read_text())
    assert [s["last_env_steps"] for s in meta["training_runs"]] == [400, 800, 1200]
    assert meta["taken_over_from"]["at_env_steps"] == 800
    assert Path(meta["taken_over_from"]["run_dir"]).name == newest.name
