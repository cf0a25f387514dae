"""Hidden tests of forward_messages.py (README 6.6-6.7): values against the reference on random MDPs.

Inputs come from `rng` (tabular_inputs.py); alpha and Q handed to state_action_visitation are the
reference's messages of a random MDP, as the homework's own code would pass them.
"""
import numpy as np

from grader.harness.api import assert_close, check_array, points
from hw1_imitation import forward_messages as reference
from hw1_imitation.soft_value_iteration import backward_messages
from tabular_inputs import random_problem

MODULE = "hw1_imitation.forward_messages"
PART = "control_as_inference"


def remote_alpha(submission, problem):
    reply = submission.call(f"{MODULE}.forward_messages", problem.rewards, problem.transitions,
                            problem.initial_distribution, problem.horizon)
    return check_array(reply, "forward_messages", shape=(problem.horizon, problem.shape[0]))


def expected_alpha(problem):
    return reference.forward_messages(problem.rewards, problem.transitions, problem.initial_distribution, problem.horizon)


def reference_messages(problem):
    q_values, _ = backward_messages(problem.rewards, problem.transitions, problem.horizon, backup="exact")
    return expected_alpha(problem), q_values


# ----------------------------------------------------------------------------------- forward_messages
@points(2, part=PART)
def test_forward_messages_match_reference_on_stochastic_dynamics(submission, rng):
    """forward_messages: alpha_t = p(s_t | O before t), normalized at every step"""
    problem = random_problem(rng)
    assert_close(remote_alpha(submission, problem), expected_alpha(problem), "forward_messages", rtol=1e-7, atol=1e-10)


@points(1, part=PART)
def test_forward_messages_match_reference_on_deterministic_dynamics_from_one_start(submission, rng):
    """forward_messages on a gridworld-like MDP: deterministic moves, one start state, longer horizon"""
    problem = random_problem(rng, deterministic=True, one_start=True, max_horizon=15)
    assert_close(remote_alpha(submission, problem), expected_alpha(problem),
                 "forward_messages (deterministic dynamics)", rtol=1e-7, atol=1e-10)


@points(1, part=PART)
def test_forward_messages_stay_normalized_for_large_rewards(submission, rng):
    """forward_messages with rewards near 40 over up to 30 steps: every alpha_t sums to 1, nothing overflows"""
    problem = random_problem(rng, max_horizon=30)
    problem.rewards = problem.rewards + rng.uniform(30, 50)
    assert_close(remote_alpha(submission, problem), expected_alpha(problem),
                 "forward_messages with large rewards", rtol=1e-7, atol=1e-10)


# ----------------------------------------------------------------------------------- state_action_visitation
@points(2, part=PART)
def test_state_action_visitation_matches_reference(submission, rng):
    """state_action_visitation: mu_t(s, a) proportional to alpha_t(s) exp Q_t(s, a), normalized per step"""
    problem = random_problem(rng)
    alpha, q_values = reference_messages(problem)
    got = check_array(submission.call(f"{MODULE}.state_action_visitation", alpha, q_values),
                      "state_action_visitation", shape=q_values.shape)
    assert_close(got, reference.state_action_visitation(alpha, q_values), "state_action_visitation",
                 rtol=1e-7, atol=1e-10)


@points(1, part=PART)
def test_state_action_visitation_with_unreachable_states_and_large_values(submission, rng):
    """state_action_visitation from one start on deterministic moves (alpha_t(s) = 0 off the reachable
    states) with rewards in the hundreds, so exp(Q) overflows"""
    problem = random_problem(rng, deterministic=True, one_start=True, max_horizon=12)
    # a large common offset (exp overflows) but the usual spread, so that subtracting the largest Q of
    # the step, as well as the largest log alpha + Q, keeps every reachable entry from underflowing
    problem.rewards = problem.rewards + rng.uniform(400, 600)
    alpha, q_values = reference_messages(problem)
    assert np.any(alpha == 0)  # the one start makes some states unreachable at t = 0 at least
    got = check_array(submission.call(f"{MODULE}.state_action_visitation", alpha, q_values),
                      "state_action_visitation", shape=q_values.shape)
    assert_close(got, reference.state_action_visitation(alpha, q_values),
                 "state_action_visitation with unreachable states and large Q", rtol=1e-7, atol=1e-10)
