"""Hidden tests of soft_value_iteration.py (README 6.2-6.5): values against the reference on random MDPs.

Inputs come from `rng` (tabular_inputs.py); expected values from the reference computed here.
The variational backup is graded in test_optimism.py (README 8).
"""
import numpy as np

from grader.harness.api import assert_close, check_array, points
from hw1_imitation import soft_value_iteration as reference
from tabular_inputs import assert_backward_messages_match, random_next_values, random_problem, remote_backward_messages

MODULE = "hw1_imitation.soft_value_iteration"
PART = "control_as_inference"


def remote(submission, name, *args, shape):
    return check_array(submission.call(f"{MODULE}.{name}", *args), name, shape=shape)


# ----------------------------------------------------------------------------------- soft_max_value
@points(2, part=PART)
def test_soft_max_value_matches_reference(submission, rng):
    """soft_max_value: log sum_a exp Q over the last axis, on a batch of Q tables"""
    q_values = rng.normal(size=(int(rng.integers(2, 5)), int(rng.integers(3, 7)), int(rng.integers(2, 6)))) * 3
    got = remote(submission, "soft_max_value", q_values, shape=q_values.shape[:-1])
    assert_close(got, reference.soft_max_value(q_values), "soft_max_value", rtol=1e-7, atol=1e-9)


@points(1, part=PART)
def test_soft_max_value_of_tied_actions_is_above_the_max(submission, rng):
    """soft_max_value is soft: k tied best actions give max + log k, not the max"""
    num_actions, ties = int(rng.integers(3, 7)), int(rng.integers(2, 4))
    q_values = np.full((1, num_actions), float(rng.normal()))
    q_values[0, ties:] -= 50.0  # far below: only the tied actions count
    got = remote(submission, "soft_max_value", q_values, shape=(1,))
    assert_close(got, reference.soft_max_value(q_values), f"soft_max_value of {ties} tied actions", rtol=1e-7, atol=1e-9)


@points(1, part=PART)
def test_soft_max_value_does_not_overflow(submission, rng):
    """soft_max_value of Q values near +-1000 stays finite and exact (subtract the max)"""
    q_values = rng.normal(size=(5, int(rng.integers(2, 6)))) + rng.choice([-1.0, 1.0], size=(5, 1)) * rng.uniform(700, 1000)
    got = remote(submission, "soft_max_value", q_values, shape=(5,))
    assert_close(got, reference.soft_max_value(q_values), "soft_max_value of large Q values", rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------------- exact_backup
@points(2, part=PART)
def test_exact_backup_matches_reference(submission, rng):
    """exact_backup: Q = r + log E_{s'}[exp V'] for every (s, a) of a random stochastic MDP"""
    problem = random_problem(rng)
    next_values = random_next_values(rng, problem)
    got = remote(submission, "exact_backup", problem.rewards, problem.transitions, next_values, shape=problem.shape)
    assert_close(got, reference.exact_backup(problem.rewards, problem.transitions, next_values), "exact_backup",
                 rtol=1e-7, atol=1e-9)


@points(1, part=PART)
def test_exact_backup_does_not_overflow(submission, rng):
    """exact_backup with next values in the hundreds (subtract the largest before exp)"""
    problem = random_problem(rng)
    next_values = random_next_values(rng, problem) + rng.uniform(750, 1000)
    got = remote(submission, "exact_backup", problem.rewards, problem.transitions, next_values, shape=problem.shape)
    assert_close(got, reference.exact_backup(problem.rewards, problem.transitions, next_values),
                 "exact_backup of large next values", rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------------- backward_messages
@points(2, part=PART)
def test_backward_messages_match_reference_on_stochastic_dynamics(submission, rng):
    """backward_messages with the exact backup: Q_t and V_t for every step"""
    assert_backward_messages_match(submission, random_problem(rng), "exact", "exact backup")


@points(1, part=PART)
def test_backward_messages_last_step_is_the_reward(submission, rng):
    """backward_messages: Q_{T-1} = r and V_{T-1} = soft max of r (horizon 1, and the last row otherwise)"""
    problem = random_problem(rng, deterministic=True)
    problem.horizon = 1
    q_values, values = remote_backward_messages(submission, problem, "exact")
    assert_close(q_values[0], problem.rewards, "backward_messages q_values with horizon 1", rtol=1e-9, atol=1e-12)
    assert_close(values[0], reference.soft_max_value(problem.rewards), "backward_messages values with horizon 1",
                 rtol=1e-9, atol=1e-12)


@points(1, part=PART)
def test_backward_messages_match_reference_on_deterministic_dynamics(submission, rng):
    """backward_messages on deterministic dynamics (the gridworld's case), longer horizon"""
    problem = random_problem(rng, deterministic=True, max_horizon=15)
    assert_backward_messages_match(submission, problem, "exact", "deterministic dynamics")


# ----------------------------------------------------------------------------------- soft_optimal_policy
@points(1, part=PART)
def test_soft_optimal_policy_matches_reference(submission, rng):
    """soft_optimal_policy: exp(Q - V) for every step and state of soft value iteration's output"""
    problem = random_problem(rng)
    q_values, values = reference.backward_messages(problem.rewards, problem.transitions, problem.horizon)
    got = remote(submission, "soft_optimal_policy", q_values, values, shape=q_values.shape)
    assert_close(got, reference.soft_optimal_policy(q_values, values), "soft_optimal_policy", rtol=1e-7, atol=1e-10)


@points(1, part=PART)
def test_soft_optimal_policy_of_one_step(submission, rng):
    """soft_optimal_policy of one step's Q (S, A) and V (S,)"""
    q_values = rng.normal(size=(int(rng.integers(2, 6)), int(rng.integers(2, 6)))) * 2
    values = reference.soft_max_value(q_values)
    got = remote(submission, "soft_optimal_policy", q_values, values, shape=q_values.shape)
    assert_close(got, reference.soft_optimal_policy(q_values, values), "soft_optimal_policy of one step",
                 rtol=1e-7, atol=1e-10)
