"""Schedules: a hyperparameter that changes with the number of env steps taken."""
from __future__ import annotations


def linear_schedule(step: int, start: float, end: float, duration: int) -> float:
    """A value that moves in a straight line from `start` to `end` over `duration` steps, then stays.

        value(t) = start + (end - start) * min(t / duration, 1)

    DQN explores with epsilon = linear_schedule(env_steps, 1.0, 0.05, decay_steps): fully random at
    first, then mostly greedy. step: env steps so far (>= 0); duration: > 0 steps. Returns a float.
    For example linear_schedule(250, 1.0, 0.0, 1000) == 0.75 and linear_schedule(5000, 1.0, 0.1, 1000) == 0.1.
    """
    if duration <= 0:
        raise ValueError(f"duration must be a positive number of steps, got {duration}")
    # BEGIN SOLUTION (README 2.1)
    fraction = min(step / duration, 1.0)
    return start + (end - start) * fraction
    # END SOLUTION
