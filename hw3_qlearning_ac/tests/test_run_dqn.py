"""Public end-to-end tests: a few thousand steps of the Q-learning loop through run.py."""
from pathlib import Path

import numpy as np
import pytest

from hw3_qlearning_ac.dqn_training import DQNRunConfig, train_dqn

CONFIGS = Path(__file__).parents[1] / "configs"
TINY = {"env_id": "CartPole-v1", "total_env_steps": 600, "learning_starts": 200, "log_every": 200,
        "eval_every": 400, "eval_episodes": 2, "progress_bar": False, "agent": {"hidden_sizes": [16]}}


def test_a_few_steps_of_dqn_train_and_act():
    agent = train_dqn({**TINY, "num_envs": 2, "agent": {"hidden_sizes": [16], "double_q": True}})
    actions = agent.get_action(np.zeros((3, 4), dtype=np.float32), deterministic=True)
    assert actions.shape == (3,) and actions.dtype == np.int64
    assert agent.num_updates == 400  # one gradient step per env step after learning_starts


def test_update_to_data_ratio_follows_train_every_and_gradient_steps():
    agent = train_dqn({**TINY, "train_every": 4, "gradient_steps": 2})
    assert agent.num_updates == 400 * 2 // 4


def test_run_main_writes_metrics_checkpoint_and_plot(tmp_path, capsys):
    from hw3_qlearning_ac.run import main

    main(["--config", str(CONFIGS / "dqn_smoke.yaml"), "--set", "total_env_steps=1000", "learning_starts=500",
          "eval_every=500", f"log_root={tmp_path}", "progress_bar=false"])
    printed = capsys.readouterr().out
    (metrics,) = tmp_path.glob("hw3/*/metrics.csv")
    assert str(metrics) in printed
    header = metrics.read_text().splitlines()[0].split(",")
    assert {"env_steps", "train_return", "eval_return", "eval_return_std", "q_loss", "epsilon",
            "eval_q_estimate", "eval_discounted_return"} <= set(header)
    assert (metrics.parent / "eval_return.png").exists()
    assert (metrics.parent / "q_estimates.png").exists()  # the overestimation plot
    assert (metrics.parent / "checkpoints" / "agent.pt").exists()


def test_run_dispatches_soft_q_from_the_config(tmp_path):
    from hw3_qlearning_ac.run import algorithm_of, main

    config = str(CONFIGS / "soft_q_cartpole_alpha0.1.yaml")
    assert algorithm_of(["--config", config]) == "soft_q"
    assert algorithm_of(["--config", config, "--set", "algorithm=dqn"]) == "dqn"
    main(["--config", config, "--set", "total_env_steps=400", "learning_starts=200", "eval_every=400",
          "eval_episodes=1", f"log_root={tmp_path}", "progress_bar=false"])
    assert len(list(tmp_path.glob("hw3/soft_q_cartpole_alpha0.1_*/metrics.csv"))) == 1


def test_soft_q_needs_a_temperature_and_dqn_refuses_one():
    with pytest.raises(ValueError, match="alpha"):
        train_dqn({**TINY, "algorithm": "soft_q"})
    with pytest.raises(ValueError, match="alpha"):
        train_dqn({**TINY, "agent": {"alpha": 0.1}})


def test_resume_continues_from_the_saved_step(tmp_path):
    from common.logger import Logger

    config = {**TINY, "checkpoint_every": 300}
    with Logger("hw3", "resume", "CartPole-v1", 0, root=tmp_path) as logger:
        first = train_dqn(config, logger)
    resumed = train_dqn({**config, "total_env_steps": 800, "resume_from": str(logger.run_dir)})
    assert resumed.num_updates == first.num_updates + 200


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.yaml") if p.name.startswith(("dqn", "double_dqn", "soft_q"))))
def test_every_q_learning_config_loads(name):
    from common.config import load_config

    config = load_config(DQNRunConfig, CONFIGS / name)
    assert config.exp_name == name.removesuffix(".yaml")
