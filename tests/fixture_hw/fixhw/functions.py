"""Return computations of the fixture homework (a miniature of a real TODO file)."""
import numpy as np


def discounted_return(rewards: np.ndarray, gamma: float) -> float:
    """G = sum_t gamma^t r_t for one trajectory. rewards: (T,) -> float."""
    # BEGIN SOLUTION
    rewards = np.asarray(rewards, dtype=np.float64)
    return float(np.sum(rewards * gamma ** np.arange(len(rewards))))
    # END SOLUTION


def reward_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = sum_{t' >= t} gamma^(t'-t) r_t'. rewards: (T,) float32 -> (T,) float32."""
    # BEGIN SOLUTION
    returns = np.zeros(len(rewards), dtype=np.float32)
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns
    # END SOLUTION


def normalize(values: np.ndarray) -> np.ndarray:
    """(x - mean) / (std + 1e-8). values: (N,) -> (N,)."""
    # BEGIN SOLUTION
    values = np.asarray(values, dtype=np.float32)
    return (values - values.mean()) / (values.std() + 1e-8)
    # END SOLUTION
