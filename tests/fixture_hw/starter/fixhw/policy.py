"""A linear policy trained by random search on CartPole (the fixture's smoke-training part)."""
import gymnasium as gym
import numpy as np


class LinearPolicy:
    """pi(s) = argmax_a (s W)_a with W: (obs_dim, n_actions)."""

    def __init__(self, obs_dim: int, n_actions: int, seed: int = 0):
        self.weights = np.random.default_rng(seed).normal(size=(obs_dim, n_actions)).astype(np.float32)

    def set_weights(self, weights: np.ndarray) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)

    def act(self, observations: np.ndarray) -> np.ndarray:
        """observations: (N, obs_dim) -> actions: (N,) int64."""
        raise NotImplementedError("TODO(fixhw)")


def episode_return(policy: LinearPolicy, env: gym.Env, seed: int) -> float:
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(int(policy.act(obs[None])[0]))
        total += reward
        done = terminated or truncated
    return total


def train(config: dict) -> LinearPolicy:
    """Random search: keep the best of `candidates` random weight matrices (three episodes each)."""
    raise NotImplementedError("TODO(fixhw)")
