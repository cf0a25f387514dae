"""Public tests of the shipped experts and demonstrations (README 2): they load and agree with their metadata."""
import numpy as np
import pytest
import torch

from hw1_imitation.experts import (ENVS, expert_paths, load_expert, load_expert_trajectories,
                                   load_metadata, save_trajectories, load_trajectories, trajectories_to_dataset)

torch.set_num_threads(1)
SHIPPED = [env for env in ENVS if expert_paths(env)["data"].exists()]


@pytest.mark.parametrize("env_id", SHIPPED)
def test_shipped_expert_and_data_load(env_id):
    meta = load_metadata(env_id)
    expert = load_expert(env_id)
    trajectories = load_expert_trajectories(env_id, 2)
    assert len(trajectories) == 2
    data = trajectories_to_dataset(trajectories)
    assert data.observations.shape == (sum(len(t.rewards) for t in trajectories), meta["obs_dim"])
    # the demonstrations are the expert's deterministic actions
    np.testing.assert_allclose(expert.act(data.observations[:100]), data.actions[:100], atol=1e-5)
    np.testing.assert_allclose([t.episode_return for t in trajectories], meta["data"]["returns"][:2], atol=0.01)


def test_weights_load_without_pickled_code():
    env_id = SHIPPED[0]
    state = torch.load(expert_paths(env_id)["weights"], weights_only=True)
    assert all(value.dtype == torch.float32 for value in state.values())


def test_trajectories_round_trip(tmp_path):
    from common.rollouts import Trajectory

    rng = np.random.default_rng(0)
    obs = rng.normal(size=(6, 3)).astype(np.float32)
    first = Trajectory(obs[:3], rng.normal(size=(3, 2)).astype(np.float32), np.ones(3, np.float32), obs[1:4],
                       np.array([0, 0, 1], bool), np.zeros(3, bool))
    second = Trajectory(obs[3:5], rng.normal(size=(2, 2)).astype(np.float32), np.ones(2, np.float32), obs[4:6],
                        np.zeros(2, bool), np.array([0, 1], bool))
    loaded = load_trajectories(save_trajectories(tmp_path / "d.npz", [first, second]))
    for before, after in zip([first, second], loaded):
        for name in ("observations", "actions", "rewards", "next_observations", "terminated", "truncated"):
            np.testing.assert_array_equal(getattr(before, name), getattr(after, name))
