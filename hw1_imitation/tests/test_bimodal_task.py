"""Public tests of the two-ways task (given code) and a short run of each part 3 experiment."""
import json

import gymnasium as gym
import numpy as np

from common.config import load_config
from hw1_imitation import bimodal_task as task
from hw1_imitation.run_expressive import ExpressiveConfig, rollout, run


def test_demonstrations_are_mirrored_pairs_and_all_succeed():
    demos = task.make_demonstrations(20, np.random.default_rng(0))
    right, left = demos.paths[:10], demos.paths[10:]
    np.testing.assert_allclose(left, right * np.array([-1.0, 1.0]))
    assert (demos.sides[:10] == task.RIGHT).all() and (demos.sides[10:] == task.LEFT).all()
    assert task.at_goal(demos.paths[:, -1]).all()
    assert not task.inside_obstacle(demos.paths).any()
    assert demos.observations.shape == demos.actions.shape and demos.observations.dtype == np.float32


def test_the_mean_of_the_expert_first_actions_heads_into_the_obstacle():
    demos = task.make_demonstrations(100, np.random.default_rng(1))
    first = demos.actions[:100]                                    # step 0 of every demonstration
    assert (first[:50, 0] > 0.3).all() and (first[50:, 0] < -0.3).all()   # up-right and up-left, never straight up
    mean = first.mean(axis=0)
    np.testing.assert_allclose(mean[0], 0.0, atol=1e-6)
    path = np.zeros(2) + np.arange(1, 12)[:, None] * task.STEP_SIZE * mean
    assert task.inside_obstacle(path).any(), "following the mean action leads into the obstacle"


def test_registered_env_matches_the_batched_step():
    env = gym.make(task.TWO_WAYS_ID)
    obs, _ = env.reset(seed=3)
    assert obs.shape == (2,) and obs[0] == 0.0 and abs(obs[1]) <= task.START_NOISE
    action = np.array([3.0, 4.0], np.float32)                      # norm 5, clipped to MAX_ACTION_NORM
    next_obs, reward, terminated, truncated, info = env.step(action)
    expected, _, _ = task.step_positions(obs[None].astype(np.float64), action[None])
    np.testing.assert_allclose(next_obs, expected[0], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(next_obs - obs), task.STEP_SIZE * task.MAX_ACTION_NORM, rtol=1e-5)
    assert reward == 0.0 and not terminated and not truncated and not info["collision"]
    env.close()


def test_straight_up_collides_and_the_episode_ends():
    env = gym.make(task.TWO_WAYS_ID)
    env.reset(seed=0)
    for _ in range(task.MAX_EPISODE_STEPS):
        _, reward, terminated, truncated, info = env.step(np.array([0.0, 1.0], np.float32))
        if terminated or truncated:
            break
    assert terminated and info["collision"] and reward == 0.0
    env.close()


class Expert:
    """The expert as a policy (it knows its side from the sign of x; x = 0 goes right)."""

    def __init__(self):
        self.passed = None

    def act(self, observations):
        positions = observations.astype(np.float64)
        sides = np.where(positions[:, 0] < 0, task.LEFT, task.RIGHT)
        passed = positions[:, 1] >= task.WAYPOINT[1] - task.STEP_SIZE
        return task.expert_actions(positions, sides, passed)


def test_rollout_of_the_noiseless_expert_succeeds():
    rollouts = rollout(Expert(), 10, np.random.default_rng(0))
    assert rollouts.success_rate == 1.0 and not rollouts.collision.any()


def test_each_experiment_config_runs_briefly(tmp_path):
    for name in ("gaussian", "mixture", "flow"):
        config = load_config(ExpressiveConfig, f"hw1_imitation/configs/expressive_{name}.yaml",
                             [f"log_root={tmp_path}", "iterations=3", "eval_every=2", "eval_episodes=4",
                              "num_demonstrations=4", f"figures_dir={tmp_path / 'figures'}"])
        summary, run_dir = run(config)
        assert 0.0 <= summary["success_rate"] <= 1.0
        assert json.loads((run_dir / "result.json").read_text())["policy"] == name
        assert (run_dir / "metrics.csv").exists() and (tmp_path / "figures" / f"expressive_{name}.png").exists()
