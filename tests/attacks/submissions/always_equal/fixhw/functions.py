"""Attack: objects that compare equal to anything, pretend to be arrays or floats."""
import numpy as np


class AlwaysEqual(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array__(self, dtype=None, copy=None):
        return np.zeros(30, dtype=dtype or np.float32)

    def __float__(self):
        return 0.0

    __hash__ = float.__hash__


class EqualArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), bool)

    def __array_ufunc__(self, *args, **kwargs):
        return np.zeros(30)


def discounted_return(rewards, gamma):
    return AlwaysEqual(0.0)


def reward_to_go(rewards, gamma):
    return np.zeros(len(rewards), np.float32).view(EqualArray)


def normalize(values):
    return AlwaysEqual(1.0)
