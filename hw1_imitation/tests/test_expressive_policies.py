"""Public tests of expressive_policies.py (README 5): hand-computed values for every TODO."""
import math

import numpy as np
import pytest
import torch

from hw1_imitation.expressive_policies import (
    FlowPolicy,
    GaussianPolicy,
    MixturePolicy,
    behavior_cloning_loss,
    euler_sample,
    flow_matching_loss,
    gaussian_log_prob,
    mixture_log_prob,
)

LOG_2PI = math.log(2 * math.pi)


def constant_gaussian(mean, log_std) -> GaussianPolicy:
    """A GaussianPolicy whose mean is `mean` (2,) in every state: zero weights, the mean as the last bias."""
    policy = GaussianPolicy(2, 2, hidden_sizes=(8,))
    with torch.no_grad():
        for parameter in policy.mean_net.parameters():
            parameter.zero_()
        policy.mean_net[-1].bias.copy_(torch.tensor(mean))
        policy.log_std.copy_(torch.tensor(log_std))
    return policy


class VelocityOf:
    """A stand-in for FlowPolicy: `velocity(observations, points, taus)` given by a plain function."""

    def __init__(self, function):
        self.function = function

    def velocity(self, observations, points, taus):
        assert taus.shape == (points.shape[0],), "taus must have one entry per sample: (N,)"
        return self.function(observations, points, taus)


# --- gaussian_log_prob (README 5.1) ------------------------------------------------------------

def test_gaussian_log_prob_of_the_mean_of_a_standard_gaussian():
    # 2 dimensions, each -(1/2) log(2 pi)
    got = gaussian_log_prob(torch.zeros(1, 2), torch.zeros(2), torch.zeros(1, 2))
    np.testing.assert_allclose(got.numpy(), [-LOG_2PI], rtol=1e-6)


def test_gaussian_log_prob_hand_computed_and_summed_over_dimensions():
    # a = (1, 2), mu = (0, 0), sigma = (1, 2): -(1/2)(1 + 1) - log 2 - log(2 pi)
    got = gaussian_log_prob(torch.zeros(1, 2), torch.log(torch.tensor([1.0, 2.0])), torch.tensor([[1.0, 2.0]]))
    np.testing.assert_allclose(got.numpy(), [-1.0 - math.log(2.0) - LOG_2PI], rtol=1e-6)


def test_gaussian_log_prob_broadcasts_over_components():
    means = torch.tensor([[[0.0, 0.0], [1.0, 2.0]]])         # (N=1, K=2, d=2)
    got = gaussian_log_prob(means, torch.zeros(1, 2, 2), torch.tensor([[1.0, 2.0]])[:, None, :])
    assert got.shape == (1, 2)
    np.testing.assert_allclose(got.numpy(), [[-2.5 - LOG_2PI, -LOG_2PI]], rtol=1e-6)


# --- behavior_cloning_loss and the Gaussian's evaluation action (README 5.1) -----------------

def test_behavior_cloning_loss_is_the_negative_mean_log_likelihood():
    policy = constant_gaussian([0.0, 0.0], [0.0, 0.0])
    actions = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    loss = behavior_cloning_loss(policy, torch.zeros(2, 2), actions)
    # -mean(log N) = mean(|a|^2 / 2) + log(2 pi) = (0.5 + 4.5) / 2 + log(2 pi)
    np.testing.assert_allclose(loss.item(), 2.5 + LOG_2PI, rtol=1e-6)
    loss.backward()
    assert policy.log_std.grad is not None, "the loss must be differentiable in the policy's parameters"


def test_behavior_cloning_loss_does_not_sample_from_the_policy():
    policy = constant_gaussian([0.5, -0.5], [0.3, -0.2])
    obs, actions = torch.zeros(5, 2), torch.randn(5, 2)
    first, second = behavior_cloning_loss(policy, obs, actions), behavior_cloning_loss(policy, obs, actions)
    assert first.item() == second.item(), "the same data must give the same loss: use log_prob, not samples"


def test_gaussian_act_returns_the_mean_not_a_sample():
    policy = constant_gaussian([0.25, 0.75], [0.5, 0.5])
    actions = policy.act(np.zeros((4, 2), np.float32))
    assert isinstance(actions, np.ndarray) and actions.shape == (4, 2)
    np.testing.assert_allclose(actions, np.tile([0.25, 0.75], (4, 1)), atol=1e-6)


# --- mixture_log_prob (README 5.2) -------------------------------------------------------------

def test_mixture_of_identical_components_is_that_gaussian():
    means = torch.tensor([[[1.0, -1.0], [1.0, -1.0]]])
    log_stds = torch.full((1, 2, 2), 0.5)
    actions = torch.tensor([[0.0, 0.0]])
    got = mixture_log_prob(torch.tensor([[3.0, -2.0]]), means, log_stds, actions)
    np.testing.assert_allclose(got.numpy(), gaussian_log_prob(means[:, 0], log_stds[:, 0], actions).numpy(), rtol=1e-6)


