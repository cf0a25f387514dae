"""Public tests of forward_messages.py: hand-computed cases and brute force over every trajectory."""
import numpy as np

from hw1_imitation import brute_force
from hw1_imitation.forward_messages import (
    forward_messages,
    policy_state_marginals,
    state_action_visitation,
    state_visitation,
)
from hw1_imitation.soft_value_iteration import backward_messages, soft_optimal_policy
from hw1_imitation.tabular_mdp import TabularMDP, random_mdp

LOG3 = np.log(3.0)


def go_to_state_of_the_action():
    """2 states, 2 actions: action a leads to state a from anywhere. r(s, 0) = 0, r(s, 1) = log 3."""
    transitions = np.zeros((2, 2, 2))
    transitions[:, 0, 0] = transitions[:, 1, 1] = 1.0
    rewards = np.array([[0.0, LOG3], [0.0, LOG3]])
    return TabularMDP(transitions, np.array([1.0, 0.0]), horizon=3), rewards


# --- forward_messages (README 6.6) -------------------------------------------------------------

def test_forward_messages_start_from_the_initial_distribution():
    mdp = random_mdp(4, 2, 3, np.random.default_rng(0))
    alpha = forward_messages(np.zeros((4, 2)), mdp.transitions, mdp.initial_distribution, mdp.horizon)
    assert alpha.shape == (3, 4)
    np.testing.assert_allclose(alpha[0], mdp.initial_distribution)


def test_forward_messages_of_a_hand_computed_case():
    # being optimal at t makes action 1 (reward log 3) three times as likely as action 0:
    # alpha_1 = [1, 3] / 4, and the same at t = 2
    mdp, rewards = go_to_state_of_the_action()
    alpha = forward_messages(rewards, mdp.transitions, mdp.initial_distribution, mdp.horizon)
    np.testing.assert_allclose(alpha, [[1.0, 0.0], [0.25, 0.75], [0.25, 0.75]])


def test_forward_messages_with_zero_rewards_follow_the_uniform_random_policy():
    mdp = random_mdp(4, 3, 5, np.random.default_rng(1))
    alpha = forward_messages(np.zeros((4, 3)), mdp.transitions, mdp.initial_distribution, mdp.horizon)
    uniform = np.full((5, 4, 3), 1 / 3)
    np.testing.assert_allclose(alpha, policy_state_marginals(uniform, mdp.transitions, mdp.initial_distribution))


def test_forward_messages_are_normalized_at_every_step_even_for_large_rewards():
    mdp = random_mdp(4, 2, 40, np.random.default_rng(2))
    rewards = np.full((4, 2), 30.0) + np.random.default_rng(3).normal(size=(4, 2))
    alpha = forward_messages(rewards, mdp.transitions, mdp.initial_distribution, mdp.horizon)
    assert np.all(np.isfinite(alpha))
    np.testing.assert_allclose(alpha.sum(axis=1), np.ones(40))


def test_forward_messages_match_brute_force():
    rng = np.random.default_rng(4)
    mdp = random_mdp(3, 2, 4, rng)
    rewards = rng.normal(size=(3, 2))
    alpha = forward_messages(rewards, mdp.transitions, mdp.initial_distribution, mdp.horizon)
    np.testing.assert_allclose(alpha, brute_force.filtered_state_marginals(rewards, mdp), atol=1e-12)


# --- state_action_visitation (README 6.7) ------------------------------------------------------

def test_state_action_visitation_of_a_hand_computed_case():
    alpha = np.array([[1.0, 0.0]])
    q_values = np.array([[[0.0, LOG3], [5.0, 5.0]]])
    np.testing.assert_allclose(state_action_visitation(alpha, q_values), [[[0.25, 0.75], [0.0, 0.0]]])


def test_state_action_visitation_weights_states_by_alpha_and_actions_by_exp_q():
    alpha = np.array([[0.5, 0.5]])
    q_values = np.array([[[0.0, 0.0], [LOG3, LOG3]]])  # state 1 is 3 times as likely to lead to optimality
    np.testing.assert_allclose(state_action_visitation(alpha, q_values), [[[0.125, 0.125], [0.375, 0.375]]])


def test_state_action_visitation_survives_large_q_values():
    alpha = np.array([[0.5, 0.5]])
    q_values = np.array([[[800.0, 800.0], [800.0 + LOG3, 800.0 + LOG3]]])
    np.testing.assert_allclose(state_action_visitation(alpha, q_values), [[[0.125, 0.125], [0.375, 0.375]]])


def test_state_action_visitation_matches_the_brute_force_posterior():
    # with stochastic dynamics too: mu_t(s, a) = p(s_t = s, a_t = a | O_{0:T-1})
    rng = np.random.default_rng(5)
    mdp = random_mdp(3, 2, 4, rng)
    rewards = rng.normal(size=(3, 2)) * 2
    q_values, _ = backward_messages(rewards, mdp.transitions, mdp.horizon, backup="exact")
    alpha = forward_messages(rewards, mdp.transitions, mdp.initial_distribution, mdp.horizon)
    visitation = state_action_visitation(alpha, q_values)
    np.testing.assert_allclose(visitation, brute_force.posterior_visitation(rewards, mdp), atol=1e-12)


def test_on_deterministic_dynamics_from_one_start_visitation_is_what_the_soft_optimal_policy_visits():
    rng = np.random.default_rng(6)
    deterministic = random_mdp(6, 3, 7, rng, deterministic=True)
    mdp = TabularMDP(deterministic.transitions, np.eye(6)[2], deterministic.horizon)
    rewards = rng.normal(size=(6, 3))
    q_values, values = backward_messages(rewards, mdp.transitions, mdp.horizon)
    alpha = forward_messages(rewards, mdp.transitions, mdp.initial_distribution, mdp.horizon)
    visitation = state_action_visitation(alpha, q_values)
    policy = soft_optimal_policy(q_values, values)
    marginals = policy_state_marginals(policy, mdp.transitions, mdp.initial_distribution)
    np.testing.assert_allclose(visitation.sum(axis=2), marginals, atol=1e-12)
    np.testing.assert_allclose(visitation, marginals[:, :, None] * policy, atol=1e-12)
    np.testing.assert_allclose(state_visitation(visitation), marginals.mean(axis=0), atol=1e-12)
