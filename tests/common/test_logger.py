"""Specification of common.logger: run directory layout, metrics.csv, config.yaml, TensorBoard, checkpoints."""
from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import yaml

from common.logger import Logger, load_checkpoint, make_run_dir, progress_bar, save_checkpoint


@dataclass
class TinyConfig:
    env_id: str = "CartPole-v1"
    hidden_sizes: tuple[int, ...] = (64, 64)
    learning_rate: float = 3e-4


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.reader(file))


def test_run_directory_layout_and_name(tmp_path):
    with Logger("hw2", "pg_rtg", "CartPole-v1", seed=3, config=TinyConfig(), root=tmp_path, tensorboard=False) as logger:
        pass
    run_dir = logger.run_dir
    assert run_dir.parent == tmp_path / "hw2"
    assert re.fullmatch(r"pg_rtg_CartPole-v1_3_\d{8}-\d{6}", run_dir.name), run_dir.name
    assert (run_dir / "config.yaml").is_file()
    assert (run_dir / "metrics.csv").is_file()


def test_env_ids_with_slashes_make_one_directory_level(tmp_path):
    logger = Logger("hw3", "dqn", "ALE/Pong-v5", seed=0, root=tmp_path, tensorboard=False)
    logger.close()
    assert logger.run_dir.parent == tmp_path / "hw3"
    assert logger.run_dir.name.startswith("dqn_ALE-Pong-v5_0_")


def test_runs_started_in_the_same_second_get_distinct_directories(tmp_path):
    dirs = [make_run_dir(tmp_path, "hw2", "exp", "CartPole-v1", 0) for _ in range(3)]
    assert len(set(dirs)) == 3
    assert all(d.is_dir() for d in dirs)
    # Unless the clock ticked between calls, the suffixes are -1 and -2.
    names = sorted(d.name for d in dirs)
    assert all(re.fullmatch(r"exp_CartPole-v1_0_\d{8}-\d{6}(-\d+)?", n) for n in names), names


def test_config_yaml_holds_the_config_as_plain_yaml(tmp_path):
    with Logger("hw2", "exp", "CartPole-v1", 0, config=TinyConfig(learning_rate=0.01), root=tmp_path, tensorboard=False) as logger:
        pass
    saved = yaml.safe_load((logger.run_dir / "config.yaml").read_text())
    assert saved == {"env_id": "CartPole-v1", "hidden_sizes": [64, 64], "learning_rate": 0.01}


def test_config_may_be_a_dict(tmp_path):
    with Logger("hw2", "exp", "CartPole-v1", 0, config={"batch_size": 1000}, root=tmp_path, tensorboard=False) as logger:
        pass
    assert yaml.safe_load((logger.run_dir / "config.yaml").read_text()) == {"batch_size": 1000}


def test_each_log_call_appends_one_row(tmp_path):
    with Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path, tensorboard=False) as logger:
        logger.log({"env_steps": 1000, "train_return": 21.5})
        logger.log({"env_steps": 2000, "train_return": 35.0})
    assert read_csv(logger.metrics_path) == [
        ["env_steps", "train_return"],
        ["1000", "21.5"],
        ["2000", "35.0"],
    ]


def test_rows_are_on_disk_before_close(tmp_path):
    # Plotting a run while it trains needs every logged row flushed at once.
    logger = Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path, tensorboard=False)
    logger.log({"env_steps": 1, "train_return": 2.0})
    assert read_csv(logger.metrics_path)[1] == ["1", "2.0"]
    logger.close()


def test_a_column_appearing_later_widens_the_header_and_earlier_rows_stay_empty(tmp_path):
    with Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path, tensorboard=False) as logger:
        logger.log({"env_steps": 1000, "train_return": 10.0})
        logger.log({"env_steps": 2000, "train_return": 20.0, "eval_return": 25.0, "eval_return_std": 1.5})
        logger.log({"env_steps": 3000, "policy_loss": -0.5})
    assert read_csv(logger.metrics_path) == [
        ["env_steps", "train_return", "eval_return", "eval_return_std", "policy_loss"],
        ["1000", "10.0", "", "", ""],
        ["2000", "20.0", "25.0", "1.5", ""],
        ["3000", "", "", "", "-0.5"],
    ]


def test_numpy_and_torch_scalars_are_logged_as_numbers(tmp_path):
    with Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path, tensorboard=False) as logger:
        logger.log(
            {
                "env_steps": np.int64(5),
                "train_return": np.float32(1.5),
                "policy_loss": torch.tensor(0.25, requires_grad=True),
                "episode_length": np.array([7]),
            }
        )
    assert read_csv(logger.metrics_path)[1] == ["5", "1.5", "0.25", "7"]


def test_non_scalar_metric_is_an_error_naming_it(tmp_path):
    with Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path, tensorboard=False) as logger:
        with pytest.raises(ValueError, match="'returns'"):
            logger.log({"returns": np.ones(3)})


