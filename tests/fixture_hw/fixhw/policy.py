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
        # BEGIN SOLUTION
        return np.argmax(observations @ self.weights, axis=1).astype(np.int64)
        # END SOLUTION


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
    # BEGIN SOLUTION
    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(config["seed"])
    best, best_return = None, -np.inf
    for i in range(config["candidates"]):
        policy = LinearPolicy(4, 2)
        policy.set_weights(rng.normal(size=(4, 2)))
        score = np.mean([episode_return(policy, env, seed=config["seed"] * 1000 + i * 10 + k) for k in range(3)])
        if score > best_return:
            best, best_return = policy, score
    return best
    # END SOLUTION
