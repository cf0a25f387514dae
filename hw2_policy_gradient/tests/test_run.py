"""Public end-to-end test: a few iterations of run.py's training loop on CartPole."""
from pathlib import Path

import numpy as np

from hw2_policy_gradient.run import train


def test_a_few_iterations_of_training_run_and_act(tmp_path):
    config = {"env_id": "CartPole-v1", "total_env_steps": 1500, "batch_size": 500, "eval_every": 1,
              "eval_episodes": 2, "agent": {"use_baseline": True, "gae_lambda": 0.95}}
    agent = train({**config, "progress_bar": False})
    actions = agent.get_action(np.zeros((3, 4), dtype=np.float32))
    assert actions.shape == (3,)


def test_run_main_writes_metrics_and_plot(tmp_path, capsys):
    from hw2_policy_gradient.run import main

    main(["--config", str(Path(__file__).parents[1] / "configs" / "smoke.yaml"),
          "--set", "total_env_steps=1000", "batch_size=500", f"log_root={tmp_path}"])
    printed = capsys.readouterr().out
    (metrics,) = tmp_path.glob("hw2/*/metrics.csv")
    assert str(metrics) in printed
    header = metrics.read_text().splitlines()[0].split(",")
    assert {"env_steps", "train_return", "eval_return", "eval_return_std", "actor_loss"} <= set(header)
    assert (metrics.parent / "eval_return.png").exists()


def test_progress_bar_shows_the_latest_evaluation_between_evaluations(monkeypatch, capsys):
    import functools

    from common.logger import progress_bar
    from hw2_policy_gradient import run

    monkeypatch.setenv("DEEPRL_PROGRESS", "1")
    monkeypatch.setattr(run, "progress_bar", functools.partial(progress_bar, mininterval=0, miniters=1))  # draw every iteration
    # 4 iterations, evaluated at iterations 3 and 4: iterations 1-2 show no eval_return, never "nan"
    train({"env_id": "CartPole-v1", "total_env_steps": 400, "batch_size": 100, "eval_every": 3,
           "eval_episodes": 1, "agent": {"use_baseline": False}})
    bar_output = capsys.readouterr().err
    assert "eval_return=" in bar_output
    assert "nan" not in bar_output
