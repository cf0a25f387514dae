"""Public tests of the datasets: coverage metric, .npz + manifest round trip, reproducible exploration."""
import json

import numpy as np
import pytest

from common.replay_buffer import ReplayBuffer
from hw5_exploration_offline import make_datasets
from hw5_exploration_offline.datasets import describe, load_dataset, read_manifest, save_dataset, state_coverage
from hw5_exploration_offline.exploration import explore
from hw5_exploration_offline.pointmass import ENV_IDS, MAZES

EASY = MAZES["Easy"]  # 10 x 9 cells, 52 of them free


def centre(row, col, maze=EASY):
    return [(col + 0.5) / maze.width, (row + 0.5) / maze.height]


def test_coverage_counts_each_free_cell_once():
    observations = np.array([centre(1, 1), centre(1, 1), centre(1, 2), centre(7, 8)])
    assert state_coverage(observations, EASY) == pytest.approx(3 / 52)


def test_coverage_ignores_wall_cells_and_reaches_one_on_every_free_cell():
    rows, cols = np.nonzero(~EASY.walls)
    everywhere = np.array([centre(r, c) for r, c in zip(rows, cols)])
    assert state_coverage(everywhere, EASY) == 1.0
    assert state_coverage(np.array([centre(0, 0)]), EASY) == 0.0  # a wall cell


def _small_buffer(rng, n=20):
    buffer = ReplayBuffer(n, (2,), (), action_dtype=np.int64)
    for i in range(n):
        terminated = i == n - 1
        buffer.add(rng.random(2), rng.integers(4), 0.0 if terminated else -1.0, rng.random(2), terminated, False)
    return buffer


def test_dataset_round_trip_with_manifest(tmp_path):
    buffer = _small_buffer(np.random.default_rng(0))
    info = describe(buffer, ENV_IDS["Easy"], "random", seed=3, command="make it")
    path = save_dataset(buffer, tmp_path / "easy.npz", info)
    loaded, loaded_info = load_dataset(path)
    np.testing.assert_array_equal(loaded.observations, buffer.observations)
    np.testing.assert_array_equal(loaded.actions, buffer.actions)
    assert loaded_info.env_steps == 20 and loaded_info.goal_transitions == 1 and loaded_info.episodes == 1
    assert loaded_info.method == "random" and loaded_info.seed == 3 and len(loaded_info.sha256) == 64
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert set(manifest["easy.npz"]) >= {"env_id", "method", "env_steps", "state_coverage"}


def test_loading_a_changed_dataset_fails(tmp_path):
    rng = np.random.default_rng(0)
    path = save_dataset(_small_buffer(rng), tmp_path / "easy.npz", describe(_small_buffer(rng), ENV_IDS["Easy"], "random", 0))
    _small_buffer(np.random.default_rng(1)).save(path)  # overwritten behind the manifest's back
    with pytest.raises(ValueError, match="changed"):
        load_dataset(path)


def test_exploration_is_reproducible_for_a_seed():
    config = {"env_id": ENV_IDS["Easy"], "method": "rnd", "total_env_steps": 240, "learning_starts": 200,
              "progress_bar": False, "eval_episodes": 1,
              "agent": {"hidden_sizes": [16], "batch_size": 16}, "rnd": {"hidden_sizes": [16]}}
    first, second = explore(config), explore(config)
    np.testing.assert_array_equal(first.buffer.observations, second.buffer.observations)
    np.testing.assert_array_equal(first.buffer.actions, second.buffer.actions)
    assert first.agent.dqn.num_updates == 40


def test_make_datasets_writes_the_manifest_and_check_reproduces_it(tmp_path, capsys):
    args = ["--mazes", "Easy", "--methods", "random", "--steps", "300", "--out", str(tmp_path)]
    make_datasets.main(args)
    info = read_manifest(tmp_path)["pointmass_easy_random_300.npz"]
    assert info.env_steps == 300 and info.method == "random" and 0 < info.state_coverage <= 1
    assert "--steps 300" in info.command
    make_datasets.main([*args, "--check"])
    assert "same as shipped" in capsys.readouterr().out


def test_the_first_transitions_of_a_run_are_the_shorter_run():
    # why the dataset-size ablation may cut one 20k-step dataset (offline_training's dataset_size)
    config = {"env_id": ENV_IDS["Easy"], "method": "rnd", "learning_starts": 200, "progress_bar": False,
              "eval_episodes": 1, "agent": {"hidden_sizes": [16], "batch_size": 16}, "rnd": {"hidden_sizes": [16]}}
    short, long = explore({**config, "total_env_steps": 240}), explore({**config, "total_env_steps": 300})
    for name in ("observations", "actions", "rewards", "next_observations", "terminated", "truncated"):
        np.testing.assert_array_equal(getattr(short.buffer, name), getattr(long.buffer, name)[:240], err_msg=name)
