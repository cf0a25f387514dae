"""Public tests of soft Q-learning (README sections 2.10-2.12): the soft max target and the Boltzmann policy."""
import numpy as np
import pytest
import torch

from hw3_qlearning_ac.dqn import DQNAgent, DQNConfig, boltzmann_policy, dqn_target, soft_q_target


def tensor(values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype)


NOT_DONE = torch.tensor([False, False])


def test_soft_q_target_by_hand():
    # alpha = 1: V(s') = log(e^0 + e^log3) = log 4; y = 1 + 0.5 * log 4
    y = soft_q_target(tensor([1.0]), tensor([False], torch.bool), tensor([[0.0, np.log(3.0)]]), gamma=0.5, alpha=1.0)
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.5 * np.log(4.0)], rtol=1e-6)


def test_soft_q_target_applies_the_temperature_inside_and_outside_the_log_sum_exp():
    # alpha = 2, Q(s', .) = [2, 4]: V = 2 * log(e^1 + e^2) ~ 4.6265 (not log(e^2 + e^4), not 2 * log(e^2 + e^4))
    y = soft_q_target(tensor([0.0]), tensor([False], torch.bool), tensor([[2.0, 4.0]]), gamma=1.0, alpha=2.0)
    np.testing.assert_allclose(y.numpy(), [2.0 * np.log(np.e + np.e ** 2)], rtol=1e-6)


def test_soft_q_target_does_not_bootstrap_from_a_terminal_state():
    y = soft_q_target(tensor([1.0, 1.0]), tensor([True, False], torch.bool), tensor([[5.0, 5.0], [5.0, 5.0]]),
                      gamma=0.5, alpha=1.0)
    np.testing.assert_allclose(y.numpy(), [1.0, 1.0 + 0.5 * (5.0 + np.log(2.0))], rtol=1e-6)


def test_soft_q_target_tends_to_the_dqn_target_as_alpha_goes_to_zero():
    rng = np.random.default_rng(0)
    next_q = tensor(rng.normal(size=(2, 4)) * 10)
    rewards = tensor([1.0, -1.0])
    hard = dqn_target(rewards, NOT_DONE, next_q, gamma=0.9)
    soft = soft_q_target(rewards, NOT_DONE, next_q, gamma=0.9, alpha=1e-3)
    np.testing.assert_allclose(soft.numpy(), hard.numpy(), atol=1e-2)
    assert (soft_q_target(rewards, NOT_DONE, next_q, 0.9, alpha=1.0) >= hard).all()  # the soft max is never below the max


def test_soft_q_target_is_stable_for_large_q_over_alpha():
    y = soft_q_target(tensor([0.0]), tensor([False], torch.bool), tensor([[1000.0, 999.0]]), gamma=1.0, alpha=0.01)
    assert torch.isfinite(y).all()
    assert y.item() == pytest.approx(1000.0, abs=1e-3)


def test_boltzmann_policy_by_hand():
    probs = boltzmann_policy(tensor([[0.0, np.log(3.0)]]), alpha=1.0)
    np.testing.assert_allclose(probs.numpy(), [[0.25, 0.75]], rtol=1e-6)
    probs = boltzmann_policy(tensor([[0.0, 2.0 * np.log(3.0)]]), alpha=2.0)  # exp(Q / alpha): same probabilities
    np.testing.assert_allclose(probs.numpy(), [[0.25, 0.75]], rtol=1e-6)


def test_boltzmann_policy_goes_from_greedy_to_uniform_with_the_temperature():
    q_values = tensor([[1.0, 3.0, 2.0]])
    np.testing.assert_allclose(boltzmann_policy(q_values, alpha=1e-3).numpy(), [[0.0, 1.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(boltzmann_policy(q_values, alpha=1e4).numpy(), [[1 / 3] * 3], atol=1e-3)
    probs = boltzmann_policy(tensor([[1000.0, 0.0]]), alpha=0.01)
    assert torch.isfinite(probs).all() and probs[0, 0].item() == pytest.approx(1.0)


def test_soft_q_agent_samples_its_boltzmann_policy():
    agent = DQNAgent(obs_shape=(2,), num_actions=2, config=DQNConfig(hidden_sizes=(), alpha=1.0))
    with torch.no_grad():
        agent.q_network.net[0].weight.copy_(tensor([[1.0, 0.0], [0.0, 1.0]]))
        agent.q_network.net[0].bias.zero_()
    observations = np.tile(np.array([0.0, np.log(3.0)], dtype=np.float32), (20_000, 1))
    actions = agent.get_action(observations, epsilon=0.0, rng=np.random.default_rng(0))
    assert np.mean(actions == 1) == pytest.approx(0.75, abs=0.015)  # epsilon does not matter: alpha explores
    np.testing.assert_array_equal(agent.get_action(observations[:3], deterministic=True), [1, 1, 1])


def test_soft_q_and_double_dqn_do_not_mix():
    with pytest.raises(ValueError, match="double_q"):
        DQNConfig(alpha=0.1, double_q=True)
