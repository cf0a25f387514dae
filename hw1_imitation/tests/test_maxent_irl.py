"""Public tests of maxent_irl.py: feature counts by hand, the gradient against the brute-force likelihood."""
import numpy as np

from hw1_imitation import brute_force
from hw1_imitation.demonstrations import sample_demonstrations
from hw1_imitation.forward_messages import forward_messages, state_action_visitation, state_visitation
from hw1_imitation.gridworld import DEFAULT_TERRAIN_REWARDS, make_gridworld
from hw1_imitation.maxent_irl import (
    expert_feature_counts,
    maxent_irl,
    maxent_irl_gradient,
    reward_correlation,
    total_variation,
)
from hw1_imitation.soft_value_iteration import backward_messages, soft_optimal_policy
from hw1_imitation.tabular_mdp import random_mdp


def model_visitation(rewards, mdp):
    q_values, _ = backward_messages(rewards, mdp.transitions, mdp.horizon, backup="exact")
    alpha = forward_messages(rewards, mdp.transitions, mdp.initial_distribution, mdp.horizon)
    return state_action_visitation(alpha, q_values)


# --- expert_feature_counts (README 7.1) --------------------------------------------------------

def test_expert_feature_counts_of_a_hand_computed_case():
    features = np.arange(2.0).reshape(2, 1, 1)  # f(s, a) = s, one action
    states, actions = np.array([[0, 1], [1, 1]]), np.zeros((2, 2), dtype=int)
    # (0 + 1) and (1 + 1) summed over time, averaged over the two demonstrations: 1.5
    np.testing.assert_allclose(expert_feature_counts(features, states, actions), [1.5])


def test_expert_feature_counts_read_the_action_too():
    features = np.zeros((1, 2, 2))
    features[0, 0] = [1.0, 0.0]   # f(s, a=0)
    features[0, 1] = [0.0, 10.0]  # f(s, a=1)
    states, actions = np.zeros((1, 3), dtype=int), np.array([[0, 1, 1]])
    np.testing.assert_allclose(expert_feature_counts(features, states, actions), [1.0, 20.0])


# --- maxent_irl_gradient (README 7.2) ----------------------------------------------------------

def test_maxent_irl_gradient_with_a_constant_feature_is_counts_minus_horizon():
    visitation = np.full((4, 3, 2), 1 / 6)  # T = 4 steps, each a distribution over (s, a)
    gradient = maxent_irl_gradient(np.ones((3, 2, 1)), np.array([2.5]), visitation)
    np.testing.assert_allclose(gradient, [2.5 - 4.0])


def test_maxent_irl_gradient_points_toward_what_the_expert_does_more_often():
    # one step, two actions: the model picks each half the time, the expert always picks action 1
    features = np.eye(2).reshape(1, 2, 2)
    gradient = maxent_irl_gradient(features, np.array([0.0, 1.0]), np.full((1, 1, 2), 0.5))
    np.testing.assert_allclose(gradient, [-0.5, 0.5])  # raise the reward of action 1, lower action 0's


def test_maxent_irl_gradient_is_the_gradient_of_the_log_likelihood():
    # L(psi) = f_expert . psi - log Z(psi), log Z by brute force; compare with central differences
    rng = np.random.default_rng(0)
    mdp = random_mdp(3, 2, 3, rng)
    features = rng.normal(size=(3, 2, 4))
    psi = rng.normal(size=4)
    f_expert = rng.normal(size=4)

    def log_likelihood(p):
        return f_expert @ p - brute_force.log_partition(features @ p, mdp)

    gradient = maxent_irl_gradient(features, f_expert, model_visitation(features @ psi, mdp))
    step = 1e-5
    numerical = [(log_likelihood(psi + step * e) - log_likelihood(psi - step * e)) / (2 * step) for e in np.eye(4)]
    np.testing.assert_allclose(gradient, numerical, rtol=1e-5, atol=1e-7)


def test_maxent_irl_gradient_is_zero_when_the_model_matches_the_expert():
    rng = np.random.default_rng(1)
    mdp = random_mdp(4, 2, 3, rng)
    features, psi = rng.normal(size=(4, 2, 3)), rng.normal(size=3)
    visitation = model_visitation(features @ psi, mdp)
    matched_counts = np.einsum("tsa,sak->k", visitation, features)
    np.testing.assert_allclose(maxent_irl_gradient(features, matched_counts, visitation), np.zeros(3), atol=1e-12)


# --- the algorithm on the gridworld (README 7.3) -----------------------------------------------

def test_maxent_irl_recovers_the_experts_visitation_and_reward_on_the_gridworld():
    grid = make_gridworld()
    true_rewards = grid.rewards(DEFAULT_TERRAIN_REWARDS)
    q_values, values = backward_messages(true_rewards, grid.mdp.transitions, grid.mdp.horizon)
    expert_visitation = state_visitation(model_visitation(true_rewards, grid.mdp))
    demonstrations = sample_demonstrations(grid.mdp, soft_optimal_policy(q_values, values), 200, np.random.default_rng(0))
    features = grid.terrain_features()
    psi = maxent_irl(grid.mdp, features, demonstrations, iterations=300, learning_rate=0.1)
    recovered = features @ psi
    assert total_variation(state_visitation(model_visitation(recovered, grid.mdp)), expert_visitation) <= 0.05
    assert reward_correlation(recovered[:, 0], true_rewards[:, 0]) >= 0.9


def test_maxent_irl_steps_raise_the_log_likelihood():
    grid = make_gridworld(horizon=6)
    true_rewards = grid.rewards(DEFAULT_TERRAIN_REWARDS)
    q_values, values = backward_messages(true_rewards, grid.mdp.transitions, grid.mdp.horizon)
    demonstrations = sample_demonstrations(grid.mdp, soft_optimal_policy(q_values, values), 50, np.random.default_rng(1))
    steps = []
    maxent_irl(grid.mdp, grid.terrain_features(), demonstrations, iterations=20, learning_rate=0.05, callback=steps.append)
    likelihoods = [step.log_likelihood for step in steps]
    assert np.all(np.diff(likelihoods) > 0), likelihoods
