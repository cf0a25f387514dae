"""Pixels (README section 4): Atari games through ale-py, and a replay buffer that stores every frame once.

The env. `make_atari_env("ALE/Breakout-v5")` applies Gymnasium's own wrappers, as in the DQN paper:
    AtariPreprocessing    up to 30 no-op actions at reset, repeat each action 4 frames (max over the
                          last two, against flicker), grayscale, resize to 84x84, uint8 pixels
    FrameStackObservation the last 4 of those frames, so the state shows motion: (4, 84, 84) uint8
The ROMs ship with ale-py: nothing is downloaded.

The buffer. Consecutive observations share 3 of their 4 frames, so storing s and s' as stacks
holds every frame 8 times: 1M transitions would take 56 GB. `FrameReplayBuffer` keeps one 84x84
frame per transition (the newest frame of s'), plus the first frame of each episode, and rebuilds
the stacks when it samples:
    slot k of env i:  frames[i, k] and position[i, k] = steps since that episode's reset (0: the reset frame)
    s'_k = frames[i, k-3 .. k], s_k = frames[i, k-4 .. k-1], where frames before the episode's
    reset slot are replaced by the reset frame (FrameStackObservation pads with it the same way).
Each env of a vector env writes its own ring of slots, so an episode's frames stay contiguous.
`stack_frames` (README 4.2, your TODO) rebuilds the stacks from one env's ring.
"""
from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv, VectorEnv
from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation, TimeLimit

from common.envs import AUTORESET_MODE, seed_env
from common.rollouts import Transitions

FRAME_STACK = 4


def _register_ale() -> None:
    import ale_py  # the ALE/... ids exist once ale_py is imported and registered

    gym.register_envs(ale_py)


def make_atari_env(env_id: str, seed: int | None = None, frame_stack: int = FRAME_STACK,
                   render_mode: str | None = None, max_episode_steps: int | None = None) -> gym.Env:
    """One Atari env with DQN's preprocessing: observations (frame_stack, 84, 84) uint8.

    env_id: an ALE id such as "ALE/Breakout-v5" or "ALE/Pong-v5" (sticky actions as in v5, p = 0.25).
    Losing a life does not end the episode (terminal_on_life_loss=False): the return is the game's.
    max_episode_steps: truncate episodes after this many agent steps (each 4 frames); None keeps
    ALE's own limit of 108,000 frames (27,000 agent steps, 30 minutes of play).
    """
    _register_ale()
    kwargs = {"render_mode": render_mode} if render_mode is not None else {}
    env = gym.make(env_id, frameskip=1, **kwargs)  # AtariPreprocessing does the frame skipping
    env = AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84, terminal_on_life_loss=False,
                             grayscale_obs=True, scale_obs=False)
    env = FrameStackObservation(env, frame_stack)
    if max_episode_steps is not None:
        env = TimeLimit(env, max_episode_steps)
    if seed is not None:
        seed_env(env, seed)
    return env


def make_atari_vector_env(env_id: str, num_envs: int, seed: int | None = None, frame_stack: int = FRAME_STACK,
                          max_episode_steps: int | None = None) -> VectorEnv:
    """`num_envs` Atari envs in a SAME_STEP SyncVectorEnv (see common.envs); copy i gets seed + i."""
    env = SyncVectorEnv([lambda: make_atari_env(env_id, frame_stack=frame_stack, max_episode_steps=max_episode_steps)
                         for _ in range(num_envs)],
                        autoreset_mode=AUTORESET_MODE)
    if seed is not None:
        seed_env(env, seed)
    return env


def stack_frames(frames: np.ndarray, positions: np.ndarray, newest: np.ndarray, frame_stack: int) -> np.ndarray:
    """The stacked observations that end at ring slots `newest`, rebuilt from one env's ring of frames.

    frames:      (S, H, W) uint8, one env's ring: each slot holds one frame, written in the order the
                 env produced them; after slot S - 1 the writing goes on at slot 0 (slot -1 is S - 1).
    positions:   (S,) int64, positions[s] = env steps between the reset of the episode that frame s
                 belongs to and that frame (0: the reset frame itself; -1: an empty slot).
    newest:      (B,) int64, the slot of the newest frame of each stack to rebuild.
    frame_stack: k, the number of frames per stack.
    Returns (B, k, H, W) uint8, oldest frame first, as FrameStackObservation gives them: row b is
    frames[newest[b] - k + 1], ..., frames[newest[b] - 1], frames[newest[b]] (slots wrap around),
    except that a stack never reaches into the previous episode: with p = positions[newest[b]], the
    frames more than p steps back are replaced by the episode's reset frame frames[newest[b] - p]
    (FrameStackObservation pads the first k - 1 observations of an episode with its reset frame).
    Example, k = 4: p = 1 gives [reset, reset, reset, frame 1]; p >= 3 gives the last 4 frames.
    Every stack asked for is whole in the ring (the caller never asks for overwritten frames).
    """
    # BEGIN SOLUTION (README 4.2)
    steps_back = np.arange(frame_stack - 1, -1, -1)  # k - 1, ..., 1, 0 steps before the newest frame
    steps_back = np.minimum(steps_back[None, :], positions[newest][:, None])  # not before the reset frame
    return frames[(newest[:, None] - steps_back) % len(frames)]
    # END SOLUTION


