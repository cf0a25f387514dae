"""Public tests of the environments and of the reward functions the planner uses."""
import numpy as np
import pytest
import torch

from common.envs import make_env, make_vector_env
from hw4_model_based.envs import (
    GOAL, GOAL_RADIUS, HALFCHEETAH_ID, OBSTACLES, OBSTACLES_ID, REACHER_ID, START, START_NOISE, STEP_SIZE,
    inside_obstacle,
)
from hw4_model_based.rewards import PLANNING_TASKS, planning_task


def _obstacles_env_at(position):
    env = make_env(OBSTACLES_ID, seed=0)
    env.reset()
    env.unwrapped._position = np.array(position, dtype=np.float64)
    return env


def test_obstacles_starts_near_the_start_and_moves_by_step_size_times_action():
    env = make_env(OBSTACLES_ID, seed=0)
    obs, _ = env.reset()
    assert obs.shape == (2,) and np.all(np.abs(obs - START) <= START_NOISE + 1e-6)
    next_obs, reward, terminated, truncated, _ = env.step(np.array([1.0, -0.5]))
    np.testing.assert_allclose(next_obs, obs + STEP_SIZE * np.array([1.0, -0.5]), atol=1e-6)
    assert reward == pytest.approx(-np.linalg.norm(next_obs - GOAL), abs=1e-6)
    assert not terminated and not truncated


def test_obstacles_blocks_a_move_into_an_obstacle_and_clips_at_the_border():
    x0, y0, x1, y1 = OBSTACLES[0]
    env = _obstacles_env_at([x0 - 0.01, (y0 + y1) / 2])       # just left of the first obstacle
    obs, _, _, _, info = env.step(np.array([1.0, 0.0]))
    np.testing.assert_allclose(obs, [x0 - 0.01, (y0 + y1) / 2], atol=1e-6)
    assert info["blocked"]
    env = _obstacles_env_at([0.01, 0.5])
    obs, *_ = env.step(np.array([-1.0, 0.0]))
    np.testing.assert_allclose(obs, [0.0, 0.5], atol=1e-6)
    assert inside_obstacle(np.array([(x0 + x1) / 2, (y0 + y1) / 2]))


def test_obstacles_terminates_at_the_goal_and_truncates_after_100_steps():
    env = _obstacles_env_at(GOAL - np.array([GOAL_RADIUS + 0.01, 0.0]))
    _, _, terminated, _, _ = env.step(np.array([1.0, 0.0]))
    assert terminated
    env = make_env(OBSTACLES_ID, seed=0)
    env.reset()
    for step in range(100):
        _, _, terminated, truncated, _ = env.step(np.zeros(2))
    assert truncated and not terminated


def test_obstacles_renders_the_path_and_runs_in_a_vector_env():
    env = make_env(OBSTACLES_ID, seed=0, render_mode="rgb_array")
    env.reset()
    env.step(np.ones(2))
    image = env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    vector_env = make_vector_env(OBSTACLES_ID, num_envs=2, seed=0)
    obs, _ = vector_env.reset()
    assert obs.shape == (2, 2)


def test_halfcheetah_observes_the_step_velocity_and_lasts_500_steps():
    env = make_env(HALFCHEETAH_ID, seed=0)
    obs, _ = env.reset()
    assert obs.shape == (18,) and obs[17] == 0.0
    for step in range(500):
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        assert obs[17] == info["x_velocity"]
    assert truncated and not terminated


def _random_rollouts(env_id, num_steps, seed=0):
    """Transitions of random actions (resetting when an episode ends) and the env's rewards."""
    env = make_env(env_id, seed=seed)
    obs, _ = env.reset()
    rows = []
    for _step in range(num_steps):
        action = env.action_space.sample()
        next_obs, reward, terminated, truncated, _ = env.step(action)
        rows.append((obs, action, next_obs, reward, terminated))
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()
    return [np.array(column) for column in zip(*rows)]


def _obstacles_rollouts_that_reach_the_goal():
    """Random steps plus episodes that walk straight to the goal from above the obstacles."""
    obs, actions, next_obs, rewards, terminated = _random_rollouts(OBSTACLES_ID, 150)
    env = _obstacles_env_at([GOAL[0] - 0.3, GOAL[1]])
    position = np.array([GOAL[0] - 0.3, GOAL[1]], dtype=np.float32)
    for _ in range(6):
        new, reward, done, _, _ = env.step(np.array([1.0, 0.0]))
        obs, actions = np.vstack([obs, position]), np.vstack([actions, [1.0, 0.0]])
        next_obs, rewards, terminated = np.vstack([next_obs, new]), np.append(rewards, reward), np.append(terminated, done)
        position = new
        if done:
            break
    return obs, actions, next_obs, rewards, terminated


@pytest.mark.parametrize("env_id", sorted(PLANNING_TASKS))
def test_reward_functions_equal_the_env_reward_on_random_rollouts(env_id):
    if env_id == OBSTACLES_ID:
        obs, actions, next_obs, rewards, terminated = _obstacles_rollouts_that_reach_the_goal()
        assert terminated.any()
    else:
        obs, actions, next_obs, rewards, terminated = _random_rollouts(env_id, 300)
    task = planning_task(env_id)
    np.testing.assert_allclose(task.reward(obs, actions, next_obs), rewards, atol=1e-5)
    np.testing.assert_array_equal(task.termination(next_obs), terminated)
    as_torch = [torch.as_tensor(x, dtype=torch.float32) for x in (obs, actions, next_obs)]
    np.testing.assert_allclose(task.reward(*as_torch).numpy(), rewards, atol=1e-4)
    np.testing.assert_array_equal(task.termination(as_torch[2]).numpy(), terminated)


@pytest.mark.parametrize("env_id", sorted(PLANNING_TASKS))
def test_reward_functions_take_any_leading_axes(env_id):
    env = make_env(env_id, seed=0)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    obs, next_obs = torch.rand(3, 4, obs_dim), torch.rand(3, 4, obs_dim)
    task = planning_task(env_id)
    assert task.reward(obs, torch.rand(3, 4, act_dim), next_obs).shape == (3, 4)
    assert task.termination(next_obs).shape == (3, 4) and task.termination(next_obs).dtype == torch.bool


def test_reacher_is_planned_as_gymnasium_ships_it():
    assert REACHER_ID == "Reacher-v5" and planning_task("Reacher-v5") is PLANNING_TASKS["Reacher-v5"]
    with pytest.raises(ValueError, match="planning works on"):
        planning_task("CartPole-v1")
