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


def test_termination_wins_when_both_flags_are_set():
    # A time limit reached on a terminal step sets both flags: the state is terminal, no bootstrap.
    both = dict(terminated=[NO, YES], truncated=[NO, YES])
    next_values = np.array([0.0, 10.0])  # V(s_{T+1}) = 10 must be ignored
    np.testing.assert_allclose(reward_to_go(np.ones(2), gamma=0.5, next_values=next_values, **both), [1.5, 1.0])
    np.testing.assert_allclose(discounted_return(np.ones(2), gamma=0.5, next_values=next_values, **both), [1.5, 1.5])
    # GAE: delta_T = r_T - V(s_T) = 1 - 0.5, without + gamma * 10
    advantages = gae_advantages(np.ones(1), np.array([0.5]), np.array([10.0]), [YES], [YES], gamma=0.5, gae_lambda=0.9)
    np.testing.assert_allclose(advantages, [0.5])


def test_gae_by_hand_with_lambda_between_zero_and_one():
    # gamma = 0.5, lambda = 0.5, so gamma * lambda = 0.25.
    # Episode 1 (steps 0-2) is truncated: V(s_3) = next_values[2] = 8 is its bootstrap.
    # Episode 2 (step 3) terminates: its next_values[3] = 5 is never used.
    # Inside an episode next_values[t] == values[t + 1], as in real rollouts.
    rewards = np.array([1.0, 0.0, 2.0, 3.0])
    values = np.array([2.0, 4.0, 0.0, 1.0])
    next_values = np.array([4.0, 0.0, 8.0, 5.0])
    # deltas: 1 + 0.5 * 4 - 2 = 1;   0 + 0.5 * 0 - 4 = -4;   2 + 0.5 * 8 - 0 = 6;   3 - 1 = 2
    # A_2 = 6;  A_1 = -4 + 0.25 * 6 = -2.5;  A_0 = 1 + 0.25 * -2.5 = 0.375;  A_3 = 2 (a new episode)
    advantages = gae_advantages(rewards, values, next_values, [NO, NO, NO, YES], [NO, NO, YES, NO],
                                gamma=0.5, gae_lambda=0.5)
    np.testing.assert_allclose(advantages, [0.375, -2.5, 6.0, 2.0], rtol=1e-6)


def test_normalize_uses_the_population_std():
    # mean 2, population std sqrt(((1-2)^2 + (3-2)^2) / 2) = 1. (The sample std, dividing by N - 1,
    # would be sqrt(2) and give [-0.707, 0.707].)
    np.testing.assert_allclose(normalize(np.array([1.0, 3.0])), [-1.0, 1.0], rtol=1e-6)
    # mean 1, deviations [-1, -1, -1, 3], population std sqrt(12 / 4) = sqrt(3)
    s3 = np.sqrt(3.0)
    np.testing.assert_allclose(normalize(np.array([0.0, 0.0, 0.0, 4.0])), [-1 / s3, -1 / s3, -1 / s3, 3 / s3], rtol=1e-6)


def test_normalize_of_a_constant_batch_is_zero():
    # std = 0: the eps = 1e-8 in the denominator keeps it finite
    np.testing.assert_allclose(normalize(np.full(3, 7.0)), [0.0, 0.0, 0.0])


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
