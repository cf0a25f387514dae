"""Public tests of the pixel part (README section 4): the Atari env, the conv Q-network, the frame buffer."""
import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.wrappers import FrameStackObservation

from common.envs import AUTORESET_MODE, seed_env
from common.replay_buffer import ReplayBuffer
from common.rollouts import StepSampler, concatenate, random_policy
from hw3_qlearning_ac.atari import FrameReplayBuffer, stack_frames
from hw3_qlearning_ac.q_networks import ConvQNetwork, make_q_network


class CounterFrames(gym.Env):
    """84x84 frames that number themselves (pixels [0, 0] and [0, 1] hold a global frame counter);
    episodes end after a random 1-12 steps, by termination or truncation."""

    observation_space = gym.spaces.Box(0, 255, (84, 84), np.uint8)
    action_space = gym.spaces.Discrete(3)

    counter = 0  # shared by every copy, so that no two frames anywhere are the same

    def _frame(self):
        CounterFrames.counter += 1
        frame = np.zeros((84, 84), dtype=np.uint8)
        frame[0, 0], frame[0, 1] = CounterFrames.counter % 256, CounterFrames.counter // 256
        return frame

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps_left = int(self.np_random.integers(1, 13))
        return self._frame(), {}

    def step(self, action):
        self.steps_left -= 1
        ended = self.steps_left == 0
        terminal = ended and self.np_random.random() < 0.5
        return self._frame(), float(action), terminal, ended and not terminal, {}


def counter_vector_env(num_envs, seed=0):
    env = gym.vector.SyncVectorEnv([lambda: FrameStackObservation(CounterFrames(), 4) for _ in range(num_envs)],
                                   autoreset_mode=AUTORESET_MODE)
    seed_env(env, seed)
    return env


def as_key(observation, action, next_observation):
    return observation.tobytes() + bytes([int(action)]) + next_observation.tobytes()


def test_stack_frames_pads_with_the_reset_frame_and_wraps_around_the_ring():
    """A ring of 6 slots, written in the order 2, 3, 4, 5, 0, 1: an episode of 2 frames (slots 2, 3),
    then one of 4 frames (slots 4, 5, 0, 1). Frame s is filled with the value s + 1."""
    frames = np.broadcast_to((np.arange(6, dtype=np.uint8) + 1)[:, None, None], (6, 2, 2)).copy()
    positions = np.array([2, 3, 0, 1, 0, 1])
    newest = np.array([1, 0, 5, 3, 2])
    stacks = stack_frames(frames, positions, newest, 4)
    assert stacks.shape == (5, 4, 2, 2) and stacks.dtype == np.uint8
    expected = np.array([
        [5, 6, 1, 2],  # slot 1, 3 steps after its reset at slot 4: the last 4 frames, across the ring's end
        [5, 5, 6, 1],  # slot 0, 2 steps in: the reset frame (slot 4) fills the oldest place
        [5, 5, 5, 6],  # slot 5, 1 step in: never the frames of the episode before (slots 2, 3)
        [3, 3, 3, 4],  # slot 3, 1 step after the reset at slot 2
        [3, 3, 3, 3],  # slot 2, the reset frame itself: the first observation of its episode
    ])
    np.testing.assert_array_equal(stacks[:, :, 0, 0], expected)
    np.testing.assert_array_equal(stack_frames(frames, positions, newest, 2)[:, :, 1, 1], expected[:, 2:])


@pytest.mark.parametrize("num_envs, capacity", [(1, 10_000), (3, 10_000), (2, 60)])
def test_frame_buffer_rebuilds_exactly_the_stacks_it_was_given(num_envs, capacity):
    sampler = StepSampler(counter_vector_env(num_envs))
    buffer = FrameReplayBuffer(capacity, num_envs)
    batches = [sampler.sample(random_policy(sampler.env), num_envs) for _ in range(150)]
    for batch in batches:
        buffer.add_batch(batch)
    everything = concatenate(batches)
    stored = {as_key(o, a, n): (r, te, tr) for o, a, r, n, te, tr in zip(
        everything.observations, everything.actions, everything.rewards, everything.next_observations,
        everything.terminated, everything.truncated)}
    sample = buffer.sample(500, np.random.default_rng(0))
    assert sample.observations.shape == (500, 4, 84, 84) and sample.observations.dtype == np.uint8
    for o, a, r, n, te, tr in zip(sample.observations, sample.actions, sample.rewards, sample.next_observations,
                                  sample.terminated, sample.truncated):
        assert as_key(o, a, n) in stored, "a sampled (s, a, s') was never added (a stack was rebuilt wrongly)"
        assert stored[as_key(o, a, n)] == (r, te, tr)
    assert sample.terminated.any() and sample.truncated.any()  # episode ends are sampled too


def test_frame_buffer_stores_about_one_frame_per_transition():
    buffer = FrameReplayBuffer(100_000, num_envs=1)
    stacked = ReplayBuffer(100_000, (4, 84, 84), (), obs_dtype=np.uint8, action_dtype=np.int64)
    assert buffer.frames.nbytes == 100_000 * 84 * 84
    assert stacked.observations.nbytes + stacked.next_observations.nbytes == 8 * buffer.frames.nbytes


def test_frame_buffer_save_and_load_round_trip(tmp_path):
    sampler = StepSampler(counter_vector_env(2))
    buffer = FrameReplayBuffer(200, 2)
    for _ in range(50):
        buffer.add_batch(sampler.sample(random_policy(sampler.env), 2))
    loaded = FrameReplayBuffer.load(buffer.save(tmp_path / "replay"))
    a, b = buffer.sample(64, np.random.default_rng(1)), loaded.sample(64, np.random.default_rng(1))
    np.testing.assert_array_equal(a.observations, b.observations)
    np.testing.assert_array_equal(a.next_observations, b.next_observations)


def test_conv_q_network_maps_uint8_stacks_to_one_value_per_action():
    network = make_q_network((4, 84, 84), num_actions=6)
    assert isinstance(network, ConvQNetwork)
    q_values = network(torch.zeros(2, 4, 84, 84, dtype=torch.uint8))
    assert q_values.shape == (2, 6)


def test_atari_env_gives_stacked_84x84_uint8_frames():
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    from hw3_qlearning_ac.atari import make_atari_env

    env = make_atari_env("ALE/Breakout-v5", seed=0)
    observation, _ = env.reset()
    assert observation.shape == (4, 84, 84) and observation.dtype == np.uint8
    next_observation, *_ = env.step(1)
    np.testing.assert_array_equal(next_observation[:3], observation[1:])  # the stack shifts by one frame
    env.close()


def test_atari_env_truncates_at_max_episode_steps():
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    from hw3_qlearning_ac.atari import make_atari_env

    env = make_atari_env("ALE/Breakout-v5", seed=0, max_episode_steps=5)
    env.reset()
    flags = [env.step(0)[2:4] for _ in range(5)]
    assert flags[-1] == (False, True) and not any(any(f) for f in flags[:-1])
    env.close()
