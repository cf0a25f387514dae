"""Public tests of PGAgent.estimate_advantages and PGAgent.update, on one batch you can follow by hand.

The batch: two episodes, gamma = 0.5, and a linear critic V(s) = s[0] (the first observation entry).

    step t          0     1   |   2     3
    reward          1     1   |   2     2
    end             -  terminated  -  truncated
    V(s_t)          1     2   |   0     1        values        (s_t[0])
    V(s_{t+1})      2     3   |   1     4        next_values   (s_{t+1}[0]; 3 is never used: terminal)

reward-to-go   Q = [1 + 0.5 * 1, 1 | 2 + 0.5 * 4, 2 + 0.5 * 4] = [1.5, 1, 4, 4]   (4 = the bootstrap)
full return    Q = [1.5, 1.5 | 2 + 0.5 * 2 + 0.25 * 4 (twice)]  = [1.5, 1.5, 4, 4]
GAE, lambda = 0.5 (gamma * lambda = 0.25):
    deltas  r + 0.5 V(s_{t+1}) [not terminated] - V(s_t) = [1 + 1 - 1, 1 - 2 | 2 + 0.5 - 0, 2 + 2 - 1] = [1, -1, 2.5, 3]
    A = [1 + 0.25 * -1, -1 | 2.5 + 0.25 * 3, 3] = [0.75, -1, 3.25, 3]
"""
import copy

import numpy as np
import pytest
import torch

from hw2_policy_gradient.agent import PGAgent

torch.set_num_threads(1)

NO, YES = False, True
REWARDS = np.array([1.0, 1.0, 2.0, 2.0], dtype=np.float32)
TERMINATED = np.array([NO, YES, NO, NO])
TRUNCATED = np.array([NO, NO, NO, YES])
VALUES = np.array([1.0, 2.0, 0.0, 1.0], dtype=np.float32)
NEXT_VALUES = np.array([2.0, 3.0, 1.0, 4.0], dtype=np.float32)
OBSERVATIONS = np.stack([VALUES, [0.5, -0.5, 1.0, -1.0]], axis=1).astype(np.float32)
NEXT_OBSERVATIONS = np.stack([NEXT_VALUES, [-0.5, 0.3, -1.0, 0.2]], axis=1).astype(np.float32)
ACTIONS = np.array([0, 1, 1, 0])

Q_REWARD_TO_GO = [1.5, 1.0, 4.0, 4.0]
Q_FULL_RETURN = [1.5, 1.5, 4.0, 4.0]
A_GAE = [0.75, -1.0, 3.25, 3.0]


def make_agent(**settings):
    """A 2-action agent with linear networks; with a baseline, its critic is V(s) = s[0]."""
    torch.manual_seed(0)
    agent = PGAgent(obs_dim=2, action_dim=2, discrete=True, config={"gamma": 0.5, "hidden_sizes": (), **settings})
    if agent.critic is not None:
        with torch.no_grad():
            agent.critic.value_net[0].weight.copy_(torch.tensor([[1.0, 0.0]]))
            agent.critic.value_net[0].bias.zero_()
    return agent


def estimate(agent):
    values = VALUES if agent.critic is not None else np.zeros(4, np.float32)
    next_values = NEXT_VALUES if agent.critic is not None else np.zeros(4, np.float32)
    advantages, targets = agent.estimate_advantages(REWARDS, values, next_values, TERMINATED, TRUNCATED)
    return np.asarray(advantages), np.asarray(targets)


# ----------------------------------------------------------------------------------------------
# estimate_advantages (README 3.3)
# ----------------------------------------------------------------------------------------------


def test_without_baseline_the_advantage_is_the_reward_to_go():
    # no critic: next_values are 0, so the truncated episode gets no bootstrap: [2 + 0.5 * 2, 2]
    advantages, targets = estimate(make_agent(use_reward_to_go=True))
    np.testing.assert_allclose(advantages, [1.5, 1.0, 3.0, 2.0], rtol=1e-6)
    assert advantages.shape == (4,) and advantages.dtype == np.float32


def test_without_baseline_and_without_reward_to_go_the_advantage_is_the_full_return():
    advantages, _ = estimate(make_agent(use_reward_to_go=False))
    np.testing.assert_allclose(advantages, [1.5, 1.5, 3.0, 3.0], rtol=1e-6)


def test_baseline_advantage_is_reward_to_go_minus_value_and_targets_are_reward_to_go():
    advantages, targets = estimate(make_agent(use_baseline=True, use_reward_to_go=True))
    np.testing.assert_allclose(advantages, np.subtract(Q_REWARD_TO_GO, VALUES), rtol=1e-6)  # [0.5, -1, 4, 3]
    np.testing.assert_allclose(targets, Q_REWARD_TO_GO, rtol=1e-6)
    assert advantages.dtype == np.float32 and targets.dtype == np.float32


def test_baseline_without_reward_to_go_uses_the_full_return():
    # use_reward_to_go decides Q_hat with a baseline too
    advantages, targets = estimate(make_agent(use_baseline=True, use_reward_to_go=False))
    np.testing.assert_allclose(advantages, np.subtract(Q_FULL_RETURN, VALUES), rtol=1e-6)  # [0.5, -0.5, 4, 3]
    np.testing.assert_allclose(targets, Q_FULL_RETURN, rtol=1e-6)


