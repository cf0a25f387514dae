"""Specification of common.envs: making, seeding, vector envs and their autoreset."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

from common.envs import make_env, make_vector_env, register_project_env


class ConstantEnv(gym.Env):
    """A one-step env that always observes `value`: enough to check registration and kwargs."""

    observation_space = gym.spaces.Box(-10.0, 10.0, shape=(1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, value: float = 0.0):
        self.value = value

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.array([self.value], dtype=np.float32), {}

    def step(self, action):
        return np.array([self.value], dtype=np.float32), 0.0, True, False, {}


def test_make_env_applies_the_time_limit_and_constructor_arguments():
    env = make_env("CartPole-v1", max_episode_steps=7)
    assert env.spec.max_episode_steps == 7
    assert make_env("CartPole-v1").spec.max_episode_steps == 500  # the id's own limit by default
    assert isinstance(make_env("LunarLander-v3", continuous=True).action_space, gym.spaces.Box)
    assert make_env("CartPole-v1", render_mode="rgb_array").render_mode == "rgb_array"


def test_same_seed_same_resets_and_action_samples_and_another_seed_differs():
    first, again, other = make_env("CartPole-v1", seed=5), make_env("CartPole-v1", seed=5), make_env("CartPole-v1", seed=6)
    # make_env has reset with the seed already; later plain resets continue the same stream.
    for _ in range(3):
        np.testing.assert_array_equal(first.reset()[0], again.reset()[0])
    assert [first.action_space.sample() for _ in range(20)] == [again.action_space.sample() for _ in range(20)]
    assert not np.array_equal(make_env("CartPole-v1", seed=5).reset()[0], other.reset()[0])


def test_vector_env_is_synchronous_with_same_step_autoreset_by_default():
    env = make_vector_env("CartPole-v1", 3, seed=0)
    assert isinstance(env, SyncVectorEnv) and env.num_envs == 3
    assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP


def test_asynchronous_vector_env_also_uses_same_step_autoreset():
    env = make_vector_env("CartPole-v1", 2, seed=0, asynchronous=True)
    try:
        assert isinstance(env, AsyncVectorEnv)
        assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
        assert env.reset()[0].shape == (2, 4)
    finally:
        env.close()


def test_sub_env_i_of_a_vector_env_seeded_s_behaves_like_a_single_env_seeded_s_plus_i():
    vector_env = make_vector_env("CartPole-v1", 3, seed=20)
    observations = vector_env.reset()[0]
    for i in range(3):
        np.testing.assert_array_equal(observations[i], make_env("CartPole-v1", seed=20 + i).reset()[0])


def test_vector_env_returns_the_true_final_observation_and_the_next_reset_in_the_same_step():
    # Three steps with a time limit of 3: every sub-env is truncated on the third step.
    vector_env = make_vector_env("CartPole-v1", 2, seed=0, max_episode_steps=3)
    vector_env.reset()
    singles = [make_env("CartPole-v1", seed=i, max_episode_steps=3) for i in range(2)]
    for env in singles:
        env.reset()
    actions = np.array([1, 0])
    for step in range(3):
        observations, _, terminated, truncated, infos = vector_env.step(actions)
        single_results = [env.step(int(a)) for env, a in zip(singles, actions)]
        if step < 2:
            assert "final_obs" not in infos
            for i, result in enumerate(single_results):
                np.testing.assert_array_equal(observations[i], result[0])
    assert truncated.all() and not terminated.any()
    assert infos["_final_obs"].all()
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(infos["final_obs"][i], single_results[i][0])  # the true last one
        np.testing.assert_array_equal(observations[i], env.reset()[0])  # already the next episode's first


def test_register_project_env_makes_it_available_to_make_env_with_its_arguments():
    register_project_env("tests/Constant-v0", ConstantEnv, max_episode_steps=5, kwargs={"value": 2.0})
    env = make_env("tests/Constant-v0", seed=0)
    assert env.reset()[0].tolist() == [2.0] and env.spec.max_episode_steps == 5
    assert make_env("tests/Constant-v0", value=-1.0).reset()[0].tolist() == [-1.0]
    assert make_vector_env("tests/Constant-v0", 2, seed=0).reset()[0].tolist() == [[2.0], [2.0]]


def test_registering_the_same_env_twice_is_harmless_but_a_clash_is_an_error():
    register_project_env("tests/Constant-v1", ConstantEnv)
    register_project_env("tests/Constant-v1", ConstantEnv)  # e.g. a module imported twice
    with pytest.raises(ValueError, match="already registered"):
        register_project_env("tests/Constant-v1", "some.other:Env")


def test_num_envs_must_be_positive():
    with pytest.raises(ValueError, match="num_envs"):
        make_vector_env("CartPole-v1", 0)
