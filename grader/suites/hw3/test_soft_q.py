"""Hidden tests of dqn.py, part "soft_q" (README 2.10-2.11): the soft Q target and the Boltzmann policy,
exact values against the reference on fresh random inputs, and both through the agent (alpha set).

Temperatures span the configs' sweep (alpha 0.01 to 1) and beyond, where alpha matters: alpha != 1
inside and outside the log-sum-exp, and Q / alpha large enough that exp overflows float32 unless the
soft max is computed stably (Q-values of a few hundred, as CartPole's reach, with alpha 0.01).
"""
import numpy as np
import torch

from common.rollouts import Transitions
from dqn_inputs import (agent_settings, assert_online_network_matches, credit_for_cases, q_table, random_gamma,
                        remote_tensor, replay_batch, replay_flags, twin_agents)
from grader.harness.api import assert_close, check_array, check_float, points
from hw3_qlearning_ac import dqn as reference

MODULE = "hw3_qlearning_ac.dqn"


def random_alpha(rng, low=0.05, high=3.0) -> float:
    """A temperature != 1, log-uniform in [low, high]."""
    while True:
        alpha = round(float(np.exp(rng.uniform(np.log(low), np.log(high)))), 4)
        if abs(alpha - 1.0) > 0.1:
            return alpha


# ----------------------------------------------------------------------------------- soft_q_target (2.10)
def soft_target_inputs(rng, scale=None):
    batch_size, num_actions = int(rng.integers(16, 80)), int(rng.integers(2, 7))
    terminated, _ = replay_flags(rng, batch_size)
    rewards = rng.normal(0.0, rng.uniform(0.5, 3.0), size=batch_size).astype(np.float32)
    return rewards, terminated, q_table(rng, batch_size, num_actions, scale), random_gamma(rng)


def reference_soft_target(rewards, terminated, next_q, gamma, alpha):
    return reference.soft_q_target(torch.as_tensor(rewards), torch.as_tensor(terminated), torch.as_tensor(next_q),
                                   gamma, alpha).numpy()


def remote_soft_target(submission, rewards, terminated, next_q, gamma, alpha, grad=False):
    return submission.new(f"{MODULE}.soft_q_target", remote_tensor(submission, rewards),
                          remote_tensor(submission, terminated), remote_tensor(submission, next_q, grad), gamma, alpha)


@points(2.5, part="soft_q")
def test_soft_q_target_matches_reference(submission, rng, credit):
    """soft_q_target: r + gamma (1 - d) alpha logsumexp(Q'(s', .) / alpha), a low and a high temperature"""
    def check(alpha):
        rewards, terminated, next_q, gamma = soft_target_inputs(rng, scale=float(rng.uniform(0.5, 3.0)))
        got = submission.call(f"{MODULE}.soft_q_target", remote_tensor(submission, rewards),
                              remote_tensor(submission, terminated.astype(np.float32)),  # as update passes it
                              remote_tensor(submission, next_q), gamma, alpha)
        got = check_array(got, "soft_q_target", shape=(len(rewards),))
        assert_close(got, reference_soft_target(rewards, terminated, next_q, gamma, alpha),
                     f"soft_q_target with alpha = {alpha} (alpha inside and outside the log-sum-exp)",
                     rtol=1e-4, atol=1e-4)
    low, high = random_alpha(rng, 0.05, 0.7), random_alpha(rng, 1.3, 5.0)
    credit_for_cases(credit, [lambda: check(low), lambda: check(high)])


@points(1.5, part="soft_q")
def test_soft_q_target_is_stable_for_large_q_over_alpha(submission, rng):
    """soft_q_target with Q-values of a few hundred and alpha about 0.01 (exp(Q / alpha) overflows)"""
    rewards, terminated, next_q, gamma = soft_target_inputs(rng)
    next_q = (next_q + rng.uniform(100, 500)).astype(np.float32)
    alpha = round(float(rng.uniform(0.005, 0.03)), 4)
    got = submission.call(f"{MODULE}.soft_q_target", remote_tensor(submission, rewards),
                          remote_tensor(submission, terminated), remote_tensor(submission, next_q), gamma, alpha)
    got = check_array(got, f"soft_q_target with alpha = {alpha} and Q-values near {float(next_q.mean()):.0f}",
                      shape=(len(rewards),))
    assert_close(got, reference_soft_target(rewards, terminated, next_q, gamma, alpha),
                 f"soft_q_target with alpha = {alpha} (use torch.logsumexp)", rtol=1e-4, atol=1e-3)