@pytest.mark.parametrize("use_reward_to_go", [True, False])
def test_gae_advantages_and_lambda_return_targets(use_reward_to_go):
    # with gae_lambda set, use_reward_to_go plays no part
    agent = make_agent(use_baseline=True, gae_lambda=0.5, use_reward_to_go=use_reward_to_go)
    advantages, targets = estimate(agent)
    np.testing.assert_allclose(advantages, A_GAE, rtol=1e-6)
    np.testing.assert_allclose(targets, np.add(A_GAE, VALUES), rtol=1e-6)  # [1.75, 1, 3.25, 4]


# ----------------------------------------------------------------------------------------------
# update (README 3.3): checked through the metrics it returns, all measured BEFORE any step:
#   actor_loss    = -(1/N) sum_t log pi(a_t|s_t) A_t   (entropy_coefficient 0), so it reveals A
#   baseline_loss = (1/N) sum_t (V(s_t) - y_t)^2       with one critic step, so it reveals y
# ----------------------------------------------------------------------------------------------


def run_update(agent):
    """agent.update on the batch; also returns log pi(a_t|s_t) of the actor before the update."""
    with torch.no_grad():
        log_probs = agent.actor.log_prob(torch.as_tensor(OBSERVATIONS), torch.as_tensor(ACTIONS)).numpy()
    metrics = agent.update(OBSERVATIONS, ACTIONS, REWARDS, NEXT_OBSERVATIONS, TERMINATED, TRUNCATED)
    return metrics, log_probs


def population_normalized(advantages):
    advantages = np.asarray(advantages, dtype=np.float64)
    return (advantages - advantages.mean()) / advantages.std()  # np.std: population std (ddof=0)


def test_update_steps_the_actor_on_reward_to_go_when_normalization_is_off():
    agent = make_agent(normalize_advantages=False)
    before = [p.detach().clone() for p in agent.actor.parameters()]
    metrics, log_probs = run_update(agent)
    assert set(metrics) >= {"actor_loss", "entropy"} and "baseline_loss" not in metrics
    assert metrics["actor_loss"] == pytest.approx(-np.mean(log_probs * [1.5, 1.0, 3.0, 2.0]), rel=1e-5)
    assert any(not torch.equal(b, p) for b, p in zip(before, agent.actor.parameters()))


def test_update_normalizes_the_advantages_with_the_population_std():
    metrics, log_probs = run_update(make_agent(normalize_advantages=True))
    expected = population_normalized([1.5, 1.0, 3.0, 2.0])
    assert metrics["actor_loss"] == pytest.approx(-np.mean(log_probs * expected), rel=1e-4)


@pytest.mark.parametrize("normalize", [False, True])
def test_update_with_baseline_uses_the_critic_before_its_update_and_unnormalized_targets(normalize):
    agent = make_agent(use_baseline=True, normalize_advantages=normalize, baseline_gradient_steps=1)
    metrics, log_probs = run_update(agent)
    advantages = np.subtract(Q_REWARD_TO_GO, VALUES)  # [0.5, -1, 4, 3]: V from the critic as it was
    if normalize:
        advantages = population_normalized(advantages)
    assert metrics["actor_loss"] == pytest.approx(-np.mean(log_probs * advantages), rel=1e-4)
    # the targets are Q_hat, never normalized: ((1 - 1.5)^2 + (2 - 1)^2 + (0 - 4)^2 + (1 - 4)^2) / 4
    assert metrics["baseline_loss"] == pytest.approx(26.25 / 4, rel=1e-5)


def test_update_with_gae_bootstraps_from_the_next_observations():
    agent = make_agent(use_baseline=True, gae_lambda=0.5, normalize_advantages=False, baseline_gradient_steps=1)
    metrics, log_probs = run_update(agent)
    assert metrics["actor_loss"] == pytest.approx(-np.mean(log_probs * A_GAE), rel=1e-5)
    # targets A + V, so V - y = -A: the loss is mean(A^2) = (0.5625 + 1 + 10.5625 + 9) / 4
    assert metrics["baseline_loss"] == pytest.approx(21.125 / 4, rel=1e-5)


def test_update_fits_the_critic_with_critic_update_on_the_targets():
    agent = make_agent(use_baseline=True, baseline_gradient_steps=3)
    twin = copy.deepcopy(agent)
    metrics, _ = run_update(agent)
    twin_loss = twin.critic.update(OBSERVATIONS, np.array(Q_REWARD_TO_GO, np.float32), num_steps=3)
    assert metrics["baseline_loss"] == pytest.approx(twin_loss, rel=1e-5)
    for got, expected in zip(agent.critic.parameters(), twin.critic.parameters()):
        torch.testing.assert_close(got, expected)


def test_actor_loss_sends_no_gradient_into_the_critic():
    # With 0 critic steps, the critic must come out of update untouched and without gradient:
    # V(s_t) enters the advantages as a plain number.
    agent = make_agent(use_baseline=True, baseline_gradient_steps=0)
    critic_before = [p.detach().clone() for p in agent.critic.parameters()]
    run_update(agent)
    for before, parameter in zip(critic_before, agent.critic.parameters()):
        assert torch.equal(before, parameter)
        assert parameter.grad is None or torch.all(parameter.grad == 0), "the actor's loss reached the critic"


def test_critic_steps_leave_the_actor_alone():
    # The same update with 0 or 5 critic steps must leave the actor in the same place.
    without_critic_steps = make_agent(use_baseline=True, baseline_gradient_steps=0)
    with_critic_steps = copy.deepcopy(without_critic_steps)
    with_critic_steps.config.baseline_gradient_steps = 5
    run_update(without_critic_steps)
    run_update(with_critic_steps)
    for a, b in zip(without_critic_steps.actor.parameters(), with_critic_steps.actor.parameters()):
        torch.testing.assert_close(a, b)
