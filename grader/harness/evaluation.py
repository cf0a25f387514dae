"""Evaluate a student's policy in the harness's own environments.

The harness owns the environments, the seeds and the rewards: the worker only ever sees a batch of
observations and answers with a batch of actions, so it cannot patch `env.step`, rewards or seeding.
"""
from __future__ import annotations

import numpy as np


def make_env(env_id: str, seed: int, max_episode_steps: int | None = None):
    """The course's `common.envs.make_env` when it exists, else plain Gymnasium."""
    try:
        from common.envs import make_env as course_make_env
    except ImportError:
        course_make_env = None
    if course_make_env is not None:
        env = course_make_env(env_id, seed=seed, max_episode_steps=max_episode_steps)
    else:
        import gymnasium as gym
        env = gym.make(env_id, max_episode_steps=max_episode_steps)
        env.action_space.seed(seed)
    return env


def evaluate_policy(submission, policy, env_id: str, episodes: int = 10, seed: int = 0,
                    max_episode_steps: int | None = None, method: str = "act") -> np.ndarray:
    """Undiscounted return of one episode in each of `episodes` environments seeded seed, seed+1, ...

    All environments step in lockstep; at every step the observations of the environments still
    running are sent as one batch (N, *obs_shape) to `policy.<method>`. Returns (episodes,) float64.
    An action outside the action space fails the test with a message.
    """
    envs = [make_env(env_id, seed + i, max_episode_steps) for i in range(episodes)]
    try:
        observations = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
        returns = np.zeros(episodes)
        running = list(range(episodes))
        while running:
            batch = np.stack([observations[i] for i in running]).astype(np.float32)
            actions = submission.act(policy, batch, method=method)
            still_running = []
            for i, action in zip(running, actions):
                action = _checked_action(envs[i].action_space, action)
                observations[i], reward, terminated, truncated, _ = envs[i].step(action)
                returns[i] += float(reward)
                if not (terminated or truncated):
                    still_running.append(i)
            running = still_running
        return returns
    finally:
        for env in envs:
            env.close()


def _checked_action(space, action):
    import gymnasium as gym
    action = np.asarray(action)
    if isinstance(space, gym.spaces.Discrete):
        if action.size != 1 or not np.isfinite(action).all() or float(action) != int(action):
            raise AssertionError(f"the policy returned {action!r}; expected an integer action in [0, {space.n})")
        action = int(action)
        if not space.contains(action):
            raise AssertionError(f"the policy returned action {action}; expected an integer in [0, {space.n})")
        return action
    action = action.astype(space.dtype).reshape(space.shape)
    if not np.all(np.isfinite(action)):
        raise AssertionError("the policy returned NaN or inf actions")
    return np.clip(action, space.low, space.high)
