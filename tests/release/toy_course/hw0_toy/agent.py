"""A toy agent: methods, decorators and nested functions (test fixture of the release tool)."""
import functools


def logged(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)
    return wrapper


class ToyAgent:
    """Keeps a running mean of the rewards it is given."""

    def __init__(self, learning_rate: float = 0.5):
        self.learning_rate = learning_rate
        self.estimate = 0.0

    @logged
    def update(self, reward: float) -> float:
        """Move the estimate towards `reward`: v <- v + lr * (r - v)."""
        # BEGIN SOLUTION (README 2.1)
        self.estimate = self.estimate + self.learning_rate * (reward - self.estimate)
        return self.estimate
        # END SOLUTION

    @staticmethod
    def make_schedule(start: float):
        """A function t -> start / (1 + t), built from a closure."""
        def schedule(step: int) -> float:
            # BEGIN SOLUTION (README 2.2)
            harmonic_decay_value = start / (1.0 + step)
            return harmonic_decay_value
            # END SOLUTION
        return schedule
