"""Public tests of sac.py (and the SAC training loop): values you can work out by hand."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from hw3_qlearning_ac.sac import (
    SACAgent,
    SACConfig,
    actor_loss_reinforce,
    actor_loss_reparameterized,
    critic_backup,
    polyak_update,
    reduce_over_critics,
    squashed_gaussian_sample_and_log_prob,
    temperature_loss,
)
from hw3_qlearning_ac.sac_networks import EnsembleCritic

torch.set_num_threads(1)


# --- squashed_gaussian_sample_and_log_prob ------------------------------------------------------


def _gaussian_log_density(u, mean, std):
    return -0.5 * ((u - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)


def test_squashed_sample_is_tanh_of_mean_plus_std_times_noise():
    mean, log_std = torch.tensor([[0.3, -1.0]]), torch.tensor([[-0.5, 0.2]])
    noise = torch.tensor([[0.7, -1.3]])
    actions, log_probs = squashed_gaussian_sample_and_log_prob(mean, log_std, noise)
    expected = torch.tanh(mean + log_std.exp() * noise)
    np.testing.assert_allclose(actions.numpy(), expected.numpy(), rtol=1e-6)
    assert log_probs.shape == (1,)


def test_squashed_log_prob_matches_a_numeric_change_of_variables():
    # pi(a) = N(u; mu, sigma^2) / |da/du| with a = tanh(u); da/du by central differences, summed over 2 dims
    mean, std, noise = [0.3, -1.0], [math.exp(-0.5), math.exp(0.2)], [0.7, -1.3]
    expected = 0.0
    for m, s, e in zip(mean, std, noise):
        u, h = m + s * e, 1e-5
        jacobian = (math.tanh(u + h) - math.tanh(u - h)) / (2 * h)
        expected += _gaussian_log_density(u, m, s) - math.log(jacobian)
    _, log_probs = squashed_gaussian_sample_and_log_prob(
        torch.tensor([mean]), torch.log(torch.tensor([std])), torch.tensor([noise]))
    assert log_probs.item() == pytest.approx(expected, abs=1e-4)


def test_squashed_density_integrates_to_one_over_the_action_interval():
    # A missing or doubled log(1 - tanh^2) term gives a density that does not integrate to 1 on (-1, 1).
    a = torch.linspace(-1 + 1e-6, 1 - 1e-6, 200_001, dtype=torch.float64)
    u = torch.atanh(a)
    mean, log_std = torch.tensor([[0.5]], dtype=torch.float64), torch.tensor([[math.log(0.8)]], dtype=torch.float64)
    noise = (u - 0.5) / 0.8
    _, log_probs = squashed_gaussian_sample_and_log_prob(mean.expand(len(a), 1), log_std.expand(len(a), 1), noise[:, None])
    assert torch.trapezoid(log_probs.exp(), a).item() == pytest.approx(1.0, abs=1e-3)


def test_squashed_log_prob_stays_finite_where_tanh_saturates():
    # u = 20: tanh(u) is 1.0 in float32, so log(1 - tanh(u)^2) computed naively is -inf.
    # Exactly: log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)) ~ 2 log 2 - 40.
    _, log_probs = squashed_gaussian_sample_and_log_prob(torch.tensor([[0.0]]), torch.tensor([[0.0]]), torch.tensor([[20.0]]))
    expected = _gaussian_log_density(20.0, 0.0, 1.0) - (2 * math.log(2) - 40.0)
    assert torch.isfinite(log_probs).all()
    assert log_probs.item() == pytest.approx(expected, rel=1e-5)


def test_squashed_sample_takes_several_samples_per_state():
    mean, log_std = torch.zeros(3, 2), torch.zeros(3, 2)
    actions, log_probs = squashed_gaussian_sample_and_log_prob(mean, log_std, torch.randn(5, 3, 2))
    assert actions.shape == (5, 3, 2) and log_probs.shape == (5, 3)


def test_reparameterized_sample_carries_gradient_and_reinforce_sample_does_not():
    mean = torch.tensor([[0.2]], requires_grad=True)
    log_std = torch.tensor([[0.0]], requires_grad=True)
    noise = torch.tensor([[1.0]])
    actions, _ = squashed_gaussian_sample_and_log_prob(mean, log_std, noise, reparameterize=True)
    actions.sum().backward()
    # d tanh(mu + sigma e) / d mu = 1 - tanh(1.2)^2
    assert mean.grad.item() == pytest.approx(1 - math.tanh(1.2) ** 2, rel=1e-5)

    actions, log_probs = squashed_gaussian_sample_and_log_prob(mean, log_std, noise, reparameterize=False)
    assert not actions.requires_grad
    mean.grad = None
    log_probs.sum().backward()
    # u fixed at 1.2: d log N(u; mu, 1) / d mu = (u - mu) = 1; the tanh term does not depend on mu
    assert mean.grad.item() == pytest.approx(1.0, rel=1e-5)


# --- reduce_over_critics and critic_backup ------------------------------------------------------

Q_NEXT = torch.tensor([[3.0, 5.0], [1.0, 2.0]])  # (E=2, B=2): single -> [3, 5], mean -> [2, 3.5], min -> [1, 2]


def test_reduce_over_critics_single_mean_and_min():
    np.testing.assert_allclose(reduce_over_critics(Q_NEXT, "single").numpy(), [3.0, 5.0])
    np.testing.assert_allclose(reduce_over_critics(Q_NEXT, "mean").numpy(), [2.0, 3.5])
    np.testing.assert_allclose(reduce_over_critics(Q_NEXT, "min").numpy(), [1.0, 2.0])


@pytest.mark.parametrize("strategy, q_next", [("single", 3.0), ("mean", 2.0), ("min", 1.0)])
def test_critic_backup_by_hand(strategy, q_next):
    # transition 0 continues, transition 1 is terminal: y_1 = r_1 whatever the critics say
    rewards, terminated = torch.tensor([1.0, 2.0]), torch.tensor([False, True])
    next_log_probs = torch.tensor([0.5, -1.0])
    y = critic_backup(rewards, terminated, Q_NEXT, next_log_probs, gamma=0.9, alpha=0.2, strategy=strategy)
    # y_0 = 1 + 0.9 * (Q_next - 0.2 * 0.5)
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.9 * (q_next - 0.1), 2.0], rtol=1e-6)


def test_critic_backup_without_the_entropy_term():
    y = critic_backup(torch.tensor([1.0, 2.0]), torch.tensor([False, True]), Q_NEXT, torch.tensor([0.5, -1.0]),
                      gamma=0.9, alpha=0.2, strategy="min", entropy_in_backup=False)
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.9 * 1.0, 2.0], rtol=1e-6)


def test_critic_backup_bootstraps_a_truncated_transition():
    # A time limit is not a terminal state: the caller passes terminated=False, and y bootstraps.
    # terminated may also come as 0/1 floats (as sampled from a buffer and converted).
    y = critic_backup(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0]), Q_NEXT, torch.zeros(2),
                      gamma=0.5, alpha=0.0, strategy="mean")
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.5 * 2.0, 1.0], rtol=1e-6)


def test_critic_backup_is_a_constant_for_the_regression():
    next_q = Q_NEXT.clone().requires_grad_(True)
    next_log_probs = torch.tensor([0.5, -1.0], requires_grad=True)
    y = critic_backup(torch.tensor([1.0, 2.0]), torch.tensor([False, True]), next_q, next_log_probs,
                      gamma=0.9, alpha=0.2)
    assert not y.requires_grad


# --- actor losses ---------------------------------------------------------------------------------


def test_actor_loss_reparameterized_by_hand():
    log_probs = torch.tensor([1.0, -1.0], requires_grad=True)
    q_values = torch.tensor([2.0, 4.0], requires_grad=True)
    loss = actor_loss_reparameterized(log_probs, q_values, alpha=0.5)
    # mean(0.5 * 1 - 2, 0.5 * (-1) - 4) = mean(-1.5, -4.5)
    assert loss.item() == pytest.approx(-3.0)
    loss.backward()
    np.testing.assert_allclose(q_values.grad.numpy(), [-0.5, -0.5])  # ascend Q
    np.testing.assert_allclose(log_probs.grad.numpy(), [0.25, 0.25])  # alpha / B


def test_actor_loss_reinforce_one_sample_by_hand():
    log_probs = torch.tensor([[0.2, -0.4]], requires_grad=True)  # N=1, B=2
    q_values = torch.tensor([[1.0, 3.0]])
    loss = actor_loss_reinforce(log_probs, q_values, alpha=0.5)
    # v = q - alpha log pi = [0.9, 3.2] (constants, no baseline); L = -mean(log pi * v)
    assert loss.item() == pytest.approx(-(0.2 * 0.9 - 0.4 * 3.2) / 2, rel=1e-6)
    loss.backward()
    np.testing.assert_allclose(log_probs.grad.numpy(), [[-0.45, -1.6]], rtol=1e-6)


def test_actor_loss_reinforce_uses_the_other_samples_as_baseline():
    log_probs = torch.zeros(3, 1, requires_grad=True)  # N=3 samples of one state
    q_values = torch.tensor([[1.0], [2.0], [6.0]])
    actor_loss_reinforce(log_probs, q_values, alpha=0.3).backward()
    # v = [1, 2, 6]; leave-one-out baselines [(2+6)/2, (1+6)/2, (1+2)/2] = [4, 3.5, 1.5]
    # dL/dlog pi_n = -(v_n - b_n) / (N B) = -[-3, -1.5, 4.5] / 3
    np.testing.assert_allclose(log_probs.grad.numpy(), [[1.0], [0.5], [-1.5]], rtol=1e-6)


def test_reinforce_and_reparameterized_gradients_agree_in_expectation():
    # One state, 1-D action, Q(a) = -(a - 0.3)^2: both estimators estimate the same gradient.
    torch.manual_seed(0)
    mean = torch.tensor([[0.1]], requires_grad=True)
    log_std = torch.tensor([[-0.7]], requires_grad=True)
    alpha, n = 0.1, 200_000

    def q(a):
        return -(a - 0.3) ** 2

    actions, log_probs = squashed_gaussian_sample_and_log_prob(mean, log_std, torch.randn(n, 1, 1))
    actor_loss_reparameterized(log_probs[:, 0], q(actions[:, 0, 0]), alpha).backward()
    pathwise = torch.stack([mean.grad.clone(), log_std.grad.clone()]).flatten()
    mean.grad, log_std.grad = None, None
    actions, log_probs = squashed_gaussian_sample_and_log_prob(mean, log_std, torch.randn(n, 1, 1), reparameterize=False)
    actor_loss_reinforce(log_probs, q(actions[..., 0]), alpha).backward()
    score = torch.stack([mean.grad, log_std.grad]).flatten()
    np.testing.assert_allclose(score.numpy(), pathwise.numpy(), atol=0.01)


# --- temperature_loss -----------------------------------------------------------------------------


def test_temperature_loss_by_hand_and_its_gradient_direction():
    log_alpha = torch.tensor(0.3, requires_grad=True)
    log_probs = torch.tensor([-1.0, -3.0])  # entropy estimate 2, above the target -1
    loss = temperature_loss(log_alpha, log_probs, target_entropy=-1.0)
    # -log_alpha * mean(log pi + H_target) = -0.3 * (-3)
    assert loss.item() == pytest.approx(0.9)
    loss.backward()
    assert log_alpha.grad.item() == pytest.approx(3.0)  # > 0: gradient descent LOWERS alpha

    log_alpha.grad = None
    temperature_loss(log_alpha, torch.tensor([1.0, 2.0]), target_entropy=-1.0).backward()  # entropy -1.5 < -1
    assert log_alpha.grad.item() == pytest.approx(-0.5)  # < 0: gradient descent RAISES alpha


def test_temperature_loss_treats_log_probs_as_constants():
    log_probs = torch.tensor([-1.0, -3.0], requires_grad=True)
    temperature_loss(torch.tensor(0.3, requires_grad=True), log_probs, -1.0).backward()
    assert log_probs.grad is None or torch.all(log_probs.grad == 0)


# --- polyak_update -------------------------------------------------------------------------------


def test_polyak_update_moves_the_target_a_fraction_tau_towards_the_source():
    target, source = nn.Linear(2, 1), nn.Linear(2, 1)
    nn.init.constant_(target.weight, 1.0), nn.init.constant_(target.bias, -1.0)
    nn.init.constant_(source.weight, 3.0), nn.init.constant_(source.bias, 1.0)
    polyak_update(target, source, tau=0.1)
    # (1 - 0.1) * 1 + 0.1 * 3 = 1.2 and 0.9 * (-1) + 0.1 * 1 = -0.8; the source is untouched
    np.testing.assert_allclose(target.weight.detach().numpy(), [[1.2, 1.2]], rtol=1e-6)
    np.testing.assert_allclose(target.bias.detach().numpy(), [-0.8], rtol=1e-6)
    np.testing.assert_allclose(source.weight.detach().numpy(), [[3.0, 3.0]])
    polyak_update(target, source, tau=1.0)
    np.testing.assert_allclose(target.weight.detach().numpy(), [[3.0, 3.0]])


# --- networks and the agent ----------------------------------------------------------------------


def test_ensemble_critic_members_are_independent_mlps():
    torch.manual_seed(0)
    critic = EnsembleCritic(obs_dim=3, act_dim=2, num_critics=2, hidden_sizes=(4,))
    obs, act = torch.randn(5, 3), torch.randn(5, 2)
    q = critic(obs, act)
    assert q.shape == (2, 5)
    x = torch.cat([obs, act], dim=-1)
    for e in range(2):
        first, last = critic.layers
        hidden = torch.relu(x @ first.weight[e] + first.bias[e])
        np.testing.assert_allclose(q[e].detach().numpy(), (hidden @ last.weight[e] + last.bias[e]).squeeze(-1).detach().numpy(), rtol=1e-5)
    q[0].sum().backward()  # the loss of critic 0 gives critic 1 no gradient
    assert critic.layers[0].weight.grad[1].abs().sum() == 0 and critic.layers[0].weight.grad[0].abs().sum() > 0


def test_agent_update_trains_critics_actor_and_temperature():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    config = SACConfig(hidden_sizes=(16, 16), batch_size=8, tau=0.5)
    agent = SACAgent(obs_dim=3, act_dim=2, config=config, action_low=[-2, 0], action_high=[2, 1])
    actions = agent.get_action(rng.normal(size=(100, 3)).astype(np.float32))
    assert actions.shape == (100, 2)
    assert (actions[:, 0] > -2).all() and (actions[:, 0] < 2).all() and (actions[:, 1] > 0).all() and (actions[:, 1] < 1).all()
    target_before = [p.clone() for p in agent.target_critic.parameters()]
    critic_before = [p.clone() for p in agent.critic.parameters()]
    metrics = agent.update(rng.normal(size=(8, 3)), actions[:8], rng.normal(size=8), rng.normal(size=(8, 3)),
                           np.zeros(8, dtype=bool))
    assert {"critic_loss", "actor_loss", "temperature_loss", "alpha", "q_mean", "entropy"} <= set(metrics)
    assert all(np.isfinite(v) for v in metrics.values())
    assert metrics["alpha"] != pytest.approx(1.0)
    # tau = 0.5: the target lands halfway between its old weights and the UPDATED critic's
    for old_target, target, critic, old_critic in zip(target_before, agent.target_critic.parameters(),
                                                      agent.critic.parameters(), critic_before):
        np.testing.assert_allclose(target.detach().numpy(), (0.5 * old_target + 0.5 * critic).detach().numpy(), rtol=1e-5, atol=1e-6)
        assert not torch.equal(critic, old_critic)



def test_actor_step_computes_no_critic_weight_gradients():
    agent = SACAgent(obs_dim=3, act_dim=2, config=SACConfig(hidden_sizes=(8,)))
    loss, log_probs = agent.actor_backward(torch.randn(4, 3), alpha=0.2, noise=torch.randn(1, 4, 2))
    assert log_probs.shape == (4,)
    assert all(p.grad is None for p in agent.critic.parameters())
    assert all(p.grad is not None for p in agent.actor.parameters())


def test_overlapped_update_gives_the_same_critic_step():
    # With overlap_actor_critic the actor's gradient is computed alongside the critics'; the critic
    # step itself (and the random numbers) must be exactly those of the sequential update.
    rng = np.random.default_rng(0)
    batch = (rng.normal(size=(8, 3)), rng.uniform(-1, 1, size=(8, 2)), rng.normal(size=8), rng.normal(size=(8, 3)),
             np.zeros(8, dtype=bool))
    critics = []
    for overlap in (False, True):
        torch.manual_seed(0)
        agent = SACAgent(obs_dim=3, act_dim=2, config=SACConfig(hidden_sizes=(8,), overlap_actor_critic=overlap))
        metrics = agent.update(*batch)
        critics.append((metrics["critic_loss"], [p.detach().clone() for p in agent.critic.parameters()]))
    assert critics[0][0] == critics[1][0]
    for sequential, overlapped in zip(critics[0][1], critics[1][1]):
        assert torch.equal(sequential, overlapped)


@pytest.mark.parametrize("actor_gradient, samples", [("reinforce", 1), ("reinforce", 4)])
def test_agent_update_with_reinforce_gradients(actor_gradient, samples):
    config = SACConfig(hidden_sizes=(8,), batch_size=4, actor_gradient=actor_gradient, reinforce_samples=samples)
    agent = SACAgent(obs_dim=2, act_dim=1, config=config)
    rng = np.random.default_rng(1)
    metrics = agent.update(rng.normal(size=(4, 2)), rng.uniform(-1, 1, size=(4, 1)), np.ones(4),
                           rng.normal(size=(4, 2)), np.array([0, 0, 1, 0], dtype=bool))
    assert np.isfinite(metrics["actor_loss"])


def test_single_backup_needs_one_critic():
    with pytest.raises(ValueError, match="num_critics"):
        SACConfig(backup="single", num_critics=2)


# --- the training loop ----------------------------------------------------------------------------


def test_a_short_sac_run_trains_checkpoints_and_resumes(tmp_path):
    from common.logger import Logger
    from hw3_qlearning_ac.sac_training import SACRunConfig, train_sac

    config = {"env_id": "InvertedPendulum-v5", "total_env_steps": 300, "learning_starts": 100,
              "log_every": 100, "eval_every": 300, "eval_episodes": 1, "checkpoint_every": 300,
              "progress_bar": False, "agent": {"hidden_sizes": [16, 16], "batch_size": 16}}
    with Logger("hw3", "sac_test", "InvertedPendulum-v5", 0, root=tmp_path) as logger:
        agent = train_sac(config, logger)
    assert agent.get_action(np.zeros((2, 4), dtype=np.float32)).shape == (2, 1)
    header = logger.metrics_path.read_text().splitlines()[0].split(",")
    assert {"env_steps", "train_return", "eval_return", "critic_loss", "actor_loss", "alpha"} <= set(header)
    resumed = train_sac({**config, "total_env_steps": 400, "resume_from": str(logger.run_dir)})
    assert isinstance(resumed, SACAgent) and SACRunConfig().algorithm == "sac"
