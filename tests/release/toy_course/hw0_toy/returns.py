"""Toy return estimators (test fixture of the release tool)."""
import numpy as np

SECRET_STRING = "# BEGIN SOLUTION is only text inside a string"


def discounted_sum(rewards, gamma):
    """sum_t gamma^t r_t of one trajectory.

    rewards: (T,) -> float
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    # BEGIN PROMPT
    # Hint: loop backwards, total = r_t + gamma * total.
    # END PROMPT
    # BEGIN SOLUTION (README 1.1)
    total_return = 0.0
    for reward in reversed(rewards.tolist()):
        total_return = reward + gamma * total_return
    return float(total_return)
    # END SOLUTION


def reward_to_go(rewards, gamma):
    """Discounted sum of future rewards for every step: (T,) -> (T,)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    discounts = gamma ** np.arange(len(rewards))  # SOLUTION
    # BEGIN SOLUTION (README 1.2)
    future_rewards_weighted = [np.sum(discounts[: len(rewards) - t] * rewards[t:]) for t in range(len(rewards))]
    return np.array(future_rewards_weighted)
    # END SOLUTION