def test_mixture_log_prob_uses_the_weights():
    # w = softmax([0, log 3]) = [1/4, 3/4]; the action sits on component 2's mean, 10 away from component 1's
    logits = torch.tensor([[0.0, math.log(3.0)]])
    means = torch.tensor([[[10.0], [0.0]]])              # (1, K=2, d=1)
    log_stds = torch.zeros(1, 2, 1)
    got = mixture_log_prob(logits, means, log_stds, torch.zeros(1, 1))
    expected = math.log(0.25 * math.exp(-50.0) + 0.75) - 0.5 * LOG_2PI
    np.testing.assert_allclose(got.numpy(), [expected], rtol=1e-6)


def test_mixture_log_prob_stays_finite_far_from_every_component():
    # log N is about -5000 and -4608 for the two components: exp underflows, logsumexp does not
    logits = torch.tensor([[0.0, 0.0]])
    means = torch.tensor([[[0.0], [4.0]]])
    log_stds = torch.zeros(1, 2, 1)
    got = mixture_log_prob(logits, means, log_stds, torch.tensor([[100.0]]))
    expected = -0.5 * 96.0 ** 2 - 0.5 * LOG_2PI + math.log(0.5 + 0.5 * math.exp(-0.5 * (100.0 ** 2 - 96.0 ** 2)))
    assert torch.isfinite(got).all(), "log pi must stay finite for actions far from every component"
    np.testing.assert_allclose(got.numpy(), [expected], rtol=1e-5)


def test_mixture_policy_log_prob_has_one_value_per_sample():
    policy = MixturePolicy(3, 2, num_components=4, hidden_sizes=(16,))
    got = policy.log_prob(torch.randn(7, 3), torch.randn(7, 2))
    assert got.shape == (7,) and torch.isfinite(got).all()


# --- flow matching (README 5.3) ----------------------------------------------------------------

def test_flow_matching_loss_of_a_zero_velocity_is_the_squared_distance_noise_to_action():
    actions, noise = torch.tensor([[1.0, 2.0], [0.0, -1.0]]), torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    loss = flow_matching_loss(VelocityOf(lambda s, x, tau: torch.zeros_like(x)), torch.zeros(2, 2), actions, noise,
                              torch.tensor([0.3, 0.8]))
    # target a - x_0: (1, 2) and (-1, -2); squared norms 5 and 5, summed over dimensions, averaged over the batch
    np.testing.assert_allclose(loss.item(), 5.0, rtol=1e-6)


def test_flow_matching_loss_target_and_interpolation_directions():
    # velocity = x_tau itself. At tau = 1, x_tau = a, so the error is a - (a - x_0) = x_0;
    # at tau = 0, x_tau = x_0, so the error is x_0 - (a - x_0) = 2 x_0 - a.
    actions, noise = torch.tensor([[3.0], [3.0]]), torch.tensor([[1.0], [1.0]])
    loss = flow_matching_loss(VelocityOf(lambda s, x, tau: x), torch.zeros(2, 1), actions, noise, torch.tensor([1.0, 0.0]))
    np.testing.assert_allclose(loss.item(), (1.0 ** 2 + (2.0 - 3.0) ** 2) / 2, rtol=1e-6)


def test_euler_sample_with_a_constant_velocity_moves_by_it():
    noise = torch.tensor([[0.5, -0.5]])
    got = euler_sample(VelocityOf(lambda s, x, tau: torch.tensor([[2.0, 1.0]])), torch.zeros(1, 3), noise, 7)
    np.testing.assert_allclose(got.numpy(), [[2.5, 0.5]], rtol=1e-6)


@pytest.mark.parametrize("num_steps", [1, 4])
def test_euler_sample_runs_tau_forward_from_zero(num_steps):
    # v = tau: Euler sums (1/K) * k/K for k = 0..K-1, i.e. (K - 1) / (2K); from tau = 1 down it would be (K + 1) / (2K)
    got = euler_sample(VelocityOf(lambda s, x, tau: tau[:, None].expand_as(x)), torch.zeros(2, 1), torch.zeros(2, 1),
                       num_steps)
    np.testing.assert_allclose(got.numpy(), np.full((2, 1), (num_steps - 1) / (2 * num_steps)), atol=1e-6)


def test_flow_policy_samples_have_the_action_shape():
    policy = FlowPolicy(2, 2, hidden_sizes=(16,), num_steps=3)
    actions = policy.act(np.zeros((5, 2), np.float32))
    assert actions.shape == (5, 2) and np.isfinite(actions).all()