def test_log_after_close_is_an_error(tmp_path):
    logger = Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path, tensorboard=False)
    logger.close()
    logger.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="close"):
        logger.log({"env_steps": 1})


def test_tensorboard_events_are_written_when_installed(tmp_path):
    pytest.importorskip("torch.utils.tensorboard")
    with Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path) as logger:
        assert logger.uses_tensorboard
        logger.log({"env_steps": 100, "train_return": 1.0})
    events = list(logger.run_dir.glob("events.out.tfevents.*"))
    assert len(events) == 1 and events[0].stat().st_size > 0


def test_without_tensorboard_the_csv_is_still_written(tmp_path, monkeypatch):
    # A None entry in sys.modules makes `import torch.utils.tensorboard` raise ImportError.
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path) as logger:
        assert not logger.uses_tensorboard
        logger.log({"env_steps": 100, "train_return": 1.0})
    assert not list(logger.run_dir.glob("events.out.tfevents.*"))
    assert read_csv(logger.metrics_path)[1] == ["100", "1.0"]


def test_checkpoint_round_trip_through_logger_or_directory(tmp_path):
    network = torch.nn.Linear(3, 2)
    with Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path, tensorboard=False) as logger:
        path = save_checkpoint(logger, "policy", network.state_dict())
    assert path == logger.run_dir / "checkpoints" / "policy.pt"
    restored = torch.nn.Linear(3, 2)
    restored.load_state_dict(load_checkpoint(path))
    assert torch.equal(restored.weight, network.weight) and torch.equal(restored.bias, network.bias)
    # A run directory works as well as a Logger, and ".pt" is not doubled.
    assert save_checkpoint(logger.run_dir, "critic.pt", {"w": torch.ones(1)}).name == "critic.pt"


def test_progress_bar_counts_and_shows_the_key_metric():
    bar = progress_bar(total=10, desc="train", disable=False, file=io.StringIO())
    bar.update(4)
    bar.set_postfix(eval_return="12.5")
    assert bar.n == 4 and bar.total == 10
    assert "eval_return=12.5" in str(bar)
    bar.close()


def test_progress_bar_can_be_hidden_by_environment(monkeypatch):
    monkeypatch.setenv("DEEPRL_PROGRESS", "0")
    bar = progress_bar(total=10)
    assert bar.disable
    bar.close()


def test_progress_bar_keeps_the_last_evaluation_between_evaluations():
    # A run evaluates every few iterations; the rows in between have no eval_return (or NaN).
    bar = progress_bar(total=10, desc="train", disable=False, file=io.StringIO())
    keys = ("train_return", "eval_return")
    bar.show_metrics({"train_return": 10.0}, keys=keys)
    assert "train_return=10.0" in str(bar) and "eval_return" not in str(bar)  # never evaluated yet
    bar.show_metrics({"train_return": 20.0, "eval_return": 25.04}, keys=keys)
    assert "eval_return=25.0" in str(bar)
    bar.show_metrics({"train_return": 30.0}, keys=keys)
    bar.show_metrics({"train_return": 40.0, "eval_return": float("nan")}, keys=keys)
    bar.show_metrics({"train_return": 50.0, "eval_return": None}, keys=keys)
    assert "train_return=50.0" in str(bar)
    assert "eval_return=25.0" in str(bar) and "nan" not in str(bar)
    bar.show_metrics({"train_return": 60.0, "eval_return": np.float32(31.5)}, keys=keys)
    assert "eval_return=31.5" in str(bar)
    bar.close()


def test_progress_bar_shows_only_the_chosen_metrics():
    bar = progress_bar(total=10, disable=False, file=io.StringIO())
    bar.show_metrics({"train_return": 1.26, "actor_loss": 0.5, "iteration": 3}, keys=("train_return", "iteration"))
    assert "train_return=1.3" in str(bar) and "iteration=3" in str(bar) and "actor_loss" not in str(bar)
    bar.close()


def test_a_hidden_progress_bar_accepts_metrics():
    bar = progress_bar(total=10, disable=True)
    bar.show_metrics({"train_return": 1.0})
    bar.update(5)
    bar.close()


def test_run_experiment_trains_saves_the_agent_and_draws_eval_return(tmp_path, capsys):
    from common.logger import run_experiment

    @dataclass
    class Config:
        exp_name: str = "exp"
        env_id: str = "CartPole-v1"
        seed: int = 3
        log_root: str = str(tmp_path)

    config = Config()

    def train(cfg, logger):
        for step, value in ((100, 1.0), (200, 3.0)):
            logger.log({"env_steps": step, "eval_return": value})
        return torch.nn.Linear(2, 1)

    logger = run_experiment("hw9", config, train)
    assert logger.run_dir.parent == tmp_path / "hw9"
    assert set(torch.load(logger.run_dir / "checkpoints" / "agent.pt")) == {"weight", "bias"}
    assert (logger.run_dir / "eval_return.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert str(logger.metrics_path) in printed and "eval_return.png" in printed
