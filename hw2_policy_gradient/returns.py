"""Return and advantage estimators for a batch of trajectories (lectures 5 and 6).

Every function takes the batch FLAT: the trajectories collected in one iteration laid end to end,
so step i of the batch is one time step t of some trajectory. Two boolean flags per step say where
a trajectory ends and why:

    terminated[i]  the episode really ended at step i (the pole fell, the lander crashed):
                   nothing comes after it, the value of what follows is 0.
    truncated[i]   the episode was cut at step i by a time limit or by the end of sampling:
                   the task would have gone on, so what follows is worth V(s_{t+1}), which we
                   estimate with the critic ("bootstrapping").

Every trajectory's last step has at least one flag set, so the last step of the batch always has
one, and no other step has any. BOTH flags can be set on the same step: a time limit reached on
the very step the task terminated (Gymnasium's TimeLimit and common.rollouts produce this).
Termination then wins: the state was terminal, so nothing follows and there is no bootstrap. In
code: bootstrap only where `truncated and not terminated`, or multiply by (1 - terminated).

`next_values[i]` is the critic's estimate V(s_{i+1}) of the NEXT observation of step i; the
estimators only read it where it is needed (the last step of a trajectory that was truncated and
not terminated, for the return estimators; every step, for GAE). Without a critic, pass None: it
counts as 0 everywhere.

Shapes: rewards, terminated, truncated, values, next_values are all (N,), N = total steps.
"""
from __future__ import annotations

import numpy as np


