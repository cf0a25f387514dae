"""Return computations of the fixture homework (a miniature of a real TODO file)."""
import numpy as np


def discounted_return(rewards: np.ndarray, gamma: float) -> float:
    """G = sum_t gamma^t r_t for one trajectory. rewards: (T,) -> float."""
    raise NotImplementedError("TODO(fixhw)")


def reward_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = sum_{t' >= t} gamma^(t'-t) r_t'. rewards: (T,) float32 -> (T,) float32."""
    raise NotImplementedError("TODO(fixhw)")


def normalize(values: np.ndarray) -> np.ndarray:
    """(x - mean) / (std + 1e-8). values: (N,) -> (N,)."""
    raise NotImplementedError("TODO(fixhw)")
