"""Public tests of policies.py, critics.py, agent.py and ppo.py: shapes and values you can derive."""
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
