"""Public tests of policies.py, critics.py, agent.py and ppo.py: shapes and values you can derive."""
import copy
import math

import numpy as np
import pytest
import torch

from hw2_policy_gradient.agent import PGAgent, policy_gradient_loss
from hw2_policy_gradient.critics import ValueCritic
from hw2_policy_gradient.policies import CategoricalPolicy, GaussianPolicy
from hw2_policy_gradient.ppo import PPOAgent, clipped_surrogate_loss

torch.set_num_threads(1)


def test_categorical_policy_shapes_and_probabilities():
    torch.manual_seed(0)
    policy = CategoricalPolicy(obs_dim=4, num_actions=3)
    obs = np.zeros((5, 4), dtype=np.float32)
    actions = policy.get_action(obs)
    assert actions.shape == (5,)
    assert set(actions.tolist()) <= {0, 1, 2}
    obs_t = torch.zeros(5, 4)
    log_probs = torch.stack([policy.log_prob(obs_t, torch.full((5,), a)) for a in range(3)])
    assert log_probs.shape == (3, 5)
    np.testing.assert_allclose(log_probs.exp().sum(dim=0).detach().numpy(), np.ones(5), rtol=1e-5)
    assert policy.entropy(obs_t).shape == (5,)


def test_categorical_log_prob_and_entropy_by_hand():
    # A linear policy (no hidden layer) whose logits we set: in state [0, 0] the logits are
    # log [1, 2, 3], so pi = [1/6, 2/6, 3/6]; in state [1, 0] they are log [1, 2, 3] + log [3, 1.5, 1]
    # = log [3, 3, 3], so pi is uniform.
    policy = CategoricalPolicy(obs_dim=2, num_actions=3, hidden_sizes=())
    with torch.no_grad():
        policy.logits_net[0].weight.copy_(torch.tensor([[math.log(3), 0.0], [math.log(1.5), 0.0], [0.0, 0.0]]))
        policy.logits_net[0].bias.copy_(torch.log(torch.tensor([1.0, 2.0, 3.0])))
    obs = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    log_prob = policy.log_prob(obs, torch.tensor([0, 1, 2, 1]))
    np.testing.assert_allclose(log_prob.detach().numpy(), np.log([1 / 6, 2 / 6, 3 / 6, 1 / 3]), rtol=1e-5)
    # H = -sum_a pi(a) log pi(a)
    entropy_first = -(1 / 6 * math.log(1 / 6) + 2 / 6 * math.log(2 / 6) + 3 / 6 * math.log(3 / 6))
    entropy = policy.entropy(obs)
    np.testing.assert_allclose(entropy.detach().numpy(), [entropy_first] * 3 + [math.log(3)], rtol=1e-5)


def test_categorical_log_prob_has_a_gradient():
    policy = CategoricalPolicy(obs_dim=2, num_actions=3)
    policy.log_prob(torch.ones(4, 2), torch.tensor([0, 1, 2, 0])).sum().backward()
    assert policy.logits_net[-1].bias.grad is not None and policy.logits_net[-1].bias.grad.abs().sum() > 0


def test_gaussian_log_prob_and_entropy_with_a_mean_and_two_stds_by_hand():
    # mu(s) = [s, 1] (a linear mean, no hidden layer), sigma = [1, 2]
    policy = GaussianPolicy(obs_dim=1, act_dim=2, hidden_sizes=())
    with torch.no_grad():
        policy.mean_net[0].weight.copy_(torch.tensor([[1.0], [0.0]]))
        policy.mean_net[0].bias.copy_(torch.tensor([0.0, 1.0]))
        policy.log_std.copy_(torch.log(torch.tensor([1.0, 2.0])))
    obs = torch.tensor([[1.0], [2.0]])
    actions = torch.tensor([[2.0, 3.0], [2.0, 1.0]])
    # log N(a; mu, sigma^2) = -(a - mu)^2 / (2 sigma^2) - log sigma - log(2 pi) / 2, summed over 2 dims
    # sample 0: mu = [1, 1], z = [1, 1]: (-1/2 - 0) + (-1/2 - log 2) - log(2 pi)
    # sample 1: mu = [2, 1], z = [0, 0]: -log 2 - log(2 pi)
    expected = [-1.0 - math.log(2) - math.log(2 * math.pi), -math.log(2) - math.log(2 * math.pi)]
    np.testing.assert_allclose(policy.log_prob(obs, actions).detach().numpy(), expected, rtol=1e-5)
    # H = sum_j log(2 pi e sigma_j^2) / 2 = log(2 pi e) + log 2, in every state
    expected_entropy = math.log(2 * math.pi * math.e) + math.log(2)
    np.testing.assert_allclose(policy.entropy(obs).detach().numpy(), [expected_entropy] * 2, rtol=1e-5)


