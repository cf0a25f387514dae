"""Collecting experience: whole trajectories (on-policy methods) and single steps (off-policy).

A policy is any callable that maps a batch of observations to a batch of actions, both numpy:

    policy(observations: (N, *obs_shape)) -> actions: (N, *action_shape)

With one env N = 1; with a vector env N = num_envs. Everything returned here is plain numpy.

End of an episode. Gymnasium separates two reasons:
* `terminated`: the MDP reached a terminal state (the pole fell, the lander crashed). No reward
  follows, so the value of the final observation is 0 and a target is r_t, not r_t + gamma V(s_{t+1}).
* `truncated`: the episode was cut by a time limit. The state was not terminal, so a target still
  bootstraps: r_t + gamma V(s_{t+1}), using the true final observation s_{t+1}.
Both flags are kept apart in every batch, and `next_observations` always holds the true s_{t+1},
also at the last step of an episode (never the first observation of the next episode). Both can be
True on the same step (a time limit reached on a terminal step, as with Gymnasium's TimeLimit);
`terminated` then decides: bootstrap with mask (1 - terminated).

Vector envs must reset sub-environments in SAME_STEP mode; common.envs.make_vector_env builds
them so and explains why.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv

from common.envs import check_autoreset_mode, is_vector_env

Policy = Callable[[np.ndarray], np.ndarray]


@dataclass
class Transitions:
    """A batch of N transitions (s_t, a_t, r_t, s_{t+1}), in no particular episode structure.

    observations: (N, *obs_shape)       s_t
    actions: (N, *action_shape)         a_t
    rewards: (N,) float32               r_t
    next_observations: (N, *obs_shape)  s_{t+1}, the true one also where an episode ended
    terminated: (N,) bool               s_{t+1} is terminal: do not bootstrap from it
    truncated: (N,) bool                the episode was cut by a time limit after this step
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray

    def __post_init__(self) -> None:
        self.rewards = np.asarray(self.rewards, dtype=np.float32)
        self.terminated = np.asarray(self.terminated, dtype=bool)
        self.truncated = np.asarray(self.truncated, dtype=bool)
        if self.rewards.ndim != 1:
            raise ValueError(f"rewards must be 1-D (N,), got shape {self.rewards.shape}")
        for name in TRANSITION_FIELDS:
            value = getattr(self, name)
            if len(value) != len(self.rewards):
                raise ValueError(
                    f"{name} has {len(value)} entries but rewards has {len(self.rewards)}: "
                    "every field holds one entry per transition"
                )
        if self.observations.shape != self.next_observations.shape:
            raise ValueError(
                f"next_observations has shape {self.next_observations.shape} but observations has "
                f"{self.observations.shape}: they must match"
            )

    def __len__(self) -> int:
        return len(self.rewards)


# The field names, in order; subclasses (StepBatch) add fields that do not hold one entry per transition.
TRANSITION_FIELDS = tuple(f.name for f in fields(Transitions))


