"""Specification of common.replay_buffer: ring storage, uniform sampling, save/load, input checks."""
import numpy as np
import pytest

from common.envs import make_vector_env
from common.replay_buffer import ReplayBuffer
from common.rollouts import StepSampler, Transitions, random_policy

FIELDS = ("observations", "actions", "rewards", "next_observations", "terminated", "truncated")


def numbered_transitions(first: int, count: int) -> Transitions:
    """Transitions first, ..., first + count - 1, each field recording its number k."""
    k = np.arange(first, first + count)
    return Transitions(
        observations=np.stack([k, -k], axis=1).astype(np.float32),
        actions=k % 3,
        rewards=k.astype(np.float32),
        next_observations=np.stack([k + 1, -k - 1], axis=1).astype(np.float32),
        terminated=k % 4 == 0,
        truncated=k % 5 == 0,
    )


def make_buffer(capacity: int) -> ReplayBuffer:
    return ReplayBuffer(capacity, obs_shape=(2,), action_shape=(), action_dtype=np.int64)


def add_one_by_one(buffer: ReplayBuffer, batch: Transitions) -> None:
    for i in range(len(batch)):
        buffer.add(*(getattr(batch, name)[i] for name in FIELDS))


def test_add_wraps_around_and_overwrites_the_oldest():
    buffer = make_buffer(5)
    add_one_by_one(buffer, numbered_transitions(0, 7))
    assert len(buffer) == 5 and buffer.position == 2
    # Transition k lives in slot k % 5: 5 and 6 replaced 0 and 1.
    assert buffer.rewards.tolist() == [5, 6, 2, 3, 4]
    assert buffer.observations[:, 0].tolist() == [5, 6, 2, 3, 4]
    assert buffer.next_observations[:, 0].tolist() == [6, 7, 3, 4, 5]


@pytest.mark.parametrize("batch_sizes", [[3, 4], [4, 4, 4], [2, 9], [13], [5, 0, 5, 1]])
def test_add_batch_stores_exactly_what_adding_one_by_one_stores(batch_sizes):
    # Capacity 5: batches that end exactly at the end, wrap in the middle, or exceed capacity.
    batched, one_by_one = make_buffer(5), make_buffer(5)
    first = 0
    for size in batch_sizes:
        batch = numbered_transitions(first, size)
        batched.add_batch(batch)
        add_one_by_one(one_by_one, batch)
        first += size
        assert (len(batched), batched.position) == (len(one_by_one), one_by_one.position)
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(batched, name), getattr(one_by_one, name), err_msg=name)


def test_sampling_draws_only_stored_transitions_uniformly():
    buffer = make_buffer(10)
    buffer.add_batch(numbered_transitions(1, 3))  # slots 0-2 hold 1, 2, 3; the rest is empty
    batch = buffer.sample(3000, np.random.default_rng(0))
    assert set(batch.rewards.tolist()) == {1, 2, 3}
    counts = np.bincount(batch.rewards.astype(int), minlength=4)[1:]
    assert counts.min() > 900  # about 1000 each
    # The fields of one sampled transition belong together.
    np.testing.assert_array_equal(batch.observations[:, 0], batch.rewards)
    np.testing.assert_array_equal(batch.next_observations[:, 0], batch.rewards + 1)
    np.testing.assert_array_equal(batch.actions, batch.rewards.astype(int) % 3)


def test_sampling_after_wrap_around_covers_the_whole_buffer():
    buffer = make_buffer(4)
    buffer.add_batch(numbered_transitions(0, 6))
    batch = buffer.sample(500, np.random.default_rng(1))
    assert set(batch.rewards.tolist()) == {2, 3, 4, 5}


def test_sampling_is_reproducible_with_the_same_generator_seed():
    buffer = make_buffer(50)
    buffer.add_batch(numbered_transitions(0, 50))
    first = buffer.sample(8, np.random.default_rng(3))
    again = buffer.sample(8, np.random.default_rng(3))
    np.testing.assert_array_equal(first.rewards, again.rewards)
    assert first.observations.dtype == np.float32 and first.actions.dtype == np.int64
    assert first.terminated.dtype == bool and first.observations.shape == (8, 2)


def test_sampling_needs_transitions_and_a_generator():
    buffer = make_buffer(5)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(2, np.random.default_rng(0))
    buffer.add_batch(numbered_transitions(0, 2))
    with pytest.raises(TypeError, match="numpy Generator"):
        buffer.sample(2, 0)