@points(1, part="soft_q")
def test_soft_q_target_masks_terminal_states_and_carries_no_gradient(submission, rng):
    """soft_q_target: y = r where terminated, detached from next-Q that requires grad, and right elsewhere"""
    alpha = random_alpha(rng)
    rewards, terminated, next_q, gamma = soft_target_inputs(rng, scale=float(rng.uniform(0.5, 3.0)))
    y = remote_soft_target(submission, rewards, terminated, next_q, gamma, alpha, grad=True)
    assert y.attr("requires_grad") is False, \
        "soft_q_target returned a tensor that requires grad: the targets must be detached"
    got = check_array(y.detach(), "soft_q_target", shape=(len(rewards),))
    assert_close(got[terminated], rewards[terminated], "soft_q_target on terminated transitions (y = r)",
                 rtol=1e-6, atol=1e-6)
    expected = reference_soft_target(rewards, terminated, next_q, gamma, alpha)
    assert_close(got[~terminated], expected[~terminated], f"soft_q_target (alpha = {alpha}) on transitions that go on",
                 rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------------- boltzmann_policy (2.11)
@points(2, part="soft_q")
def test_boltzmann_policy_matches_reference(submission, rng, credit):
    """boltzmann_policy: softmax(Q / alpha) over actions, a low and a high temperature"""
    def check(alpha):
        n, num_actions = int(rng.integers(10, 80)), int(rng.integers(2, 7))
        q_values = q_table(rng, n, num_actions, scale=float(rng.uniform(0.2, 2.0)))
        got = submission.call(f"{MODULE}.boltzmann_policy", remote_tensor(submission, q_values), alpha)
        got = check_array(got, "boltzmann_policy", shape=(n, num_actions))
        expected = reference.boltzmann_policy(torch.as_tensor(q_values), alpha).numpy()
        assert_close(got, expected, f"boltzmann_policy with alpha = {alpha}", rtol=1e-3, atol=1e-6)
    low, high = random_alpha(rng, 0.05, 0.7), random_alpha(rng, 1.3, 5.0)
    credit_for_cases(credit, [lambda: check(low), lambda: check(high)])


@points(1, part="soft_q")
def test_boltzmann_policy_is_stable_for_large_q_over_alpha(submission, rng):
    """boltzmann_policy with Q-values of a few hundred and alpha about 0.01"""
    n, num_actions = int(rng.integers(10, 80)), int(rng.integers(2, 7))
    q_values = (q_table(rng, n, num_actions, scale=0.05) + rng.uniform(100, 300)).astype(np.float32)
    alpha = round(float(rng.uniform(0.01, 0.03)), 4)
    got = submission.call(f"{MODULE}.boltzmann_policy", remote_tensor(submission, q_values), alpha)
    got = check_array(got, f"boltzmann_policy with alpha = {alpha} and Q-values near {float(q_values.mean()):.0f}",
                      shape=(n, num_actions))
    # in float64: float32 rounds Q / alpha (about 10^4) by up to 1e-3, which moves probabilities by as much
    expected = reference.boltzmann_policy(torch.as_tensor(q_values, dtype=torch.float64), alpha).numpy()
    assert_close(got, expected, f"boltzmann_policy with alpha = {alpha} (subtract the row's max, or torch.softmax)",
                 rtol=0, atol=5e-3)


# ----------------------------------------------------------------------------------- the agent with alpha set
@points(1, part="soft_q")
def test_compute_targets_soft_q(submission, rng):
    """DQNAgent.compute_targets with alpha set: the soft max of the target network (soft_q_cartpole configs)"""
    obs_dim, num_actions = int(rng.integers(3, 9)), int(rng.integers(2, 7))
    settings = agent_settings(rng, alpha=random_alpha(rng, 0.01, 1.0))
    local, student = twin_agents(submission, rng, settings, obs_dim, num_actions)
    batch = replay_batch(rng, int(rng.integers(16, 80)), obs_dim, num_actions)
    args = (batch["rewards"], batch["next_observations"], batch["terminated"].astype(np.float32))  # as update passes it
    got = student.compute_targets(*[remote_tensor(submission, a) for a in args])
    got = check_array(got, "DQNAgent.compute_targets", shape=(len(args[0]),))
    expected = local.compute_targets(*[torch.as_tensor(a) for a in args]).numpy()
    assert_close(got, expected, f"DQNAgent.compute_targets with alpha = {settings['alpha']}", rtol=1e-4, atol=1e-4)


@points(1, part="soft_q")
def test_update_soft_q(submission, rng):
    """DQNAgent.update with alpha set: two updates, the targets and the online network"""
    obs_dim, num_actions = int(rng.integers(3, 9)), int(rng.integers(2, 7))
    settings = agent_settings(rng, alpha=random_alpha(rng, 0.01, 1.0))
    local, student = twin_agents(submission, rng, settings, obs_dim, num_actions)
    for _ in range(2):
        batch = replay_batch(rng, int(rng.integers(32, 80)), obs_dim, num_actions)  # TD errors around delta = 1
        got = student.update(submission.new("common.rollouts.Transitions", **batch))
        expected = local.update(Transitions(**batch))
        assert isinstance(got, dict) and "target_values" in got, "update must return a dict with 'target_values'"
        assert_close(check_float(got["target_values"], "update's target_values"), expected["target_values"],
                     f"update's target_values (alpha = {settings['alpha']})", rtol=1e-4, atol=1e-4)
    assert_online_network_matches(submission, student, local,
                                  f"the online network after 2 soft Q-learning updates (alpha = {settings['alpha']})")
