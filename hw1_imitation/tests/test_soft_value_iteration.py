"""Public tests of soft_value_iteration.py: hand-computed cases and brute force over every trajectory."""
import numpy as np
import pytest

from hw1_imitation import brute_force
from hw1_imitation.soft_value_iteration import (
    backward_messages,
    exact_backup,
    soft_max_value,
    soft_optimal_policy,
)
from hw1_imitation.tabular_mdp import TabularMDP, random_mdp

LOG2, LOG3, LOG4 = np.log(2.0), np.log(3.0), np.log(4.0)


def one_state_two_next_states():
    """From state 0 either action goes to state 0 or 1 with probability 1/2 (states 1 and 0 alike after)."""
    transitions = np.full((2, 1, 2), 0.5)
    return TabularMDP(transitions, np.array([1.0, 0.0]), horizon=2)


# --- soft_max_value (README 6.2) ---------------------------------------------------------------

def test_soft_max_value_of_a_hand_computed_case():
    # log(e^0 + e^log 3) = log 4
    np.testing.assert_allclose(soft_max_value(np.array([0.0, LOG3])), LOG4)


def test_soft_max_value_is_soft_not_the_hard_max():
    # two equally good actions: log 2 above the max (a hard max gives 0)
    np.testing.assert_allclose(soft_max_value(np.zeros(2)), LOG2)


def test_soft_max_value_reduces_the_last_axis_only():
    q_values = np.array([[[0.0, LOG3], [1.0, 1.0]], [[LOG2, LOG2], [-1.0, -1.0]]])  # (2, 2, A=2)
    np.testing.assert_allclose(soft_max_value(q_values), [[LOG4, 1.0 + LOG2], [2 * LOG2, -1.0 + LOG2]])


def test_soft_max_value_does_not_overflow_or_underflow():
    np.testing.assert_allclose(soft_max_value(np.array([1000.0, 1000.0])), 1000.0 + LOG2)
    np.testing.assert_allclose(soft_max_value(np.array([-1000.0, -1000.0 + LOG3])), -1000.0 + LOG4)


def test_soft_max_value_lies_between_max_and_max_plus_log_num_actions():
    q_values = np.random.default_rng(0).normal(size=(50, 5)) * 3
    values = soft_max_value(q_values)
    assert np.all(values >= q_values.max(axis=1)) and np.all(values <= q_values.max(axis=1) + np.log(5))


# --- exact_backup (README 6.3) -----------------------------------------------------------------

def test_exact_backup_of_a_hand_computed_case():
    mdp = one_state_two_next_states()
    q_values = exact_backup(np.zeros((2, 1)), mdp.transitions, np.array([0.0, LOG3]))
    np.testing.assert_allclose(q_values, [[LOG2], [LOG2]])  # log(0.5 * 1 + 0.5 * 3)


def test_exact_backup_adds_the_reward():
    mdp = one_state_two_next_states()
    q_values = exact_backup(np.array([[1.0], [-2.0]]), mdp.transitions, np.array([0.0, LOG3]))
    np.testing.assert_allclose(q_values, [[1.0 + LOG2], [-2.0 + LOG2]])


def test_exact_backup_does_not_overflow():
    mdp = one_state_two_next_states()
    q_values = exact_backup(np.zeros((2, 1)), mdp.transitions, np.array([1000.0, 1000.0 + LOG3]))
    np.testing.assert_allclose(q_values, [[1000.0 + LOG2], [1000.0 + LOG2]])


def test_exact_backup_of_every_state_action_pair():
    rng = np.random.default_rng(1)
    mdp = random_mdp(4, 3, 2, rng)
    rewards, next_values = rng.normal(size=(4, 3)), rng.normal(size=4)
    expected = [[rewards[s, a] + np.log(np.sum(mdp.transitions[s, a] * np.exp(next_values))) for a in range(3)] for s in range(4)]
    np.testing.assert_allclose(exact_backup(rewards, mdp.transitions, next_values), expected)


# --- backward_messages (README 6.4) ------------------------------------------------------------

def test_backward_messages_with_one_step_is_the_reward():
    rewards = np.array([[0.0, LOG3], [1.0, 1.0]])
    q_values, values = backward_messages(rewards, np.full((2, 2, 2), 0.5), horizon=1)
    np.testing.assert_allclose(q_values, [rewards])
    np.testing.assert_allclose(values, [[LOG4, 1.0 + LOG2]])


def test_backward_messages_of_a_hand_computed_two_step_chain():
    # action 0 stays, action 1 switches state; r(0, .) = 0, r(1, .) = 1.
    transitions = np.zeros((2, 2, 2))
    transitions[0, 0, 0] = transitions[1, 0, 1] = transitions[0, 1, 1] = transitions[1, 1, 0] = 1.0
    rewards = np.array([[0.0, 0.0], [1.0, 1.0]])
    q_values, values = backward_messages(rewards, transitions, horizon=2)
    v_last = np.array([LOG2, 1.0 + LOG2])  # two equal actions per state
    np.testing.assert_allclose(values[1], v_last)
    np.testing.assert_allclose(q_values[0], [[v_last[0], v_last[1]], [1.0 + v_last[1], 1.0 + v_last[0]]])
    np.testing.assert_allclose(values[0], np.log(np.exp(q_values[0]).sum(axis=1)))


def test_exact_backward_messages_are_log_partition_functions():
    # V_0(s) = log sum over every trajectory from s of p(tau) exp(sum_t r): the exact backward message
    rng = np.random.default_rng(2)
    mdp = random_mdp(3, 2, 3, rng)
    rewards = rng.normal(size=(3, 2))
    _, values = backward_messages(rewards, mdp.transitions, mdp.horizon, backup="exact")
    for start in range(3):
        from_start = TabularMDP(mdp.transitions, np.eye(3)[start], mdp.horizon)
        np.testing.assert_allclose(values[0, start], brute_force.log_partition(rewards, from_start))


@pytest.mark.parametrize("backup", ["exact", "variational"])
def test_backward_messages_use_the_chosen_backup(backup):
    mdp = one_state_two_next_states()
    rewards = np.array([[0.0], [LOG3]])
    q_values, _ = backward_messages(rewards, mdp.transitions, horizon=2, backup=backup)
    # V_1 = r (one action): [0, log 3]; from either state the next state is 0 or 1 with probability 1/2
    expected = LOG2 if backup == "exact" else 0.5 * LOG3
    np.testing.assert_allclose(q_values[0], rewards + expected)


# --- soft_optimal_policy (README 6.5) ----------------------------------------------------------

def test_soft_optimal_policy_of_a_hand_computed_case():
    np.testing.assert_allclose(soft_optimal_policy(np.array([0.0, LOG3]), np.array(LOG4)), [0.25, 0.75])


def test_soft_optimal_policy_is_a_distribution_at_every_step_and_state():
    rng = np.random.default_rng(3)
    mdp = random_mdp(5, 3, 4, rng)
    q_values, values = backward_messages(rng.normal(size=(5, 3)) * 5, mdp.transitions, mdp.horizon)
    policy = soft_optimal_policy(q_values, values)
    assert policy.shape == (4, 5, 3)
    np.testing.assert_allclose(policy.sum(axis=2), np.ones((4, 5)))
    assert np.all(policy > 0)


def test_soft_optimal_policy_prefers_better_actions_in_proportion_to_exp_advantage():
    q_values = np.array([[1.0, 2.0, 4.0]])
    policy = soft_optimal_policy(q_values, soft_max_value(q_values))
    np.testing.assert_allclose(policy[0, 2] / policy[0, 1], np.exp(2.0))