@dataclass
class Trajectory(Transitions):
    """One whole episode of T steps, in order: the fields of Transitions with N = T.

    Only the last step can be terminated or truncated (from the samplers, at least one of them is:
    the episode is complete; both are when a time limit hits a terminal step, and then
    `terminated` wins: no bootstrap). next_observations[t] == observations[t + 1] for t < T - 1, and
    next_observations[-1] is the true final observation.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self) == 0:
            raise ValueError("a trajectory needs at least one step")
        if self.terminated[:-1].any() or self.truncated[:-1].any():
            raise ValueError(
                "only the last step of a trajectory can be terminated or truncated: make one Trajectory "
                "per episode, or use Transitions for steps from several episodes"
            )

    @property
    def episode_return(self) -> float:
        """The undiscounted return sum_t r_t of the episode."""
        return float(self.rewards.sum(dtype=np.float64))


@dataclass
class StepBatch(Transitions):
    """What StepSampler.sample returns: N transitions, plus the episodes that ended among them.

    episode_returns: (E,) float64  undiscounted return of each episode that ended in this batch
                                   (its first steps may have been sampled by earlier calls)
    episode_lengths: (E,) int64    their lengths in steps
    """

    episode_returns: np.ndarray
    episode_lengths: np.ndarray


def concatenate(batches: Sequence[Transitions]) -> Transitions:
    """Stack trajectories (or any batches) into one Transitions, in order, along the first axis."""
    if not batches:
        raise ValueError("nothing to concatenate: got an empty list of batches")
    return Transitions(
        **{name: np.concatenate([getattr(b, name) for b in batches]) for name in TRANSITION_FIELDS}
    )


def random_policy(env: gym.Env | VectorEnv) -> Policy:
    """A policy that picks uniformly random actions from the env's action space.

    It draws from the space's own generator, which common.envs.make_env seeds.
    Use it, e.g., to fill a replay buffer before learning starts.
    """
    space = env.single_action_space if is_vector_env(env) else env.action_space
    return lambda observations: np.stack([np.asarray(space.sample()) for _ in range(len(observations))])


# ---------------------------------------------------------------------------------------------
# Whole trajectories
# ---------------------------------------------------------------------------------------------


def sample_trajectory(env: gym.Env, policy: Policy, max_episode_steps: int | None = None) -> Trajectory:
    """Run one episode in a single env: reset, then step until terminated or truncated.

    max_episode_steps: cut the episode after this many steps, on top of any time limit the env
        has itself. As with Gymnasium's TimeLimit, the last step is then marked truncated (and
        also terminated if the env terminated on that very step).
    """
    observation = np.array(env.reset()[0])
    episode = _EpisodeRecorder()
    while True:
        action = _act(policy, observation[None], 1)[0]
        next_observation, reward, terminated, truncated, _ = env.step(action)
        # A copy, in case the env hands out one array that it updates in place.
        next_observation = np.array(next_observation)
        episode.add(observation, action, reward, next_observation)
        if max_episode_steps is not None and len(episode) >= max_episode_steps:
            truncated = True
        if terminated or truncated:
            return episode.to_trajectory(terminated, truncated)
        observation = next_observation


def sample_trajectories(
    env: gym.Env | VectorEnv,
    policy: Policy,
    min_steps: int | None = None,
    num_trajectories: int | None = None,
    max_episode_steps: int | None = None,
) -> list[Trajectory]:
    """Collect whole episodes with `policy`, from one env or a vector env. Give exactly one of:

    num_trajectories: collect this many episodes.
    min_steps: collect episodes until they hold at least this many steps in total (the last
        episode is finished, so there are usually a few more).

    The env is reset first; every returned trajectory runs from a reset to its end.
    max_episode_steps: cut episodes after this many steps (marked truncated).

    With a vector env, an episode is collected when it *starts* while more data is still wanted;
    the call then waits for every collected episode to end and drops the steps of the others.
    Choosing episodes by their start, never by their end, avoids favouring short episodes (taking
    the first N episodes to *finish* would), and gives the same rule as one env run N times.
    """
    if (min_steps is None) == (num_trajectories is None):
        raise ValueError(
            "give exactly one of min_steps and num_trajectories, e.g. min_steps=1000 for a training "
            "batch or num_trajectories=10 for an evaluation"
        )
    quota = _Quota(min_steps, num_trajectories)
    if is_vector_env(env):
        return _sample_trajectories_vector(env, policy, quota, max_episode_steps)
    trajectories = []
    while quota.admit_episode():
        trajectories.append(sample_trajectory(env, policy, max_episode_steps))
        quota.count_steps(len(trajectories[-1]))
    return trajectories


def _sample_trajectories_vector(
    env: VectorEnv, policy: Policy, quota: _Quota, max_episode_steps: int | None
) -> list[Trajectory]:
    check_autoreset_mode(env)
    num_envs = env.num_envs
    observations = env.reset()[0]
    episodes = [_EpisodeRecorder() for _ in range(num_envs)]
    # recording[i]: the episode now running in env i is wanted (a list: faster than numpy here).
    recording = [quota.admit_episode() for _ in range(num_envs)]
    episode_lengths = np.zeros(num_envs, dtype=np.int64)
    trajectories = []
    while any(recording):
        actions = _act(policy, observations, num_envs)
        next_observations, new_observations, rewards, terminated, truncated = _step_vector(env, actions)
        episode_lengths += 1
        if max_episode_steps is not None:
            at_limit = episode_lengths >= max_episode_steps
            cut = at_limit & ~(terminated | truncated)  # episodes the env itself would continue
            truncated = truncated | at_limit  # like Gymnasium's TimeLimit, also on a terminal step
            if cut.any():
                # Reset those copies only; the others have been reset by the env already.
                new_observations = env.reset(options={"reset_mask": cut})[0]
        for i in range(num_envs):
            if recording[i]:
                episodes[i].add(observations[i], actions[i], rewards[i], next_observations[i])
        quota.count_steps(sum(recording))
        for i in np.flatnonzero(terminated | truncated):
            if recording[i]:
                trajectories.append(episodes[i].to_trajectory(terminated[i], truncated[i]))
                episodes[i] = _EpisodeRecorder()
            recording[i] = quota.admit_episode()
            episode_lengths[i] = 0
        observations = new_observations
    return trajectories


class _Quota:
    """Decides whether an episode about to start is still wanted (see sample_trajectories)."""

    def __init__(self, min_steps: int | None, num_trajectories: int | None):
        self.min_steps = min_steps
        self.num_trajectories = num_trajectories
        self.episodes_admitted = 0
        self.steps_recorded = 0

    def admit_episode(self) -> bool:
        if self.num_trajectories is not None:
            wanted = self.episodes_admitted < self.num_trajectories
        else:
            wanted = self.steps_recorded < self.min_steps
        self.episodes_admitted += wanted
        return wanted

    def count_steps(self, steps: int) -> None:
        self.steps_recorded += steps


class _EpisodeRecorder:
    """The steps (s_t, a_t, r_t, s_{t+1}) of one episode in progress, in a Python list (appending is cheap)."""

    def __init__(self) -> None:
        self.steps: list[tuple[np.ndarray, np.ndarray, float, np.ndarray]] = []

    def __len__(self) -> int:
        return len(self.steps)

    def add(self, observation, action, reward, next_observation) -> None:
        self.steps.append((observation, action, reward, next_observation))

    def to_trajectory(self, terminated: bool, truncated: bool) -> Trajectory:
        observations, actions, rewards, next_observations = zip(*self.steps)
        is_last_step = np.arange(len(self)) == len(self) - 1
        return Trajectory(
            observations=np.stack(observations),
            actions=np.stack(actions),
            rewards=np.asarray(rewards, dtype=np.float32),
            next_observations=np.stack(next_observations),
            terminated=is_last_step & bool(terminated),
            truncated=is_last_step & bool(truncated),
        )


# ---------------------------------------------------------------------------------------------
# Single steps
# ---------------------------------------------------------------------------------------------


class StepSampler:
    """Steps an env (one or a vector env) a few steps at a time, carrying on between calls.

    Off-policy algorithms alternate "take some steps, store them, learn": the sampler keeps the
    current observation(s) between calls and resets episodes as they end, so episodes simply
    continue across calls. Give it its own env (sample_trajectories resets the env it is given).

        sampler = StepSampler(make_vector_env("HalfCheetah-v5", 4, seed=0))
        batch = sampler.sample(policy, num_steps=4)   # one step of each of the 4 envs
        buffer.add_batch(batch)
        for episode_return in batch.episode_returns: ...  # log train_return
    """

    def __init__(self, env: gym.Env | VectorEnv):
        self.env = env
        if is_vector_env(env):
            check_autoreset_mode(env)
            self.num_envs = env.num_envs
            self._observations = env.reset()[0]
        else:
            self.num_envs = 1
            self._observations = np.array(env.reset()[0])[None]
        self._episode_returns = np.zeros(self.num_envs, dtype=np.float64)  # of the episodes in progress
        self._episode_lengths = np.zeros(self.num_envs, dtype=np.int64)
        self.total_steps = 0  # transitions sampled so far, over all envs

    def sample(self, policy: Policy, num_steps: int) -> StepBatch:
        """Take `num_steps` transitions in total: num_steps / num_envs steps of every env.

        The batch is flat and time-major: [t0 env0, t0 env1, ..., t1 env0, ...].
        """
        if num_steps < 1 or num_steps % self.num_envs:
            raise ValueError(
                f"num_steps must be a positive multiple of num_envs={self.num_envs}, got {num_steps}"
            )
        steps: list[Transitions] = []  # one entry per time step, num_envs transitions each
        finished_returns: list[np.ndarray] = []
        finished_lengths: list[np.ndarray] = []
        for _ in range(num_steps // self.num_envs):
            actions = _act(policy, self._observations, self.num_envs)
            next_observations, new_observations, rewards, terminated, truncated = self._step(actions)
            steps.append(Transitions(self._observations, actions, rewards, next_observations, terminated, truncated))
            self._episode_returns += rewards
            self._episode_lengths += 1
            ended = terminated | truncated
            if ended.any():
                finished_returns.append(self._episode_returns[ended])
                finished_lengths.append(self._episode_lengths[ended])
                self._episode_returns[ended] = 0.0
                self._episode_lengths[ended] = 0
            self._observations = new_observations
        self.total_steps += num_steps
        batch = concatenate(steps)
        return StepBatch(
            **{name: getattr(batch, name) for name in TRANSITION_FIELDS},
            episode_returns=np.concatenate(finished_returns or [np.zeros(0)]),
            episode_lengths=np.concatenate(finished_lengths or [np.zeros(0, dtype=np.int64)]),
        )

    def _step(self, actions: np.ndarray):
        if is_vector_env(self.env):
            return _step_vector(self.env, actions)
        return _step_single(self.env, actions)


# ---------------------------------------------------------------------------------------------
# Shared by both samplers
# ---------------------------------------------------------------------------------------------


def _act(policy: Policy, observations: np.ndarray, num_envs: int) -> np.ndarray:
    """policy(observations (num_envs, *obs_shape)) -> actions (num_envs, *action_shape), checked."""
    actions = policy(observations)
    if not isinstance(actions, np.ndarray) or actions.shape[:1] != (num_envs,):
        described = f"shape {actions.shape}" if isinstance(actions, np.ndarray) else type(actions).__name__
        raise ValueError(
            f"policy must return a numpy array with one action per observation, shape "
            f"({num_envs}, *action_shape); got {described}"
        )
    return actions


def _step_vector(env: VectorEnv, actions: np.ndarray):
    """Step a SAME_STEP vector env.

    Returns (next_observations, observations, rewards, terminated, truncated), each with a leading
    axis of num_envs: next_observations[i] is the s_{t+1} that env i reached (its final observation
    where the episode ended), and observations[i] is where env i goes on from (the first observation
    of a new episode there). rewards are float32, terminated and truncated bool.
    """
    observations, rewards, terminated, truncated, infos = env.step(actions)
    next_observations = observations
    if "_final_obs" in infos:
        next_observations = observations.copy()
        for i in np.flatnonzero(infos["_final_obs"]):
            next_observations[i] = infos["final_obs"][i]
    return next_observations, observations, rewards.astype(np.float32), terminated, truncated


def _step_single(env: gym.Env, actions: np.ndarray):
    """Step one env as if it were a SAME_STEP vector env of size 1 (same returns as _step_vector)."""
    observation, reward, terminated, truncated, _ = env.step(actions[0])
    # A copy, in case the env hands out one array that it updates in place.
    next_observations = np.array(observation)[None]
    observations = next_observations
    if terminated or truncated:
        observations = np.array(env.reset()[0])[None]
    return (
        next_observations,
        observations,
        np.array([reward], dtype=np.float32),
        np.array([terminated]),
        np.array([truncated]),
    )
