"""Making environments: Gymnasium ids and the course's own envs, single or vectorized, seeded.

Seeding. `make_env(..., seed=s)` calls `env.reset(seed=s)` and seeds the action and observation
spaces once, right away. Every later `env.reset()` (without a seed) continues that random stream,
so two envs made with the same seed and driven by the same actions produce identical episodes.
The samplers in common.rollouts therefore call `reset()` without a seed. `make_vector_env` does
the same for its sub-environments, which get seeds `s, s + 1, ..., s + num_envs - 1`.

Vector envs and the end of an episode. A vector env resets a sub-environment by itself when its
episode ends ("autoreset"). Gymnasium 1.x offers three modes, and its default changed the meaning
of the step API compared with 0.29 (code written for 0.29 reads `info["final_observation"]`, which
no longer exists):

* NEXT_STEP (Gymnasium's default): the step that ends an episode returns the true final
  observation; the *next* call to `step` resets that sub-environment, ignores its action and
  returns reward 0. A sampler must then recognise and drop these reset steps, and it spends a
  policy evaluation on an action that is thrown away.
* SAME_STEP (used here): the step that ends an episode resets the sub-environment at once. The
  returned observation is already the first one of the next episode, and the true final
  observation is in `info["final_obs"][i]` (with `info["_final_obs"][i]` True). Every step
  is a real transition of every sub-environment, which keeps the samplers simple: the transition's
  next observation is `final_obs` where an episode ended and the returned observation elsewhere.
* DISABLED: the caller resets sub-environments by hand.

`make_vector_env` always builds SAME_STEP vector envs, and common.rollouts refuses any other mode
(a NEXT_STEP env would silently mix reset steps into the data).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv

AUTORESET_MODE = AutoresetMode.SAME_STEP


def make_env(
    env_id: str,
    seed: int | None = None,
    max_episode_steps: int | None = None,
    render_mode: str | None = None,
    **kwargs: Any,
) -> gym.Env:
    """Create one environment by its id, seeded when `seed` is given.

    env_id: a Gymnasium id ("CartPole-v1", "HalfCheetah-v5", ...) or one registered with
        `register_project_env`.
    max_episode_steps: episodes longer than this are truncated (Gymnasium's TimeLimit wrapper);
        None keeps the id's own limit (1000 for MuJoCo tasks, 500 for CartPole-v1).
    render_mode: None, "rgb_array" (frames for videos) or "human" (a window).
    kwargs: passed to the environment's constructor (e.g. `continuous=True` for LunarLander-v3).
    """
    if render_mode is not None:  # only then: an env without rendering may not accept the argument
        kwargs["render_mode"] = render_mode
    env = gym.make(env_id, max_episode_steps=max_episode_steps, **kwargs)
    if seed is not None:
        seed_env(env, seed)
    return env


def seed_env(env: gym.Env | VectorEnv, seed: int) -> None:
    """Seed the environment's dynamics (through reset) and the random sampling of its spaces.

    For a vector env, sub-environment i gets seed `seed + i`.
    """
    env.reset(seed=seed)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    if isinstance(env, VectorEnv):
        env.single_action_space.seed(seed)
        env.single_observation_space.seed(seed)


def make_vector_env(
    env_id: str,
    num_envs: int,
    seed: int | None = None,
    asynchronous: bool = False,
    **kwargs: Any,
) -> VectorEnv:
    """Create `num_envs` copies of an environment behind one batched interface.

    Observations, rewards, terminated and truncated come back with a leading axis of size
    `num_envs`, and `step` takes actions with that leading axis. The env resets sub-environments
    in SAME_STEP mode (see the module docstring): when episode i ends, the returned observation
    i is already the first one of its next episode and `info["final_obs"][i]` holds the last one.

    asynchronous: False runs the copies one after another in this process (SyncVectorEnv: best
        for cheap envs and few cores); True runs each in its own process (AsyncVectorEnv: pays
        off when one step costs much more than the inter-process communication).
    kwargs: passed to `make_env` for every copy (max_episode_steps, render_mode, constructor args).
    """
    if num_envs < 1:
        raise ValueError(f"num_envs must be at least 1, got {num_envs}")
    env_fns = [functools.partial(make_env, env_id, **kwargs) for _ in range(num_envs)]
    vector_class = AsyncVectorEnv if asynchronous else SyncVectorEnv
    env = vector_class(env_fns, autoreset_mode=AUTORESET_MODE)
    if seed is not None:
        seed_env(env, seed)
    return env


def register_project_env(env_id: str, entry_point: Callable[..., gym.Env] | str, **kwargs: Any) -> None:
    """Make one of the course's own environments available to `make_env` under `env_id`.

    entry_point: the env class (or any callable returning an env), or "package.module:ClassName".
    kwargs: passed to `gymnasium.register`, e.g. `max_episode_steps=200` or
        `kwargs={"goal": 3.0}` (constructor arguments).
    Registering the same id again with the same entry point does nothing, so a homework module
    can register its envs at import time.

    The env's `step` and `reset` must return a new observation array each time. Gymnasium's vector
    envs keep a reference to the final observation, `info["final_obs"]`, and then reset: an env
    that updated one array in place would overwrite it with the next episode's first observation.
    """
    existing = gym.registry.get(env_id)
    if existing is not None:
        if existing.entry_point == entry_point:
            return
        raise ValueError(
            f"env id {env_id!r} is already registered with entry point {existing.entry_point!r}: "
            "choose another id"
        )
    gym.register(id=env_id, entry_point=entry_point, **kwargs)


def is_vector_env(env: gym.Env | VectorEnv) -> bool:
    """True for a gymnasium.vector env (batched API), False for a single env."""
    return isinstance(env, VectorEnv)


def check_autoreset_mode(env: VectorEnv) -> None:
    """Raise ValueError unless the vector env resets sub-environments in SAME_STEP mode."""
    mode = env.metadata.get("autoreset_mode")
    if mode != AUTORESET_MODE:
        raise ValueError(
            f"vector env has autoreset mode {mode}, but common.rollouts needs {AUTORESET_MODE} "
            "(see common/envs.py): create it with common.envs.make_vector_env, or pass "
            "autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP"
        )
