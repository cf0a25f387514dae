"""Specification of common.rollouts: episode boundaries, terminated vs truncated, final observations."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from common.envs import make_env, make_vector_env, register_project_env
from common.rollouts import (
    StepSampler,
    Trajectory,
    Transitions,
    concatenate,
    random_policy,
    sample_trajectories,
    sample_trajectory,
)


class CountingEnv(gym.Env):
    """A made-up env whose observations say where they are: [episode index k, step t].

    Episode k lasts LENGTHS[k] steps and then terminates; its final observation is
    [k, LENGTHS[k]]. reset(seed=s) starts episode 10 * s, a plain reset() the next one, so the
    sub-envs of a vector env seeded 0 run episodes 0, 1, 2, ... and 10, 11, 12, ...
    The reward of step t is t + 0.5 * action, so rewards show which action was taken.
    With reuse_array=True the env returns one array that it updates in place (legal, if rude).
    """

    #        k: 0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19
    LENGTHS = (3, 2, 2, 2, 5, 4, 6, 3, 5, 2, 4, 9, 3, 6, 2, 5, 4, 3, 2, 6)
    observation_space = gym.spaces.Box(0.0, 1e6, shape=(2,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, reuse_array: bool = False):
        self.reuse_array = reuse_array
        self.episode, self.t = -1, 0
        self._array = np.zeros(2, dtype=np.float32)

    def length(self, episode: int) -> int:
        return self.LENGTHS[episode % len(self.LENGTHS)]

    def _observation(self) -> np.ndarray:
        array = self._array if self.reuse_array else np.empty(2, dtype=np.float32)
        array[:] = (self.episode, self.t)
        return array

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.episode = 10 * seed if seed is not None else self.episode + 1
        self.t = 0
        return self._observation(), {}

    def step(self, action):
        reward = self.t + 0.5 * int(action)
        self.t += 1
        return self._observation(), reward, self.t >= self.length(self.episode), False, {}


register_project_env("tests/Counting-v0", CountingEnv)
LENGTHS = CountingEnv.LENGTHS
FIELDS = ("observations", "actions", "rewards", "next_observations", "terminated", "truncated")


def counting_env(num_envs: int | None):
    """A CountingEnv seeded 0: a single env when num_envs is None, else a vector env of that many."""
    if num_envs is None:
        return make_env("tests/Counting-v0", seed=0)
    return make_vector_env("tests/Counting-v0", num_envs, seed=0)


def alternating_policy(observations: np.ndarray) -> np.ndarray:
    """Action 1 on odd steps, 0 on even ones: deterministic, and visible in the rewards."""
    return (observations[:, 1] % 2).astype(np.int64)


def assert_one_whole_counting_episode(trajectory: Trajectory, max_length: int | None = None) -> None:
    """The trajectory is one episode of CountingEnv from its reset to its (true) end."""
    episode = trajectory.observations[0, 0]
    length = LENGTHS[int(episode) % len(LENGTHS)]
    expected_length = length if max_length is None else min(length, max_length)
    steps = np.arange(expected_length)
    assert len(trajectory) == expected_length
    np.testing.assert_array_equal(trajectory.observations, np.stack([np.full(expected_length, episode), steps], 1))
    # No transition crosses into the next episode: s_{t+1} is [k, t + 1], the final one included.
    np.testing.assert_array_equal(trajectory.next_observations, np.stack([np.full(expected_length, episode), steps + 1], 1))
    np.testing.assert_array_equal(trajectory.actions, steps % 2)
    np.testing.assert_array_equal(trajectory.rewards, steps + 0.5 * (steps % 2))
    assert trajectory.rewards.dtype == np.float32
    # A time limit reached on the terminal step itself marks both, as Gymnasium's TimeLimit does.
    terminated = expected_length == length
    truncated = max_length is not None and expected_length == max_length
    assert trajectory.terminated.tolist() == [False] * (expected_length - 1) + [terminated]
    assert trajectory.truncated.tolist() == [False] * (expected_length - 1) + [truncated]


def test_sample_trajectory_records_one_whole_episode_with_its_true_final_observation():
    env = make_env("tests/Counting-v0", seed=0)  # the sampler's reset starts episode 1 (length 2)
    trajectory = sample_trajectory(env, alternating_policy)
    assert trajectory.observations.tolist() == [[1, 0], [1, 1]]
    assert trajectory.next_observations.tolist() == [[1, 1], [1, 2]]
    assert_one_whole_counting_episode(trajectory)


@pytest.mark.parametrize("num_envs", [None, 1, 3])
def test_num_trajectories_gives_that_many_whole_episodes(num_envs):
    env = counting_env(num_envs)
    trajectories = sample_trajectories(env, alternating_policy, num_trajectories=7)
    assert len(trajectories) == 7
    for trajectory in trajectories:
        assert_one_whole_counting_episode(trajectory)


@pytest.mark.parametrize("num_envs", [None, 1, 3])
def test_min_steps_collects_whole_episodes_until_enough_steps(num_envs):
    env = counting_env(num_envs)
    trajectories = sample_trajectories(env, alternating_policy, min_steps=20)
    total = sum(len(t) for t in trajectories)
    # Episodes start only while fewer than 20 steps are collected, and each env runs one at a time.
    assert 20 <= total < 20 + (num_envs or 1) * max(LENGTHS)
    for trajectory in trajectories:
        assert_one_whole_counting_episode(trajectory)


def test_single_env_min_steps_stops_after_the_episode_that_reaches_it():
    env = make_env("tests/Counting-v0", seed=0)  # episodes 1, 2, 3, ... last 2, 2, 2, 5, 4 steps
    lengths = [len(t) for t in sample_trajectories(env, alternating_policy, min_steps=7)]
    assert lengths == [2, 2, 2, 5]


def test_vector_env_chooses_episodes_by_start_not_by_end():
    # The sampler's reset starts episode 1 (2 steps) in env 0 and episode 11 (9 steps) in env 1.
    env = make_vector_env("tests/Counting-v0", 2, seed=0)
    trajectories = sample_trajectories(env, alternating_policy, num_trajectories=3)
    # Episode 1 ends at step 2, and env 0 starts episode 2: the third to start, so it is kept.
    # Episode 3 starts at step 4 and ends at step 6, before episode 11 (step 9), but it started
    # fourth: taking the first three episodes to *end* would drop the long episode 11.
    assert sorted(t.observations[0, 0] for t in trajectories) == [1, 2, 11]


def test_time_limit_of_the_env_marks_truncated_not_terminated():
    env = make_env("tests/Counting-v0", seed=0, max_episode_steps=3)
    for trajectory in sample_trajectories(env, alternating_policy, num_trajectories=5):
        assert_one_whole_counting_episode(trajectory, max_length=3)


@pytest.mark.parametrize("num_envs", [None, 3])
def test_max_episode_steps_of_the_sampler_cuts_episodes_as_truncated(num_envs):
    env = counting_env(num_envs)
    trajectories = sample_trajectories(env, alternating_policy, num_trajectories=8, max_episode_steps=3)
    assert any(t.truncated[-1] for t in trajectories) and any(t.terminated[-1] for t in trajectories)
    for trajectory in trajectories:
        assert_one_whole_counting_episode(trajectory, max_length=3)


def test_cartpole_episodes_terminate_and_a_short_time_limit_truncates():
    env = make_env("CartPole-v1", seed=0)
    for trajectory in sample_trajectories(env, random_policy(env), num_trajectories=3):
        assert trajectory.terminated[-1] and not trajectory.truncated[-1]  # random play drops the pole early
    env = make_env("CartPole-v1", seed=0, max_episode_steps=5)
    for trajectory in sample_trajectories(env, random_policy(env), num_trajectories=3):
        assert len(trajectory) == 5 and trajectory.truncated[-1] and not trajectory.terminated[-1]


def cartpole_policy(observations: np.ndarray) -> np.ndarray:
    """Push towards where the pole leans: deterministic, so episodes depend only on the seed."""
    return (observations[:, 2] > 0).astype(np.int64)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_vector_env_trajectories_equal_single_env_ones_including_final_observations(asynchronous):
    # Sub-env i of a vector env seeded s behaves like a single env seeded s + i, so with a
    # deterministic policy every vector trajectory must equal one replayed in a single env.
    vector_env = make_vector_env("CartPole-v1", 2, seed=10, asynchronous=asynchronous, max_episode_steps=40)
    vector_trajectories = sample_trajectories(vector_env, cartpole_policy, num_trajectories=6)
    vector_env.close()
    single_trajectories = []
    for seed in (10, 11):
        env = make_env("CartPole-v1", seed=seed, max_episode_steps=40)
        single_trajectories += sample_trajectories(env, cartpole_policy, num_trajectories=4)
    assert any(t.truncated[-1] for t in vector_trajectories) and any(t.terminated[-1] for t in vector_trajectories)
    for trajectory in vector_trajectories:
        matches = [s for s in single_trajectories if np.array_equal(s.observations[0], trajectory.observations[0])]
        assert len(matches) == 1
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(trajectory, name), getattr(matches[0], name), err_msg=name)


@pytest.mark.parametrize("num_envs", [None, 2])
def test_same_seed_gives_identical_trajectories_and_another_seed_different_ones(num_envs):
    def collect(seed):
        if num_envs is None:
            env = make_env("CartPole-v1", seed=seed)
        else:
            env = make_vector_env("CartPole-v1", num_envs, seed=seed)
        return concatenate(sample_trajectories(env, random_policy(env), min_steps=100))

    first, again, other = collect(3), collect(3), collect(4)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name), err_msg=name)
    assert not np.array_equal(first.observations[:50], other.observations[:50])


@pytest.mark.filterwarnings("ignore:.*share an object")  # Gymnasium's env checker notices it too
def test_samplers_copy_observations_that_the_env_reuses():
    env = make_env("tests/Counting-v0", seed=0, reuse_array=True)
    assert_one_whole_counting_episode(sample_trajectory(env, alternating_policy))
    batch = StepSampler(env).sample(alternating_policy, 4)  # episodes 2 and 3, of 2 steps each
    assert batch.observations.tolist() == [[2, 0], [2, 1], [3, 0], [3, 1]]
    assert batch.next_observations.tolist() == [[2, 1], [2, 2], [3, 1], [3, 2]]


def check_step_continuity(batch: Transitions) -> None:
    """Consecutive transitions of one env either continue the episode or start the next one at t=0."""
    for k in range(len(batch) - 1):
        if batch.terminated[k] or batch.truncated[k]:
            assert batch.observations[k + 1].tolist() == [batch.observations[k, 0] + 1, 0]
        else:
            np.testing.assert_array_equal(batch.next_observations[k], batch.observations[k + 1])


def test_step_sampler_continues_episodes_across_calls_and_reports_finished_ones():
    env = make_env("tests/Counting-v0", seed=0)  # the sampler starts at episode 1: lengths 2, 2, 2, 5, 4
    sampler = StepSampler(env)
    batches = [sampler.sample(alternating_policy, 3) for _ in range(6)]
    steps = concatenate(batches)
    assert len(steps) == 18 and sampler.total_steps == 18
    check_step_continuity(steps)
    # Every transition stays inside its episode and ends with the true final observation.
    np.testing.assert_array_equal(steps.next_observations[:, 0], steps.observations[:, 0])
    np.testing.assert_array_equal(steps.next_observations[:, 1], steps.observations[:, 1] + 1)
    assert np.flatnonzero(steps.terminated).tolist() == [1, 3, 5, 10, 14]
    assert not steps.truncated.any()
    lengths = np.concatenate([b.episode_lengths for b in batches])
    returns = np.concatenate([b.episode_returns for b in batches])
    assert lengths.tolist() == [2, 2, 2, 5, 4]
    expected_returns = [steps.rewards[start:end].sum() for start, end in [(0, 2), (2, 4), (4, 6), (6, 11), (11, 15)]]
    np.testing.assert_allclose(returns, expected_returns)
    assert batches[2].episode_returns.shape == (0,)  # steps 6-8: no episode ended


def test_step_sampler_on_a_vector_env_is_flat_and_time_major():
    env = make_vector_env("tests/Counting-v0", 2, seed=0, max_episode_steps=4)
    sampler = StepSampler(env)
    batches = [sampler.sample(alternating_policy, 4) for _ in range(5)]
    steps = concatenate(batches)
    assert steps.observations.shape == (20, 2) and steps.rewards.shape == (20,)
    for env_index in range(2):
        one_env = Transitions(**{name: getattr(steps, name)[env_index::2] for name in FIELDS})
        check_step_continuity(one_env)
        np.testing.assert_array_equal(one_env.next_observations[:, 1], one_env.observations[:, 1] + 1)
    assert steps.truncated.any() and steps.terminated.any()
    lengths = np.concatenate([b.episode_lengths for b in batches])
    assert len(lengths) == (steps.terminated | steps.truncated).sum()
    assert set(lengths.tolist()) <= {2, 3, 4}


def test_step_sampler_rejects_a_step_count_that_does_not_divide_among_envs():
    sampler = StepSampler(make_vector_env("tests/Counting-v0", 2, seed=0))
    with pytest.raises(ValueError, match="multiple of num_envs=2"):
        sampler.sample(alternating_policy, 3)


def test_vector_env_with_next_step_autoreset_is_refused():
    env = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")], autoreset_mode=AutoresetMode.NEXT_STEP)
    with pytest.raises(ValueError, match="SAME_STEP"):
        sample_trajectories(env, cartpole_policy, num_trajectories=1)
    with pytest.raises(ValueError, match="SAME_STEP"):
        StepSampler(env)


def test_policy_returning_an_unbatched_action_gets_a_clear_error():
    env = make_env("CartPole-v1", seed=0)
    with pytest.raises(ValueError, match=r"one action per observation, shape \(1, \*action_shape\)"):
        sample_trajectory(env, lambda observations: np.int64(0))


def test_sampling_needs_exactly_one_stopping_rule():
    env = make_env("CartPole-v1", seed=0)
    with pytest.raises(ValueError, match="exactly one"):
        sample_trajectories(env, cartpole_policy)
    with pytest.raises(ValueError, match="exactly one"):
        sample_trajectories(env, cartpole_policy, min_steps=10, num_trajectories=2)


def test_trajectory_rejects_an_episode_end_before_its_last_step():
    with pytest.raises(ValueError, match="only the last step"):
        Trajectory(np.zeros((3, 2)), np.zeros(3), np.zeros(3), np.zeros((3, 2)), [True, False, True], [False] * 3)


def test_transitions_reject_fields_of_different_lengths():
    with pytest.raises(ValueError, match="actions has 2 entries but rewards has 3"):
        Transitions(np.zeros((3, 2)), np.zeros(2), np.zeros(3), np.zeros((3, 2)), [False] * 3, [False] * 3)


def test_concatenate_keeps_order_and_fields():
    env = make_env("tests/Counting-v0", seed=0)
    trajectories = sample_trajectories(env, alternating_policy, num_trajectories=3)
    batch = concatenate(trajectories)
    assert len(batch) == sum(len(t) for t in trajectories)
    np.testing.assert_array_equal(batch.observations, np.concatenate([t.observations for t in trajectories]))
    np.testing.assert_array_equal(batch.terminated, np.concatenate([t.terminated for t in trajectories]))
    assert trajectories[0].episode_return == pytest.approx(float(trajectories[0].rewards.sum()))
