"""Public tests of returns.py: hand-computed values you can check on paper."""
import numpy as np
import pytest

from hw2_policy_gradient.returns import discounted_return, gae_advantages, normalize, reward_to_go

NO, YES = False, True


def test_reward_to_go_of_one_trajectory():
    # gamma = 0.5, rewards [1, 1, 1]: 1 + 0.5 + 0.25, 1 + 0.5, 1
    rtg = reward_to_go(np.ones(3), [NO, NO, YES], [NO, NO, NO], gamma=0.5)
    np.testing.assert_allclose(rtg, [1.75, 1.5, 1.0])


def test_reward_to_go_discounts_from_t_not_from_the_episode_start():
    # step 1 gets r_1 + gamma r_2 = 2 + 0.5 * 4 = 4, not gamma * r_1 + gamma^2 * r_2 = 2
    rtg = reward_to_go(np.array([1.0, 2.0, 4.0]), [NO, NO, YES], [NO, NO, NO], gamma=0.5)
    np.testing.assert_allclose(rtg, [3.0, 4.0, 4.0])


def test_reward_to_go_restarts_at_episode_boundary():
    # two episodes [1, 1] and [1, 1] laid end to end: the first must not see the second's rewards
    rtg = reward_to_go(np.ones(4), [NO, YES, NO, YES], [NO] * 4, gamma=0.5)
    np.testing.assert_allclose(rtg, [1.5, 1.0, 1.5, 1.0])


def test_reward_to_go_bootstraps_on_truncation_only():
    next_values = np.full(2, 10.0)
    terminated = reward_to_go(np.ones(2), [NO, YES], [NO, NO], gamma=0.5, next_values=next_values)
    truncated = reward_to_go(np.ones(2), [NO, NO], [NO, YES], gamma=0.5, next_values=next_values)
    np.testing.assert_allclose(terminated, [1.5, 1.0])  # nothing after a terminal state
    np.testing.assert_allclose(truncated, [4.0, 6.0])   # 1 + 0.5 * 10 = 6; 1 + 0.5 * 6 = 4


def test_discounted_return_gives_every_step_the_whole_trajectory_return():
    # episode 1: [1, 2] -> 1 + 0.5 * 2 = 2 for both steps; episode 2: [4] -> 4
    returns = discounted_return(np.array([1.0, 2.0, 4.0]), [NO, YES, YES], [NO] * 3, gamma=0.5)
    np.testing.assert_allclose(returns, [2.0, 2.0, 4.0])


def test_discounted_return_bootstraps_on_truncation():
    returns = discounted_return(np.ones(2), [NO, NO], [NO, YES], gamma=0.5, next_values=np.full(2, 8.0))
    np.testing.assert_allclose(returns, [1.0 + 0.5 + 0.25 * 8.0] * 2)


def test_gae_with_lambda_zero_is_the_one_step_td_error():
    rewards, values, next_values = np.array([1.0, 2.0]), np.array([0.5, 1.0]), np.array([1.0, 3.0])
    advantages = gae_advantages(rewards, values, next_values, [NO, NO], [NO, YES], gamma=0.9, gae_lambda=0.0)
    np.testing.assert_allclose(advantages, [1.0 + 0.9 * 1.0 - 0.5, 2.0 + 0.9 * 3.0 - 1.0], rtol=1e-6)


def test_gae_with_lambda_one_is_reward_to_go_minus_value():
    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=6), rng.normal(size=6)
    terminated = np.array([NO, NO, YES, NO, NO, NO])
    truncated = np.array([NO, NO, NO, NO, NO, YES])
    next_values = np.append(values[1:], 2.0)  # V(s_{t+1}); the last one is the truncated episode's bootstrap
    advantages = gae_advantages(rewards, values, next_values, terminated, truncated, gamma=0.9, gae_lambda=1.0)
    expected = reward_to_go(rewards, terminated, truncated, 0.9, next_values) - values
    np.testing.assert_allclose(advantages, expected, rtol=1e-5, atol=1e-5)


def test_gae_does_not_bootstrap_from_a_terminal_state():
    advantages = gae_advantages(np.ones(1), np.zeros(1), np.full(1, 100.0), [YES], [NO], gamma=0.9, gae_lambda=0.95)
    np.testing.assert_allclose(advantages, [1.0])


def test_gae_restarts_at_episode_boundary():
    # two one-step episodes: the first one's advantage must not include the second's delta
    advantages = gae_advantages(np.array([1.0, 5.0]), np.zeros(2), np.zeros(2), [YES, YES], [NO, NO],
                                gamma=0.9, gae_lambda=0.95)
    np.testing.assert_allclose(advantages, [1.0, 5.0])


def test_normalize_gives_mean_zero_std_one():
    normalized = normalize(np.array([1.0, 2.0, 3.0, 10.0]))
    assert normalized.shape == (4,)
    assert abs(normalized.mean()) < 1e-6
    assert abs(normalized.std() - 1.0) < 1e-4


def test_outputs_are_float32_and_shaped_like_rewards():
    rewards = np.ones(5)
    flags = dict(terminated=[NO, NO, NO, NO, YES], truncated=[NO] * 5)
    assert reward_to_go(rewards, gamma=0.9, **flags).shape == (5,)
    assert reward_to_go(rewards, gamma=0.9, **flags).dtype == np.float32
    assert discounted_return(rewards, gamma=0.9, **flags).dtype == np.float32


def test_last_step_must_end_a_trajectory():
    with pytest.raises(ValueError, match="last step"):
        reward_to_go(np.ones(3), [NO, NO, NO], [NO, NO, NO], gamma=0.9)
