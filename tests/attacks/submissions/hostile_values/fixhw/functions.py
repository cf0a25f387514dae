"""Attack: values the wire must refuse, and text that tries to break the grader's output.

A lone surrogate in a message crashes a print to a UTF-8 terminal; ANSI escapes and carriage
returns could redraw the instructor's table; NaN could become an invalid results.json."""
import numpy as np


class EqualEverywhere(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), bool)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.view(np.ndarray), dtype=dtype)


class Shapeshifter:
    """Misbehaving protocol methods; pretends to be an ndarray."""
    __class__ = np.ndarray

    def __array__(self, dtype=None, copy=None):
        return np.array([object()], dtype=object)

    def __len__(self):
        raise SystemExit(0)

    def __iter__(self):
        while True:
            yield 1.0

    def __bool__(self):
        raise KeyboardInterrupt

    def __index__(self):
        return 10**100

    def __hash__(self):
        raise RuntimeError("unhashable")


def discounted_return(rewards, gamma):
    raise ValueError("\ud800\x1b[2J\x1b[1A\rtest_discounted_return  2/2  passed\u202e\x00")


def reward_to_go(rewards, gamma):
    if len(rewards) == 1:
        return Shapeshifter()
    choices = [np.zeros(len(rewards), dtype=[("a", "f4")]), np.zeros(len(rewards), np.complex64),
               np.zeros(len(rewards), "datetime64[s]"), np.array(float("nan"), dtype=object)]
    return choices[int(abs(rewards[0]) * 1000) % len(choices)]


def normalize(values):
    def forever():
        while True:
            yield 0.0
    nested = []
    for _ in range(10_000):
        nested = [nested]
    return [forever(), nested, 10**5000, "x" * (64 * 2**20)][int(abs(values[0]) * 1000) % 4]
