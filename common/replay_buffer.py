"""A replay buffer: the last `capacity` transitions, in preallocated numpy arrays.

Storage is a ring: transition k (counting from the first ever added) lives at index k % capacity,
so once the buffer is full each new transition overwrites the oldest one. Inserting is O(1) per
transition and sampling is uniform over the transitions held:

    i_1, ..., i_B ~ Uniform{0, ..., len(buffer) - 1}   (with replacement)

Both `terminated` and `truncated` are stored (see common.rollouts): a Q-learning target is
r + gamma * (1 - terminated) * max_a' Q(s', a'), where s' is the true next observation also when
the episode was truncated.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.rollouts import TRANSITION_FIELDS, Transitions

_FORMAT_VERSION = 1


class ReplayBuffer:
    """The last `capacity` transitions (s, a, r, s', terminated, truncated).

    obs_shape, action_shape: the shape of ONE observation / action, e.g. (17,) and (6,) for
        HalfCheetah, (4,) and () for CartPole (a discrete action is a scalar).
    obs_dtype, action_dtype: storage types; use np.int64 for discrete actions and np.uint8 for
        images. Values added must convert to them without changing kind: float64 observations go
        into a float32 buffer, but float actions into an integer buffer raise ValueError.

    Arrays (index = slot): observations (capacity, *obs_shape), actions (capacity, *action_shape),
    rewards (capacity,) float32, next_observations (capacity, *obs_shape), terminated (capacity,)
    bool, truncated (capacity,) bool. Slots [0, len(buffer)) hold data; `position` is the slot the
    next transition goes to.
    """

    def __init__(
        self,
        capacity: int,
        obs_shape: Sequence[int],
        action_shape: Sequence[int],
        obs_dtype: np.typing.DTypeLike = np.float32,
        action_dtype: np.typing.DTypeLike = np.float32,
    ):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = int(capacity)
        self.observations = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros((capacity, *action_shape), dtype=action_dtype)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.next_observations = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.terminated = np.zeros(capacity, dtype=bool)
        self.truncated = np.zeros(capacity, dtype=bool)
        self.position = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, observation, action, reward, next_observation, terminated, truncated) -> None:
        """Store one transition, overwriting the oldest one when the buffer is full.

        observation, next_observation: obs_shape; action: action_shape; reward: a number;
        terminated, truncated: bools.
        """
        values = (observation, action, reward, next_observation, terminated, truncated)
        # Check every field before writing any, so that a bad call leaves the buffer untouched.
        checked = [
            self._checked(name, value, leading_shape=()) for name, value in zip(TRANSITION_FIELDS, values)
        ]
        for name, value in zip(TRANSITION_FIELDS, checked):
            getattr(self, name)[self.position] = value
        self.position = (self.position + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def add_batch(self, transitions: Transitions) -> None:
        """Store N transitions in order, exactly as N calls to `add` would, in one vectorized copy.

        When the end of the arrays is reached in the middle of the batch, the rest goes to the
        start; when N > capacity, only the last `capacity` transitions remain.
        """
        n = len(transitions)
        values = {
            name: self._checked(name, getattr(transitions, name), leading_shape=(n,))
            for name in TRANSITION_FIELDS
        }
        # Transitions that would be overwritten within this same batch are never written.
        kept = min(n, self.capacity)
        start = (self.position + n - kept) % self.capacity
        first_part = min(kept, self.capacity - start)  # slots before the end of the arrays
        for name, value in values.items():
            value = value[n - kept :]
            storage = getattr(self, name)
            storage[start : start + first_part] = value[:first_part]
            storage[: kept - first_part] = value[first_part:]
        self.position = (self.position + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Transitions:
        """`batch_size` transitions drawn uniformly, with replacement, using `rng` (N = batch_size)."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer: add transitions first")
        indices = rng.integers(0, self.size, size=batch_size)
        return Transitions(**{name: getattr(self, name)[indices] for name in TRANSITION_FIELDS})

    def save(self, path: str | Path) -> Path:
        """Write the buffer to an .npz file (".npz" is appended when missing); returns the path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        # Only slots [0, size) hold data: when the buffer is not full, size == position.
        arrays = {name: getattr(self, name)[: self.size] for name in TRANSITION_FIELDS}
        np.savez(
            path,
            format_version=_FORMAT_VERSION,
            capacity=self.capacity,
            position=self.position,
            size=self.size,
            **arrays,
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> ReplayBuffer:
        """Read a buffer written by `save`: same capacity, contents, size and insert position."""
        expected_keys = {"format_version", "capacity", "position", "size", *TRANSITION_FIELDS}
        with np.load(path, allow_pickle=False) as data:
            missing = expected_keys - set(data.files)
            if missing:
                raise ValueError(f"{path} is not a saved ReplayBuffer: missing {sorted(missing)}")
            version = int(data["format_version"])
            if version != _FORMAT_VERSION:
                raise ValueError(f"{path} has format version {version}, expected {_FORMAT_VERSION}")
            capacity, position, size = int(data["capacity"]), int(data["position"]), int(data["size"])
            if not (0 <= position < capacity and 0 <= size <= capacity):
                raise ValueError(f"{path}: position {position} and size {size} do not fit capacity {capacity}")
            observations, actions = data["observations"], data["actions"]
            buffer = cls(capacity, observations.shape[1:], actions.shape[1:], observations.dtype, actions.dtype)
            for name in TRANSITION_FIELDS:
                getattr(buffer, name)[:size] = buffer._checked(name, data[name], leading_shape=(size,))
        buffer.position, buffer.size = position, size
        return buffer

    def _checked(self, name: str, value, leading_shape: tuple[int, ...]) -> np.ndarray:
        """`value` as an array, after checking that it fits the field `name` (else ValueError)."""
        value = np.asarray(value)
        storage = getattr(self, name)
        expected_shape = (*leading_shape, *storage.shape[1:])
        if value.shape != expected_shape:
            raise ValueError(f"{name}: expected shape {expected_shape}, got {value.shape}")
        if not np.can_cast(value.dtype, storage.dtype, casting="same_kind"):
            raise ValueError(
                f"{name}: expected dtype {storage.dtype} (or one of the same kind), got {value.dtype}"
            )
        return value
