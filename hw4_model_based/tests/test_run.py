"""Public end-to-end test: a tiny MPC run on the obstacles course."""
from pathlib import Path

import numpy as np

from hw4_model_based.run import train

TINY = {"initial_random_steps": 200, "num_iterations": 2, "steps_per_iteration": 10, "max_episode_steps": 10,
        "planner": {"horizon": 4, "num_candidates": 50},
        "dynamics": {"num_members": 2, "hidden_sizes": [16, 16], "num_epochs": 2}}


def test_a_tiny_mpc_run_trains_the_model_and_acts():
    agent = train({**TINY, "progress_bar": False})
    action = agent.get_action(np.array([0.1, 0.1], dtype=np.float32))
    assert action.shape == (2,) and np.all(np.abs(action) <= 1.0)
    assert agent.model.obs_std.min() > 0.0    # normalization statistics were set from the data


def test_run_main_writes_metrics_and_plots(tmp_path, capsys):
    from hw4_model_based.run import main

    config = Path(__file__).parents[1] / "configs" / "obstacles_mpc.yaml"
    main(["--config", str(config), "--set", f"log_root={tmp_path}", "progress_bar=false",
          "initial_random_steps=200", "num_iterations=1", "steps_per_iteration=10", "max_episode_steps=10",
          "planner.num_candidates=50", "planner.horizon=4", "dynamics.num_epochs=1"])
    (metrics,) = tmp_path.glob("hw4/*/metrics.csv")
    assert str(metrics) in capsys.readouterr().out
    header = metrics.read_text().splitlines()[0].split(",")
    assert {"env_steps", "iteration", "eval_return", "dynamics_loss", "plan_ms"} <= set(header)
    assert (metrics.parent / "eval_return.png").exists() and (metrics.parent / "path.png").exists()
