"""Public tests of dynamics.py: normalization, bootstrapping and the ensemble's predictions and loss."""
import numpy as np
import pytest
import torch

from hw4_model_based.dynamics import (
    NORMALIZATION_EPS, EnsembleDynamics, NormalizationStats, bootstrap_indices, normalization_stats, train_ensemble,
)

torch.set_num_threads(1)


# --- normalization_stats ------------------------------------------------------------------------


def test_normalization_stats_by_hand():
    obs = np.array([[0.0, 0.0], [2.0, 4.0]])
    actions = np.array([[1.0], [3.0]])
    next_obs = np.array([[1.0, 0.0], [3.0, 8.0]])       # deltas [1, 0] and [1, 4]
    stats = normalization_stats(obs, actions, next_obs)
    np.testing.assert_allclose(stats.obs_mean, [1.0, 2.0])
    np.testing.assert_allclose(stats.obs_std, [1.0, 2.0], rtol=1e-6)     # population std: ddof=0
    np.testing.assert_allclose(stats.act_mean, [2.0])
    np.testing.assert_allclose(stats.act_std, [1.0], rtol=1e-6)
    np.testing.assert_allclose(stats.delta_mean, [1.0, 2.0])
    np.testing.assert_allclose(stats.delta_std, [NORMALIZATION_EPS, 2.0], rtol=1e-6)  # a constant delta: std eps
    for value in vars(stats).values():
        assert value.dtype == np.float32