def check_batch(rewards: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
    """Raise a ValueError that says what to fix when the flat batch is malformed."""
    if rewards.ndim != 1:
        raise ValueError(
            f"rewards must be 1-D (N,), got shape {rewards.shape}: concatenate the trajectories end to end"
        )
    for name, flags in (("terminated", terminated), ("truncated", truncated)):
        if flags.shape != rewards.shape:
            raise ValueError(f"{name} must have the shape of rewards {rewards.shape}, got {flags.shape}")
    if len(rewards) and not (terminated[-1] or truncated[-1]):
        raise ValueError(
            "the last step of the batch must end a trajectory (terminated or truncated): "
            "mark an unfinished trajectory as truncated"
        )


def _as_flags(flags) -> np.ndarray:
    return np.asarray(flags, dtype=bool)


def _next_values_or_zeros(next_values, n: int) -> np.ndarray:
    if next_values is None:
        return np.zeros(n, dtype=np.float64)
    next_values = np.asarray(next_values, dtype=np.float64)
    if next_values.shape != (n,):
        raise ValueError(f"next_values must have shape ({n},) like rewards, got {next_values.shape}")
    return next_values


def reward_to_go(
    rewards: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
    next_values: np.ndarray | None = None,
) -> np.ndarray:
    """Discounted reward-to-go of every step, restarting at each episode boundary.

    For step t of a trajectory that ends at step T (inclusive):

        Q_hat_t = sum_{t'=t}^{T} gamma^(t'-t) r_t'  +  gamma^(T-t+1) V(s_{T+1}) [only if truncated at T]

    Computed backwards in one pass: Q_hat_T = r_T + gamma * V(s_{T+1}) * [truncated],
    Q_hat_t = r_t + gamma * Q_hat_{t+1} inside the trajectory. When both flags are set at T,
    termination wins: Q_hat_T = r_T. V(s_{T+1}) is next_values[T] (None: 0).

    rewards, terminated, truncated, next_values: (N,)   ->   returns (N,) float32
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    terminated, truncated = _as_flags(terminated), _as_flags(truncated)
    check_batch(rewards, terminated, truncated)
    next_values = _next_values_or_zeros(next_values, len(rewards))
    # BEGIN PROMPT
    # Hint: walk the batch backwards with a running sum; at the last step of an episode restart it
    # from 0 (terminated, whatever truncated says) or from next_values[t] (truncated only) before
    # adding r_t.
    # END PROMPT
    # BEGIN SOLUTION (README 2.2)
    returns = np.zeros_like(rewards)
    following = 0.0  # Q_hat_{t+1}, the reward-to-go of the step after t
    for t in reversed(range(len(rewards))):
        if terminated[t]:
            following = 0.0
        elif truncated[t]:
            following = next_values[t]
        following = rewards[t] + gamma * following
        returns[t] = following
    return returns.astype(np.float32)
    # END SOLUTION


def discounted_return(
    rewards: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
    next_values: np.ndarray | None = None,
) -> np.ndarray:
    """The REINFORCE estimate: every step gets the full discounted return of its trajectory.

    For every step t of a trajectory that starts at step 0 and ends at step T:

        Q_hat_t = sum_{t'=0}^{T} gamma^t' r_t'  +  gamma^(T+1) V(s_{T+1}) [only if truncated at T]

    i.e. the reward-to-go of the trajectory's first step, copied to all its steps. As in
    reward_to_go, V(s_{T+1}) is next_values[T], and termination wins when both flags are set at T
    (no bootstrap). It ignores
    causality (actions are credited with rewards that came before them), which is why
    `reward_to_go` has lower variance.

    rewards, terminated, truncated, next_values: (N,)   ->   returns (N,) float32
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    terminated, truncated = _as_flags(terminated), _as_flags(truncated)
    check_batch(rewards, terminated, truncated)
    # BEGIN SOLUTION (README 2.1)
    next_values = _next_values_or_zeros(next_values, len(rewards))
    returns = np.empty_like(rewards)
    start = 0
    for end in np.flatnonzero(terminated | truncated):
        episode_rewards = rewards[start : end + 1]
        total = np.sum(gamma ** np.arange(len(episode_rewards)) * episode_rewards)
        if not terminated[end]:  # truncated: the task would have gone on
            total += gamma ** len(episode_rewards) * next_values[end]
        returns[start : end + 1] = total
        start = end + 1
    return returns.astype(np.float32)
    # END SOLUTION


def gae_advantages(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> np.ndarray:
    """Generalized advantage estimation, GAE(lambda) (Schulman et al. 2016; lecture 6).

        delta_t = r_t + gamma * V(s_{t+1}) * (1 - terminated_t) - V(s_t)
        A_t     = sum_{t'=t}^{T} (gamma * lambda)^(t'-t) delta_t'

    where T is the last step of t's trajectory. Computed backwards:
    A_T = delta_T, A_t = delta_t + gamma * lambda * A_{t+1} inside the trajectory.
    On truncation delta_T still bootstraps from V(s_{T+1}); on termination it does not, and when
    both flags are set at T termination wins (delta_T = r_T - V(s_T)).

    Which array holds V(s_{t+1}): read next_values[t] at EVERY step t, not values[t + 1]. Inside a
    trajectory the two are the same number (s_{t+1} is the next step's observation), so on batches
    from real rollouts either reading gives the same result; but at the last step of a trajectory
    values[t + 1] belongs to the NEXT trajectory's first state, and only next_values[T] is the
    critic's value of the true final observation s_{T+1}. Reading next_values everywhere needs no
    special case.
    lambda = 0 gives the one-step actor-critic advantage delta_t; lambda = 1 gives
    reward_to_go - V(s_t).

    rewards, values (V(s_t)), next_values (V(s_{t+1})), terminated, truncated: (N,)
    ->  advantages (N,) float32
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    terminated, truncated = _as_flags(terminated), _as_flags(truncated)
    check_batch(rewards, terminated, truncated)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != rewards.shape:
        raise ValueError(f"values must have the shape of rewards {rewards.shape}, got {values.shape}")
    next_values = _next_values_or_zeros(next_values, len(rewards))
    # BEGIN PROMPT
    # Hint: compute every delta_t at once with numpy, then one backward loop for the sum; the
    # sum restarts at every episode end (terminated or truncated).
    # END PROMPT
    # BEGIN SOLUTION (README 5.1)
    deltas = rewards + gamma * next_values * (~terminated) - values
    episode_ends = terminated | truncated
    advantages = np.zeros_like(rewards)
    following = 0.0  # A_{t+1}
    for t in reversed(range(len(rewards))):
        if episode_ends[t]:
            following = 0.0
        following = deltas[t] + gamma * gae_lambda * following
        advantages[t] = following
    return advantages.astype(np.float32)
    # END SOLUTION


def normalize(advantages: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Shift and scale advantages to mean 0 and standard deviation 1 over the batch.

        A_norm = (A - mean(A)) / (std(A) + eps),   eps = 1e-8

    std is the POPULATION standard deviation, sqrt((1/N) sum_i (A_i - mean(A))^2): numpy's
    default np.std (ddof=0), torch's A.std(unbiased=False). torch's A.std() divides by N - 1 and
    gives a different answer. Example: A = [1, 3] -> [-1, 1].

    It does not change the expected gradient direction much (a constant shift is a baseline, the
    scale is absorbed by the learning rate) but keeps the step size comparable across tasks.

    advantages: (N,)  ->  (N,) float32
    """
    advantages = np.asarray(advantages, dtype=np.float64)
    # BEGIN SOLUTION (README 2.3)
    return ((advantages - advantages.mean()) / (advantages.std() + eps)).astype(np.float32)
    # END SOLUTION