@pytest.mark.parametrize("count", [3, 8])  # not full, and full after wrapping around
def test_save_then_load_restores_contents_size_and_insert_position(tmp_path, count):
    buffer = ReplayBuffer(5, obs_shape=(2,), action_shape=(), obs_dtype=np.float32, action_dtype=np.int64)
    buffer.add_batch(numbered_transitions(0, count))
    path = buffer.save(tmp_path / "buffer")
    assert path.name == "buffer.npz" and path.exists()
    loaded = ReplayBuffer.load(path)
    assert (loaded.capacity, len(loaded), loaded.position) == (5, len(buffer), buffer.position)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(buffer, name), err_msg=name)
        assert getattr(loaded, name).dtype == getattr(buffer, name).dtype
    # Both go on identically: the next transition lands in the same slot.
    more = numbered_transitions(100, 3)
    buffer.add_batch(more)
    loaded.add_batch(more)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(buffer, name), err_msg=name)


def test_image_observations_keep_their_dtype_through_save_and_load(tmp_path):
    buffer = ReplayBuffer(4, obs_shape=(3, 2, 2), action_shape=(1,), obs_dtype=np.uint8)
    frame = np.full((3, 2, 2), 255, dtype=np.uint8)
    buffer.add(frame, np.array([0.5]), 1.0, frame, False, True)
    loaded = ReplayBuffer.load(buffer.save(tmp_path / "frames.npz"))
    assert loaded.observations.dtype == np.uint8 and loaded.observations[0].max() == 255
    assert loaded.truncated[0] and not loaded.terminated[0]


def test_loading_a_file_that_is_not_a_buffer_says_what_is_missing(tmp_path):
    np.savez(tmp_path / "other.npz", observations=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"missing \['actions'"):
        ReplayBuffer.load(tmp_path / "other.npz")


def test_wrong_shapes_name_the_field_and_both_shapes():
    buffer = make_buffer(5)
    good = dict(observation=np.zeros(2), action=1, reward=0.0, next_observation=np.zeros(2), terminated=False, truncated=False)
    with pytest.raises(ValueError, match=r"observations: expected shape \(2,\), got \(3,\)"):
        buffer.add(**{**good, "observation": np.zeros(3)})
    with pytest.raises(ValueError, match=r"next_observations: expected shape \(2,\), got \(1, 2\)"):
        buffer.add(**{**good, "next_observation": np.zeros((1, 2))})
    with pytest.raises(ValueError, match=r"actions: expected shape \(\), got \(1,\)"):
        buffer.add(**{**good, "action": np.array([1])})
    batch = numbered_transitions(0, 4)
    batch.observations = np.zeros((4, 5), dtype=np.float32)
    with pytest.raises(ValueError, match=r"observations: expected shape \(4, 2\), got \(4, 5\)"):
        buffer.add_batch(batch)
    assert len(buffer) == 0  # nothing half-written


def test_wrong_dtypes_name_the_field_and_both_dtypes():
    buffer = make_buffer(1)
    good = dict(observation=np.ones(2), action=1, reward=0.0, next_observation=np.zeros(2), terminated=False, truncated=False)
    buffer.add(**good)  # float64 observations fit a float32 buffer (same kind)
    with pytest.raises(ValueError, match="actions: expected dtype int64 .*got float64"):
        buffer.add(**{**good, "action": 0.7})  # a continuous action in a discrete buffer
    with pytest.raises(ValueError, match="terminated: expected dtype bool .*got float64"):
        buffer.add(**{**good, "terminated": 1.0})
    with pytest.raises(ValueError, match="observations: expected dtype uint8 .*got float32"):
        ReplayBuffer(2, (2,), (), obs_dtype=np.uint8).add(np.zeros(2, dtype=np.float32), 0.0, 0.0, np.zeros(2, dtype=np.uint8), False, False)
    # The buffer is full, so the next add overwrites slot 0: a rejected one must not, even in part.
    with pytest.raises(ValueError, match="truncated"):
        buffer.add(np.full(2, 7.0), 2, 1.0, np.full(2, 7.0), True, "no")
    assert len(buffer) == 1 and buffer.observations[0].tolist() == [1, 1] and buffer.actions[0] == 1


def test_step_sampler_batches_go_straight_into_the_buffer():
    # The off-policy loop: sample steps from a vector env, store them, sample a minibatch.
    env = make_vector_env("HalfCheetah-v5", 2, seed=0)  # float64 observations, float32 actions
    sampler = StepSampler(env)
    buffer = ReplayBuffer(100, env.single_observation_space.shape, env.single_action_space.shape)
    policy = random_policy(env)
    for _ in range(3):
        buffer.add_batch(sampler.sample(policy, 40))
    assert len(buffer) == 100 and buffer.position == 20
    batch = buffer.sample(16, np.random.default_rng(0))
    assert batch.observations.shape == (16, 17) and batch.observations.dtype == np.float32
