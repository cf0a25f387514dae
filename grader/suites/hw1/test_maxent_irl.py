"""Hidden tests of maxent_irl.py (README 7.1-7.2): values against the reference, and the gradient's meaning.

Inputs come from `rng` (tabular_inputs.py): random MDPs, mixed state/action features, demonstrations
of the soft-optimal policy, and the visitation the reference's messages give for a random psi.
"""
import numpy as np

from grader.harness.api import assert_close, check_array, points
from hw1_imitation import maxent_irl as reference
from hw1_imitation.brute_force import log_partition
from hw1_imitation.forward_messages import forward_messages, state_action_visitation
from hw1_imitation.soft_value_iteration import backward_messages
from tabular_inputs import random_demonstrations, random_features, random_problem

MODULE = "hw1_imitation.maxent_irl"
PART = "maxent_irl"


def model_visitation(problem, rewards):
    q_values, _ = backward_messages(rewards, problem.transitions, problem.horizon, backup="exact")
    alpha = forward_messages(rewards, problem.transitions, problem.initial_distribution, problem.horizon)
    return state_action_visitation(alpha, q_values)


def remote_counts(submission, features, states, actions):
    reply = submission.call(f"{MODULE}.expert_feature_counts", features, states, actions)
    return check_array(reply, "expert_feature_counts", shape=(features.shape[2],))


def remote_gradient(submission, features, counts, visitation):
    reply = submission.call(f"{MODULE}.maxent_irl_gradient", features, counts, visitation)
    return check_array(reply, "maxent_irl_gradient", shape=(features.shape[2],))


# ----------------------------------------------------------------------------------- expert_feature_counts
@points(2, part=PART)
def test_expert_feature_counts_match_reference(submission, rng):
    """expert_feature_counts: summed over time, averaged over demonstrations, features of (s, a)"""
    problem = random_problem(rng)
    features = random_features(rng, *problem.shape)
    states, actions = random_demonstrations(rng, problem, int(rng.integers(3, 40)))
    assert_close(remote_counts(submission, features, states, actions),
                 reference.expert_feature_counts(features, states, actions), "expert_feature_counts",
                 rtol=1e-7, atol=1e-9)


@points(1, part=PART)
def test_expert_feature_counts_do_not_grow_with_the_number_of_demonstrations(submission, rng):
    """expert_feature_counts of the same demonstrations repeated k times equal those of one copy"""
    problem = random_problem(rng)
    features = random_features(rng, *problem.shape)
    states, actions = random_demonstrations(rng, problem, int(rng.integers(2, 6)))
    copies = int(rng.integers(2, 5))
    got = remote_counts(submission, features, np.tile(states, (copies, 1)), np.tile(actions, (copies, 1)))
    assert_close(got, reference.expert_feature_counts(features, states, actions),
                 f"expert_feature_counts of the demonstrations repeated {copies} times", rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------------------------- maxent_irl_gradient
@points(4, part=PART)
def test_maxent_irl_gradient_matches_reference(submission, rng):
    """maxent_irl_gradient: expert counts minus the model's expected counts"""
    problem = random_problem(rng)
    features = random_features(rng, *problem.shape)
    states, actions = random_demonstrations(rng, problem, 30)
    counts = reference.expert_feature_counts(features, states, actions)
    visitation = model_visitation(problem, features @ rng.normal(size=features.shape[2]))
    assert_close(remote_gradient(submission, features, counts, visitation),
                 reference.maxent_irl_gradient(features, counts, visitation), "maxent_irl_gradient",
                 rtol=1e-7, atol=1e-9)


@points(3, part=PART)
def test_maxent_irl_gradient_is_an_ascent_direction_of_the_likelihood(submission, rng):
    """maxent_irl_gradient points uphill: a small step along it raises L(psi) = f_expert . psi - log Z(psi)"""
    problem = random_problem(rng, max_states=4, max_horizon=3)
    features = random_features(rng, *problem.shape)
    states, actions = random_demonstrations(rng, problem, 20)
    counts = reference.expert_feature_counts(features, states, actions)
    psi = rng.normal(size=features.shape[2])
    gradient = remote_gradient(submission, features, counts, model_visitation(problem, features @ psi))
    expected = reference.maxent_irl_gradient(features, counts, model_visitation(problem, features @ psi))
    step = 1e-3 / max(np.linalg.norm(expected), 1e-3)
    mdp = problem.mdp

    def likelihood(p):
        return counts @ p - log_partition(features @ p, mdp)

    change = likelihood(psi + step * gradient) - likelihood(psi)
    assert change > 0, ("a small step along maxent_irl_gradient lowered the demonstrations' log-likelihood: "
                        "the gradient is expert counts MINUS expected counts, and MaxEnt IRL ascends it")
    assert_close(gradient, expected, "maxent_irl_gradient", rtol=1e-7, atol=1e-9)