def test_gaussian_log_prob_is_summed_over_action_dimensions():
    policy = GaussianPolicy(obs_dim=2, act_dim=3, initial_log_std=0.0)
    with torch.no_grad():  # make the mean 0 for every state
        for p in policy.mean_net.parameters():
            p.zero_()
    obs, actions = torch.zeros(4, 2), torch.zeros(4, 3)
    log_prob = policy.log_prob(obs, actions)
    assert log_prob.shape == (4,)
    # standard normal density at 0 is 1/sqrt(2 pi) per dimension, 3 dimensions
    np.testing.assert_allclose(log_prob.detach().numpy(), np.full(4, -1.5 * math.log(2 * math.pi)), rtol=1e-5)
    entropy = policy.entropy(obs)
    assert entropy.shape == (4,)
    np.testing.assert_allclose(entropy.detach().numpy(), np.full(4, 1.5 * math.log(2 * math.pi * math.e)), rtol=1e-5)


def test_gaussian_actions_and_their_log_probs_have_the_right_shapes():
    policy = GaussianPolicy(obs_dim=2, act_dim=3)
    actions = policy.get_action(np.zeros((7, 2), dtype=np.float32))
    assert actions.shape == (7, 3) and actions.dtype == np.float32
    assert policy.log_prob(torch.zeros(7, 2), torch.as_tensor(actions)).shape == (7,)


def test_policy_gradient_loss_sign_and_entropy_bonus():
    log_probs = torch.tensor([-1.0, -2.0], requires_grad=True)
    advantages = torch.tensor([1.0, -1.0])
    loss = policy_gradient_loss(log_probs, advantages)
    assert loss.item() == pytest.approx(-(-1.0 * 1.0 + -2.0 * -1.0) / 2)
    loss.backward()
    # descending the loss must raise the log-prob of the action with positive advantage
    np.testing.assert_allclose(log_probs.grad.numpy(), [-0.5, 0.5])
    with_bonus = policy_gradient_loss(log_probs, advantages, torch.tensor([0.7, 0.7]), entropy_coefficient=0.1)
    assert with_bonus.item() == pytest.approx(loss.item() - 0.07)


def test_critic_update_fits_a_constant():
    torch.manual_seed(0)
    critic = ValueCritic(obs_dim=3, learning_rate=1e-2)
    obs = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    first = critic.update(obs, np.full(64, 5.0, dtype=np.float32), num_steps=1)
    last = critic.update(obs, np.full(64, 5.0, dtype=np.float32), num_steps=200)
    assert last < 0.1 * first
    assert critic.predict(obs).shape == (64,)


def _constant_critic(value, obs_dim=3, learning_rate=0.1):
    """A critic whose V(s) = value in every state (all weights 0, output bias = value)."""
    critic = ValueCritic(obs_dim=obs_dim, hidden_sizes=(), learning_rate=learning_rate)
    with torch.no_grad():
        critic.value_net[0].weight.zero_()
        critic.value_net[0].bias.fill_(value)
    return critic


def test_critic_update_returns_the_mean_squared_error_before_its_step():
    critic = _constant_critic(1.0, learning_rate=0.1)
    obs = np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32)
    targets = np.array([0.0, 2.0, 4.0], dtype=np.float32)
    # V = 1 everywhere: ((1 - 0)^2 + (1 - 2)^2 + (1 - 4)^2) / 3 = 11 / 3 (a mean, not a sum)
    loss = critic.update(obs, targets, num_steps=1)
    assert isinstance(loss, float)
    assert loss == pytest.approx(11 / 3, rel=1e-5)
    # Adam's first step moves each parameter by learning_rate against the sign of its gradient:
    # dL/db = 2 * mean(V - y) = 2 * (1 - 2) < 0, so the output bias goes up by 0.1
    assert critic.value_net[0].bias.item() == pytest.approx(1.1, rel=1e-4)


def test_critic_update_returns_the_loss_of_its_last_step():
    torch.manual_seed(0)
    obs = np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32)
    targets = np.arange(8, dtype=np.float32)
    critic = ValueCritic(obs_dim=3, learning_rate=0.05)
    twin = copy.deepcopy(critic)
    loss_of_second_step = critic.update(obs, targets, num_steps=2)
    twin.update(obs, targets, num_steps=1)  # the twin stops where the second step starts
    assert loss_of_second_step == pytest.approx(float(np.mean((twin.predict(obs) - targets) ** 2)), rel=1e-5)


