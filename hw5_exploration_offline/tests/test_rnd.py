"""Public tests of rnd.py: hand-computed errors and bonuses, and what an update may and may not change."""
import numpy as np
import pytest
import torch

from common.rollouts import Transitions
from hw3_qlearning_ac.dqn import DQNConfig
from hw5_exploration_offline.rnd import (RNDConfig, RNDDQNAgent, RNDModel, normalize_bonus,
                                         rnd_prediction_error)


def test_prediction_error_is_the_squared_norm_of_each_row():
    predicted = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]])
    target = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    # rows: 0 + 4 = 4; 1 + 1 = 2; 9 + 4 = 13 (a sum over features, not a mean)
    np.testing.assert_allclose(rnd_prediction_error(predicted, target).numpy(), [4.0, 2.0, 13.0])


def test_prediction_error_trains_the_predictor_only():
    predicted = torch.tensor([[1.0, 2.0]], requires_grad=True)
    target = torch.tensor([[0.0, 0.0]], requires_grad=True)
    rnd_prediction_error(predicted, target).sum().backward()
    np.testing.assert_allclose(predicted.grad.numpy(), [[2.0, 4.0]])  # d/dp (p - t)^2 = 2 (p - t)
    assert target.grad is None or torch.all(target.grad == 0)


def test_bonus_is_normalized_with_the_population_std():
    errors = torch.tensor([1.0, 2.0, 3.0, 6.0])
    # mean 3, population std sqrt((4 + 1 + 0 + 9) / 4) = sqrt(3.5)
    expected = (np.array([1.0, 2.0, 3.0, 6.0]) - 3.0) / np.sqrt(3.5)
    bonus = normalize_bonus(errors)
    np.testing.assert_allclose(bonus.numpy(), expected, rtol=1e-6)
    assert not bonus.requires_grad


def test_bonus_of_equal_errors_is_zero_not_nan():
    np.testing.assert_allclose(normalize_bonus(torch.full((5,), 2.5)).numpy(), np.zeros(5), atol=1e-6)


def test_rnd_update_moves_the_predictor_and_never_the_target():
    torch.manual_seed(0)
    model = RNDModel(obs_dim=2, config=RNDConfig(hidden_sizes=(16,), output_size=4, learning_rate=1e-2))
    target_before = {k: v.clone() for k, v in model.target.state_dict().items()}
    predictor_before = {k: v.clone() for k, v in model.predictor.state_dict().items()}
    observations = np.random.default_rng(0).random((32, 2), dtype=np.float32)
    expected_loss = model.prediction_errors(observations).mean()
    metrics = model.update(observations)
    np.testing.assert_allclose(metrics["rnd_loss"], expected_loss, rtol=1e-5)
    for name, value in model.target.state_dict().items():
        torch.testing.assert_close(value, target_before[name], rtol=0, atol=0)
    assert any(not torch.equal(v, predictor_before[k]) for k, v in model.predictor.state_dict().items())


def test_rnd_training_lowers_the_error_on_visited_states_more_than_elsewhere():
    torch.manual_seed(0)
    model = RNDModel(obs_dim=2, config=RNDConfig(hidden_sizes=(64, 64), output_size=8, learning_rate=3e-3))
    rng = np.random.default_rng(0)
    visited = rng.uniform(0.0, 0.3, size=(256, 2)).astype(np.float32)   # one corner of the square
    novel = rng.uniform(0.7, 1.0, size=(256, 2)).astype(np.float32)     # the opposite corner
    for _ in range(300):
        model.update(visited[rng.integers(0, 256, size=64)])
    assert model.prediction_errors(visited).mean() < 0.2 * model.prediction_errors(novel).mean()
    both = np.concatenate([visited[:32], novel[:32]])
    bonus = model.bonus(both)
    assert bonus.dtype == np.float32 and bonus[32:].mean() > 0 > bonus[:32].mean()


def _batch(rng, n=16):
    return Transitions(
        observations=rng.random((n, 2), dtype=np.float32), actions=rng.integers(0, 4, size=n),
        rewards=-np.ones(n, dtype=np.float32), next_observations=rng.random((n, 2), dtype=np.float32),
        terminated=np.zeros(n, dtype=bool), truncated=np.zeros(n, dtype=bool))


def test_agent_update_gives_dqn_the_mixed_reward_of_the_next_state(monkeypatch):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    agent = RNDDQNAgent((2,), 4, DQNConfig(hidden_sizes=(16,), batch_size=16),
                        RNDConfig(hidden_sizes=(16,), output_size=4, bonus_weight=0.5))
    batch = _batch(rng)
    expected_bonus = agent.rnd.bonus(batch.next_observations)  # before the predictor learns
    seen = {}
    original_update = agent.dqn.update

    def spy(dqn_batch):
        seen["batch"] = dqn_batch
        return original_update(dqn_batch)

    monkeypatch.setattr(agent.dqn, "update", spy)
    metrics = agent.update(batch)
    np.testing.assert_allclose(seen["batch"].rewards, batch.rewards + 0.5 * expected_bonus, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(seen["batch"].observations, batch.observations)
    np.testing.assert_array_equal(seen["batch"].actions, batch.actions)
    assert agent.rnd.num_updates == 1 and agent.dqn.num_updates == 1
    assert {"q_loss", "rnd_loss", "mixed_reward"} <= set(metrics)
    np.testing.assert_allclose(metrics["mixed_reward"], np.mean(batch.rewards + 0.5 * expected_bonus), rtol=1e-5)


def test_agent_rejects_image_observations():
    with pytest.raises(ValueError, match="vector observations"):
        RNDDQNAgent((4, 84, 84), 4)


def test_spread_first_layer_puts_every_kink_inside_the_unit_square():
    torch.manual_seed(0)
    agent = RNDDQNAgent((2,), 4, DQNConfig(hidden_sizes=(32,)), RNDConfig(hidden_sizes=(8,)), q_input_scale=15.0)
    first = agent.dqn.q_network.net[0]
    w, b = first.weight.detach(), first.bias.detach()
    # w . s + b = 0 for some s in [0, 1]^2  <=>  -b lies between the smallest and largest w . s on the square
    assert torch.all(-b >= w.clamp(max=0).sum(1) - 1e-5) and torch.all(-b <= w.clamp(min=0).sum(1) + 1e-5)
    assert w.std() > 5.0
    for name, value in agent.dqn.target_network.state_dict().items():
        torch.testing.assert_close(value, agent.dqn.q_network.state_dict()[name])
