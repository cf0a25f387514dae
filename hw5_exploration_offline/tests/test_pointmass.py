"""Public tests of the PointMass mazes: walls, reward, horizon, observation scale, seeding."""
import numpy as np
import pytest

from common.envs import make_env
from hw5_exploration_offline.pointmass import ENV_IDS, HORIZONS, MAZES, Maze, PointMassEnv

RIGHT, DOWN, LEFT, UP = 0, 1, 2, 3


def cell_of(env, observation):
    return tuple(env.unwrapped.maze.cells(observation)[0])


def test_mazes_are_registered_with_their_horizons():
    for name, env_id in ENV_IDS.items():
        env = make_env(env_id, seed=0)
        assert env.spec.max_episode_steps == HORIZONS[name]
        assert env.unwrapped.maze is MAZES[name]


def test_reset_starts_at_the_centre_of_the_start_cell_with_observations_in_unit_square():
    env = make_env(ENV_IDS["Medium"], seed=0)
    observation, _ = env.reset()
    maze = MAZES["Medium"]
    row, col = maze.start_cell
    assert observation.dtype == np.float32 and observation.shape == (2,)
    np.testing.assert_allclose(observation, [(col + 0.5) / maze.width, (row + 0.5) / maze.height], rtol=1e-6)


@pytest.mark.parametrize("name", list(MAZES))
def test_random_walks_never_enter_a_wall_and_stay_in_the_unit_square(name):
    env = make_env(ENV_IDS[name], seed=1)
    maze = env.unwrapped.maze
    rng = np.random.default_rng(1)
    observation, _ = env.reset()
    for _ in range(2000):
        observation, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
        assert env.observation_space.contains(observation)
        row, col = maze.cells(observation)[0]
        assert not maze.walls[row, col], f"entered the wall cell {(row, col)}"
        if terminated or truncated:
            observation, _ = env.reset()


def test_a_wall_stops_the_point_and_it_slides_along_it():
    # Easy: the start (1, 1) has the outer wall above it; pushing up keeps the point in row 1.
    env = make_env(ENV_IDS["Easy"], seed=0)
    observation, _ = env.reset()
    for _ in range(5):
        observation, *_ = env.step(UP)
        assert cell_of(env, observation)[0] == 1
    # Pushing left along row 1 ends in column 1 (wall at column 0), never past it.
    for _ in range(5):
        observation, *_ = env.step(LEFT)
    assert cell_of(env, observation) == (1, 1)


def test_the_internal_wall_cannot_be_crossed():
    # Easy: row 4 is wall from column 0 to 4; pushing down from the start stops in row 3.
    env = make_env(ENV_IDS["Easy"], seed=0)
    observation, _ = env.reset()
    for _ in range(10):
        observation, *_ = env.step(DOWN)
    assert cell_of(env, observation) == (3, 1)


def test_reward_is_minus_one_per_step_and_zero_with_termination_at_the_goal():
    # Easy: right 4 cells, down 6 (column 5 has no wall), left 4 reaches the goal (7, 1).
    env = make_env(ENV_IDS["Easy"], seed=0)
    env.reset()
    rewards, terminated = [], False
    for action in [RIGHT] * 4 + [DOWN] * 6 + [LEFT] * 6:
        _, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        if terminated:
            break
    assert terminated and not truncated
    assert rewards[-1] == 0.0 and all(r == -1.0 for r in rewards[:-1])
    assert len(rewards) == 14


def test_episode_is_truncated_at_the_horizon_with_return_minus_horizon():
    env = make_env(ENV_IDS["Medium"], seed=0)
    env.reset()
    total, steps = 0.0, 0
    while True:
        _, reward, terminated, truncated, _ = env.step(UP)  # never reaches the goal
        total += reward
        steps += 1
        if terminated or truncated:
            break
    assert truncated and not terminated
    assert steps == HORIZONS["Medium"] and total == -HORIZONS["Medium"]


def test_same_seed_same_actions_give_the_same_episode_and_another_seed_differs():
    actions = np.random.default_rng(0).integers(4, size=60)

    def observations(seed):
        env = make_env(ENV_IDS["Hard"], seed=seed)
        return np.array([env.step(int(a))[0] for a in actions])

    np.testing.assert_array_equal(observations(3), observations(3))
    assert not np.array_equal(observations(3), observations(4))


def test_motion_is_noisy_around_one_cell_per_step():
    env = PointMassEnv("Easy")
    env.reset(seed=0)
    maze = env.maze
    start, _ = env.reset()
    moved, _, _, _, _ = env.step(RIGHT)
    dx, dy = (moved - start) * maze.scale
    assert 0.6 < dx < 1.4 and abs(dy) < 0.4 and (dx, dy) != (1.0, 0.0)


def test_invalid_action_and_layout_raise_clear_errors():
    env = PointMassEnv("Easy")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(7)
    with pytest.raises(ValueError, match="'S'"):
        Maze("bad", ("###", "#.#", "###"))


def test_render_draws_an_image():
    env = make_env(ENV_IDS["Easy"], seed=0, render_mode="rgb_array")
    env.reset()
    env.step(RIGHT)
    image = env.render()
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