def test_critic_update_with_zero_steps_changes_nothing():
    critic = _constant_critic(1.0)
    assert critic.update(np.zeros((2, 3), np.float32), np.array([5.0, 5.0], np.float32), num_steps=0) == 0.0
    assert critic.value_net[0].bias.item() == 1.0


def test_clipped_surrogate_inside_the_clip_range_is_the_ratio_times_the_advantage():
    # ratios e^0.1 ~ 1.105 and e^-0.1 ~ 0.905 are inside [0.8, 1.2]: L = -mean(r A)
    log_probs = torch.tensor([0.1, -0.1], requires_grad=True)
    advantages = torch.tensor([2.0, -1.0])
    loss = clipped_surrogate_loss(log_probs, torch.zeros(2), advantages, clip_epsilon=0.2)
    ratios = np.exp([0.1, -0.1])
    assert loss.item() == pytest.approx(-(ratios[0] * 2.0 + ratios[1] * -1.0) / 2, rel=1e-5)
    loss.backward()
    # d(-r A / 2)/d log_prob = -r A / 2
    np.testing.assert_allclose(log_probs.grad.numpy(), [-ratios[0] * 2.0 / 2, ratios[1] * 1.0 / 2], rtol=1e-5)


def test_clipped_surrogate_is_pessimistic():
    # A > 0 with the ratio BELOW 1 - eps (e^-0.5 ~ 0.61), A < 0 with it ABOVE 1 + eps (e^0.5 ~ 1.65):
    # the unclipped term is the smaller one, so it is used and its gradient is not zero
    log_probs = torch.tensor([-0.5, 0.5], requires_grad=True)
    advantages = torch.tensor([1.0, -1.0])
    loss = clipped_surrogate_loss(log_probs, torch.zeros(2), advantages, clip_epsilon=0.2)
    ratios = np.exp([-0.5, 0.5])
    assert loss.item() == pytest.approx(-(ratios[0] * 1.0 + ratios[1] * -1.0) / 2, rel=1e-5)
    loss.backward()
    np.testing.assert_allclose(log_probs.grad.numpy(), [-ratios[0] / 2, ratios[1] / 2], rtol=1e-5)


def test_clipped_surrogate_treats_the_old_log_probs_as_constants():
    old = torch.tensor([0.2, -0.3], requires_grad=True)
    clipped_surrogate_loss(torch.tensor([0.1, 0.1], requires_grad=True), old, torch.tensor([1.0, -1.0]),
                           clip_epsilon=0.2).backward()
    assert old.grad is None or torch.all(old.grad == 0)


def test_clipped_surrogate_is_flat_beyond_the_clip_range():
    advantages = torch.tensor([1.0, -1.0])
    old = torch.zeros(2)
    # ratios e^0.5 ~ 1.65 (A > 0: clipped at 1.2) and e^-0.5 ~ 0.61 (A < 0: clipped at 0.8)
    log_probs = torch.tensor([0.5, -0.5], requires_grad=True)
    loss = clipped_surrogate_loss(log_probs, old, advantages, clip_epsilon=0.2)
    assert loss.item() == pytest.approx(-(1.2 * 1.0 + 0.8 * -1.0) / 2)
    loss.backward()
    np.testing.assert_allclose(log_probs.grad.numpy(), [0.0, 0.0])


def _random_batch(n=40, obs_dim=4, seed=0):
    rng = np.random.default_rng(seed)
    terminated = np.zeros(n, dtype=bool)
    terminated[n // 2] = True
    truncated = np.zeros(n, dtype=bool)
    truncated[-1] = True
    obs = rng.normal(size=(n, obs_dim)).astype(np.float32)
    return obs, rng.normal(size=n).astype(np.float32), np.roll(obs, -1, axis=0), terminated, truncated


@pytest.mark.parametrize("agent_class", [PGAgent, PPOAgent])
@pytest.mark.parametrize("settings", [
    {},
    {"use_baseline": True},
    {"use_baseline": True, "gae_lambda": 0.95, "entropy_coefficient": 0.01},
])
def test_agent_update_changes_the_policy_and_reports_losses(agent_class, settings):
    torch.manual_seed(0)
    agent = agent_class(4, 2, True, settings)
    obs, rewards, next_obs, terminated, truncated = _random_batch()
    actions = agent.get_action(obs)
    before = [p.detach().clone() for p in agent.actor.parameters()]
    metrics = agent.update(obs, actions, rewards, next_obs, terminated, truncated)
    assert "actor_loss" in metrics and np.isfinite(metrics["actor_loss"])
    assert ("baseline_loss" in metrics) == settings.get("use_baseline", False)
    assert any(not torch.equal(b, p) for b, p in zip(before, agent.actor.parameters()))
