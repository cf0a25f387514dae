"""Random inputs for the hw1 tabular hidden tests, shaped like what the homework's own code produces
(and the remote backward_messages check two suite files share).

Every input comes from the test's `rng` (new on every grading run): MDP sizes, Dirichlet dynamics
(stochastic, or one next state per (s, a)), rewards on the scale of the gridworld's and the
lottery's, horizons. Values, policies and visitations handed to a student function are the ones the
reference computes from such an MDP, never arbitrary arrays: e.g. V is always the soft max of Q.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.harness.api import assert_close, check_array
from hw1_imitation.demonstrations import sample_demonstrations
from hw1_imitation.soft_value_iteration import backward_messages, soft_optimal_policy
from hw1_imitation.tabular_mdp import TabularMDP


@dataclass
class Problem:
    """A random finite-horizon MDP and a reward: transitions (S, A, S), initial (S,), rewards (S, A)."""

    transitions: np.ndarray
    initial_distribution: np.ndarray
    rewards: np.ndarray
    horizon: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.rewards.shape

    @property
    def mdp(self) -> TabularMDP:
        return TabularMDP(self.transitions, self.initial_distribution, self.horizon)


def random_problem(rng: np.random.Generator, deterministic: bool = False, reward_scale: float | None = None,
                   max_states: int = 7, max_horizon: int = 7, one_start: bool = False) -> Problem:
    """An MDP of 3..max_states states, 2..4 actions, horizon 2..max_horizon, with a random reward."""
    num_states, num_actions = int(rng.integers(3, max_states + 1)), int(rng.integers(2, 5))
    horizon = int(rng.integers(2, max_horizon + 1))
    if deterministic:
        transitions = np.eye(num_states)[rng.integers(num_states, size=(num_states, num_actions))]
    else:
        # sparse-ish rows, as in a gridworld with slips: a few likely next states per (s, a)
        transitions = rng.dirichlet(np.full(num_states, 0.5), size=(num_states, num_actions))
    if one_start:
        initial = np.eye(num_states)[rng.integers(num_states)]
    else:
        initial = rng.dirichlet(np.ones(num_states))
    scale = reward_scale if reward_scale is not None else float(rng.uniform(0.5, 3.0))
    rewards = rng.normal(size=(num_states, num_actions)) * scale
    return Problem(transitions, initial, rewards, horizon)


def random_next_values(rng: np.random.Generator, problem: Problem, backup: str = "exact") -> np.ndarray:
    """V_{t+1} (S,) as soft value iteration makes it: the first values of a random shorter horizon."""
    horizon = int(rng.integers(1, 4))
    _, values = backward_messages(problem.rewards, problem.transitions, horizon, backup=backup)
    return values[0]


def random_features(rng: np.random.Generator, num_states: int, num_actions: int) -> np.ndarray:
    """f(s, a) (S, A, K): a mix of one-hot state groups (like terrains) and action-dependent features."""
    num_groups = int(rng.integers(2, 4))
    groups = np.eye(num_groups)[rng.integers(num_groups, size=num_states)]               # (S, G)
    state_part = np.repeat(groups[:, None, :], num_actions, axis=1)                       # (S, A, G)
    action_part = rng.normal(size=(num_states, num_actions, int(rng.integers(1, 3))))     # (S, A, K2)
    return np.concatenate([state_part, action_part], axis=2)


def random_demonstrations(rng: np.random.Generator, problem: Problem, num: int) -> tuple[np.ndarray, np.ndarray]:
    """states, actions (N, T) of the soft-optimal policy of the problem's reward."""
    q_values, values = backward_messages(problem.rewards, problem.transitions, problem.horizon)
    demos = sample_demonstrations(problem.mdp, soft_optimal_policy(q_values, values), num, rng)
    return demos.states, demos.actions


def remote_backward_messages(submission, problem: Problem, backup: str) -> tuple[np.ndarray, np.ndarray]:
    """The student's backward_messages -> (Q (T, S, A), V (T, S)), both checked before any arithmetic."""
    reply = submission.call("hw1_imitation.soft_value_iteration.backward_messages", problem.rewards,
                            problem.transitions, problem.horizon, backup)
    if not isinstance(reply, list) or len(reply) != 2:
        raise AssertionError(f"backward_messages must return two arrays (q_values, values), got {type(reply).__name__}"
                             + (f" of length {len(reply)}" if isinstance(reply, list) else ""))
    num_states, num_actions = problem.shape
    return (check_array(reply[0], "backward_messages q_values", shape=(problem.horizon, num_states, num_actions)),
            check_array(reply[1], "backward_messages values", shape=(problem.horizon, num_states)))


def assert_backward_messages_match(submission, problem: Problem, backup: str, setting: str) -> None:
    """The student's backward_messages equal the reference's, Q and V, on `problem` (`setting` names it)."""
    q_values, values = remote_backward_messages(submission, problem, backup)
    expected_q, expected_v = backward_messages(problem.rewards, problem.transitions, problem.horizon, backup)
    assert_close(q_values, expected_q, f"backward_messages q_values ({setting})", rtol=1e-7, atol=1e-9)
    assert_close(values, expected_v, f"backward_messages values ({setting})", rtol=1e-7, atol=1e-9)