class FrameReplayBuffer:
    """The last ~`capacity` transitions of stacked-frame observations, one stored frame per transition.

    Use it like common.replay_buffer.ReplayBuffer: `add_batch(transitions)` with the flat,
    time-major batches of common.rollouts.StepSampler ([t0 env0, t0 env1, ..., t1 env0, ...]) and
    `sample(batch_size, rng)` -> Transitions with observations (B, stack, H, W) uint8.
    capacity is split evenly between the num_envs rings.
    """

    def __init__(self, capacity: int, num_envs: int = 1, frame_shape: tuple[int, int] = (84, 84),
                 frame_stack: int = FRAME_STACK):
        if capacity < num_envs * (frame_stack + 2):
            raise ValueError(f"capacity {capacity} is too small for {num_envs} envs of {frame_stack}-frame stacks")
        self.num_envs, self.frame_stack = num_envs, frame_stack
        self.slots = capacity // num_envs  # per env
        self.frames = np.zeros((num_envs, self.slots, *frame_shape), dtype=np.uint8)
        self.position = np.full((num_envs, self.slots), -1, dtype=np.int64)  # -1: empty slot
        self.actions = np.zeros((num_envs, self.slots), dtype=np.int64)
        self.rewards = np.zeros((num_envs, self.slots), dtype=np.float32)
        self.terminated = np.zeros((num_envs, self.slots), dtype=bool)
        self.truncated = np.zeros((num_envs, self.slots), dtype=bool)
        self.write = np.zeros(num_envs, dtype=np.int64)   # next slot each env writes
        self.written = np.zeros(num_envs, dtype=np.int64)  # slots written so far (not capped)
        self._episode_over = np.ones(num_envs, dtype=bool)  # the next transition starts an episode

    def __len__(self) -> int:
        """Transitions that can be sampled (the reset frames are not transitions)."""
        return int(sum(np.count_nonzero(self.position[i] > 0) for i in range(self.num_envs)))

    def add_batch(self, transitions: Transitions) -> None:
        """Store transitions from a time-major batch of num_envs transitions per time step."""
        n = len(transitions)
        if n % self.num_envs:
            raise ValueError(f"a batch of {n} transitions does not split into steps of {self.num_envs} envs")
        expected = (self.frame_stack, *self.frames.shape[2:])
        if transitions.observations.shape[1:] != expected:
            raise ValueError(f"observations must be stacks of shape {expected}, got {transitions.observations.shape[1:]}")
        for j in range(n):
            i = j % self.num_envs
            if self._episode_over[i]:  # the observation is a fresh reset: keep its frame as the episode's first
                self._put(i, transitions.observations[j, -1], position=0)
            previous = self.position[i, (self.write[i] - 1) % self.slots]
            slot = self._put(i, transitions.next_observations[j, -1], position=previous + 1)
            self.actions[i, slot] = transitions.actions[j]
            self.rewards[i, slot] = transitions.rewards[j]
            self.terminated[i, slot] = transitions.terminated[j]
            self.truncated[i, slot] = transitions.truncated[j]
            self._episode_over[i] = transitions.terminated[j] or transitions.truncated[j]

    def _put(self, env: int, frame: np.ndarray, position: int) -> int:
        slot = self.write[env]
        self.frames[env, slot] = frame
        self.position[env, slot] = position
        self.write[env] = (slot + 1) % self.slots
        self.written[env] += 1
        return slot

    def _stack(self, envs: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """(B, stack, H, W): the stacks whose newest frames are frames[envs, slots] (see stack_frames)."""
        stacks = np.empty((len(envs), self.frame_stack, *self.frames.shape[2:]), dtype=np.uint8)
        for env in np.unique(envs):
            mine = envs == env
            stacks[mine] = stack_frames(self.frames[env], self.position[env], slots[mine], self.frame_stack)
        return stacks

    def _valid(self, envs: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """Slots that hold a transition whose whole observation stack is still stored."""
        positions = self.position[envs, slots]
        age = (self.write[envs] - 1 - slots) % self.slots  # 0: the newest slot
        live = np.minimum(self.written[envs], self.slots)
        oldest_needed = age + np.minimum(positions, self.frame_stack)
        return (positions > 0) & (oldest_needed < live)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Transitions:
        """`batch_size` transitions drawn uniformly (with replacement) among the valid ones."""
        if len(self) == 0:
            raise ValueError("cannot sample from an empty replay buffer: add transitions first")
        envs, slots = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        while len(envs) < batch_size:  # rejection: almost every slot is valid, so this loops once or twice
            e = rng.integers(0, self.num_envs, size=2 * batch_size)
            s = rng.integers(0, np.maximum(np.minimum(self.written[e], self.slots), 1))
            keep = self._valid(e, s)
            envs, slots = np.concatenate([envs, e[keep]]), np.concatenate([slots, s[keep]])
        envs, slots = envs[:batch_size], slots[:batch_size]
        return Transitions(  # s ends one slot before s' (same episode: the slot's position is > 0)
            observations=self._stack(envs, (slots - 1) % self.slots),
            actions=self.actions[envs, slots],
            rewards=self.rewards[envs, slots],
            next_observations=self._stack(envs, slots),
            terminated=self.terminated[envs, slots],
            truncated=self.truncated[envs, slots],
        )

    _ARRAYS = ("frames", "position", "actions", "rewards", "terminated", "truncated", "write", "written")

    def save(self, path: str | Path) -> Path:
        """Write the whole buffer to an .npz file (".npz" is appended when missing); returns the path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        np.savez(path, frame_stack=self.frame_stack, **{name: getattr(self, name) for name in self._ARRAYS})
        return path

    @classmethod
    def load(cls, path: str | Path) -> FrameReplayBuffer:
        """Read a buffer written by `save`; the next transitions added are taken to start new episodes."""
        with np.load(path, allow_pickle=False) as data:
            frames = data["frames"]
            num_envs, slots = frames.shape[:2]
            buffer = cls(num_envs * slots, num_envs, frames.shape[2:], int(data["frame_stack"]))
            for name in cls._ARRAYS:
                setattr(buffer, name, data[name].copy())
        return buffer