def test_normalization_stats_of_deltas_not_of_next_observations():
    rng = np.random.default_rng(0)
    obs = rng.normal(5.0, 3.0, size=(500, 3))
    next_obs = obs + rng.normal(0.1, 0.01, size=(500, 3))
    stats = normalization_stats(obs, rng.normal(size=(500, 2)), next_obs)
    np.testing.assert_allclose(stats.delta_mean, (next_obs - obs).mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(stats.delta_std, (next_obs - obs).std(axis=0), rtol=1e-5)


# --- bootstrap_indices --------------------------------------------------------------------------


def test_bootstrap_indices_are_a_resample_with_replacement_per_member():
    indices = bootstrap_indices(1000, 5, np.random.default_rng(0))
    assert indices.shape == (5, 1000)
    assert np.issubdtype(indices.dtype, np.integer)
    assert indices.min() >= 0 and indices.max() < 1000
    for row in indices:
        # with replacement: about 1 - 1/e = 63% of the transitions are drawn at least once
        assert 0.58 < len(np.unique(row)) / 1000 < 0.68
    assert len({tuple(row) for row in indices}) == 5     # every member gets its own resample


def test_bootstrap_indices_use_the_given_rng():
    first = bootstrap_indices(50, 3, np.random.default_rng(7))
    np.testing.assert_array_equal(first, bootstrap_indices(50, 3, np.random.default_rng(7)))


# --- the ensemble -------------------------------------------------------------------------------


def _model_with_stats(obs_dim=3, act_dim=2, members=4, seed=0):
    torch.manual_seed(seed)
    model = EnsembleDynamics(obs_dim, act_dim, num_members=members, hidden_sizes=(16, 16))
    rng = np.random.default_rng(seed)
    model.set_normalization(NormalizationStats(
        obs_mean=rng.normal(size=obs_dim).astype(np.float32), obs_std=rng.uniform(0.5, 2, obs_dim).astype(np.float32),
        act_mean=rng.normal(size=act_dim).astype(np.float32), act_std=rng.uniform(0.5, 2, act_dim).astype(np.float32),
        delta_mean=rng.normal(size=obs_dim).astype(np.float32), delta_std=rng.uniform(0.5, 2, obs_dim).astype(np.float32),
    ))
    return model


def _manual_normalized_delta(model, obs, actions):
    inputs = torch.cat([(obs - model.obs_mean) / model.obs_std, (actions - model.act_mean) / model.act_std], dim=-1)
    return model.network(inputs)


def test_predict_normalized_delta_normalizes_the_inputs():
    model = _model_with_stats()
    obs, actions = torch.randn(4, 7, 3), torch.randn(4, 7, 2)
    expected = _manual_normalized_delta(model, obs, actions)
    torch.testing.assert_close(model.predict_normalized_delta(obs, actions), expected)


def test_predict_next_obs_adds_the_unnormalized_delta_to_the_observation():
    model = _model_with_stats()
    obs, actions = torch.randn(4, 7, 3), torch.randn(4, 7, 2)
    expected = obs + _manual_normalized_delta(model, obs, actions) * model.delta_std + model.delta_mean
    torch.testing.assert_close(model.predict_next_obs(obs, actions), expected)


def test_predict_next_obs_with_a_zero_network_predicts_the_mean_delta():
    model = _model_with_stats()
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.zero_()
            layer.bias.zero_()
    obs = torch.randn(4, 5, 3)
    torch.testing.assert_close(model.predict_next_obs(obs, torch.randn(4, 5, 2)), obs + model.delta_mean)


def test_each_member_predicts_its_own_row():
    model = _model_with_stats()
    obs, actions = torch.randn(4, 6, 3), torch.randn(4, 6, 2)
    full = model.predict_next_obs(obs, actions)
    changed = obs.clone()
    changed[2] += 1.0                     # change only member 2's inputs
    after = model.predict_next_obs(changed, actions)
    torch.testing.assert_close(after[[0, 1, 3]], full[[0, 1, 3]])
    assert not torch.allclose(after[2], full[2])


def test_loss_is_the_mean_squared_error_of_normalized_deltas():
    model = _model_with_stats()
    obs, actions, next_obs = torch.randn(4, 8, 3), torch.randn(4, 8, 2), torch.randn(4, 8, 3)
    target = ((next_obs - obs) - model.delta_mean) / model.delta_std
    expected = ((_manual_normalized_delta(model, obs, actions) - target) ** 2).mean()
    torch.testing.assert_close(model.loss(obs, actions, next_obs), expected)


def test_loss_of_a_zero_network_by_hand():
    model = EnsembleDynamics(1, 1, num_members=2, hidden_sizes=(4,))
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.zero_()
            layer.bias.zero_()
    model.set_normalization(NormalizationStats(*(np.array([v], np.float32) for v in (0, 1, 0, 1, 1.0, 2.0))))
    obs, actions = torch.zeros(2, 2, 1), torch.zeros(2, 2, 1)
    next_obs = torch.tensor([[[1.0], [3.0]], [[5.0], [-1.0]]])   # normalized targets 0, 1, 2, -1
    assert model.loss(obs, actions, next_obs).item() == pytest.approx((0 + 1 + 4 + 1) / 4)


def test_train_ensemble_fits_a_linear_system():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    obs = rng.normal(size=(2000, 2)).astype(np.float32)
    actions = rng.uniform(-1, 1, size=(2000, 1)).astype(np.float32)
    next_obs = obs + 0.1 * np.concatenate([obs[:, 1:], actions], axis=1)    # s1' = s1 + 0.1 s2, s2' = s2 + 0.1 a
    model = EnsembleDynamics(2, 1, num_members=3, hidden_sizes=(32, 32))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss = train_ensemble(model, optimizer, obs, actions, next_obs, num_epochs=10, batch_size=128, rng=rng)
    assert loss < 0.05
    test_obs = torch.as_tensor(obs[:100]).expand(3, 100, 2)
    predicted = model.predict_next_obs(test_obs, torch.as_tensor(actions[:100]).expand(3, 100, 1))
    np.testing.assert_allclose(predicted.detach().numpy(), np.broadcast_to(next_obs[:100], (3, 100, 2)), atol=0.03)
    np.testing.assert_allclose(model.obs_mean.numpy(), obs.mean(axis=0), atol=1e-6)   # statistics of the data


def test_open_loop_predictions_feed_each_member_its_own_predictions():
    from hw4_model_based.model_fit import open_loop_predictions

    model = _model_with_stats(obs_dim=3, act_dim=2, members=2)
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.zero_()
            layer.bias.zero_()
    predicted = open_loop_predictions(model, np.zeros(3, np.float32), np.zeros((4, 2), np.float32))
    assert predicted.shape == (2, 5, 3)
    # a zero network predicts the mean delta at every step: s_t = t * mu_d
    np.testing.assert_allclose(predicted[1], np.arange(5)[:, None] * model.delta_mean.numpy(), rtol=1e-5, atol=1e-6)
