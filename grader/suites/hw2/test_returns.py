"""Hidden tests of returns.py: exact values against the reference, and one test per classic bug."""
import numpy as np

from grader.harness.api import assert_close, check_array, points
from hw2_policy_gradient import returns as reference

MODULE = "hw2_policy_gradient.returns"


def random_batch(rng, num_episodes=6, max_length=12):
    """A flat batch of episodes of random lengths; each ends terminated or truncated at random."""
    lengths = rng.integers(1, max_length + 1, size=num_episodes)
    n = int(lengths.sum())
    terminated, truncated = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    ends = np.cumsum(lengths) - 1
    for k, end in enumerate(ends):
        (terminated if k % 2 == 0 else truncated)[end] = True
    rewards = rng.normal(size=n).astype(np.float32)
    values = rng.normal(size=n).astype(np.float32)
    next_values = rng.normal(size=n).astype(np.float32)
    return rewards, values, next_values, terminated, truncated


def remote(submission, name, *args, n):
    return check_array(submission.call(f"{MODULE}.{name}", *args), name, shape=(n,))


@points(5, part="returns")
def test_reward_to_go_matches_reference(submission, rng):
    """reward_to_go on a random batch of terminated and truncated episodes"""
    rewards, _, next_values, terminated, truncated = random_batch(rng)
    got = remote(submission, "reward_to_go", rewards, terminated, truncated, 0.9, next_values, n=len(rewards))
    assert_close(got, reference.reward_to_go(rewards, terminated, truncated, 0.9, next_values), "reward_to_go",
                 rtol=1e-4, atol=1e-5)


@points(3, part="returns")
def test_reward_to_go_includes_the_reward_of_step_t(submission):
    """reward_to_go off by one: Q_hat_t starts at r_t, not r_{t+1} or r_{t-1}"""
    rewards = np.array([1.0, 0.0, 0.0, 0.0, 2.0], dtype=np.float32)
    terminated = np.array([False, False, False, False, True])
    got = remote(submission, "reward_to_go", rewards, terminated, np.zeros(5, bool), 1.0, n=5)
    assert_close(got, [3.0, 2.0, 2.0, 2.0, 2.0], "reward_to_go with gamma = 1 of rewards [1, 0, 0, 0, 2]")


@points(3, part="returns")
def test_reward_to_go_discounts_from_t(submission):
    """reward_to_go discounts by gamma^(t'-t), not gamma^t' (from the episode start)"""
    rewards = np.array([0.0, 0.0, 0.0, 1.0], dtype=np.float32)
    terminated = np.array([False, False, False, True])
    got = remote(submission, "reward_to_go", rewards, terminated, np.zeros(4, bool), 0.5, n=4)
    assert_close(got, [0.125, 0.25, 0.5, 1.0], "reward_to_go with gamma = 0.5 of rewards [0, 0, 0, 1]")


@points(3, part="returns")
def test_estimators_do_not_leak_across_episode_boundaries(submission, rng, credit):
    """reward_to_go, discounted_return and GAE restart at every episode end"""
    first = rng.normal(size=5).astype(np.float32)
    second = (100.0 + rng.normal(size=4)).astype(np.float32)  # large: any leak shows
    rewards = np.concatenate([first, second])
    terminated = np.zeros(9, bool)
    terminated[[4, 8]] = True
    truncated = np.zeros(9, bool)
    values = rng.normal(size=9).astype(np.float32)
    next_values = np.append(values[1:], 0.0).astype(np.float32)
    passed, messages = 0, []
    checks = [
        ("reward_to_go", (rewards, terminated, truncated, 0.9),
         reference.reward_to_go(first, terminated[:5], truncated[:5], 0.9)),
        ("discounted_return", (rewards, terminated, truncated, 0.9),
         reference.discounted_return(first, terminated[:5], truncated[:5], 0.9)),
        ("gae_advantages", (rewards, values, next_values, terminated, truncated, 0.9, 0.95),
         reference.gae_advantages(first, values[:5], next_values[:5], terminated[:5], truncated[:5], 0.9, 0.95)),
    ]
    for name, args, expected_first_episode in checks:
        got = remote(submission, name, *args, n=9)
        if np.allclose(got[:5], expected_first_episode, rtol=1e-4, atol=1e-4):
            passed += 1
        else:
            messages.append(f"{name}: the first episode's values change when a second episode follows it")
    credit.fraction = passed / 3
    assert passed == 3, "; ".join(messages)


@points(3, part="returns")
def test_truncation_bootstraps_and_termination_does_not(submission, credit):
    """on truncation the estimators add gamma * V(s_{T+1}); on termination they do not"""
    rewards = np.ones(2, dtype=np.float32)
    next_values = np.full(2, 10.0, dtype=np.float32)
    values = np.zeros(2, dtype=np.float32)
    not_ended, ended = np.array([False, False]), np.array([False, True])
    passed, messages = 0, []
    for name, make_args, when_truncated, when_terminated in [
        ("reward_to_go", lambda term, trunc: (rewards, term, trunc, 0.5, next_values), [4.0, 6.0], [1.5, 1.0]),
        ("discounted_return", lambda term, trunc: (rewards, term, trunc, 0.5, next_values), [4.0, 4.0], [1.5, 1.5]),
        ("gae_advantages", lambda term, trunc: (rewards, values, next_values, term, trunc, 0.5, 1.0),
         [9.0, 6.0], [6.5, 1.0]),  # V(s_1) = 10 inside the episode too: delta_0 = 1 + 0.5 * 10 = 6
    ]:
        truncated_result = remote(submission, name, *make_args(not_ended, ended), n=2)
        terminated_result = remote(submission, name, *make_args(ended, not_ended), n=2)
        ok = np.allclose(truncated_result, when_truncated, atol=1e-4) and \
            np.allclose(terminated_result, when_terminated, atol=1e-4)
        passed += ok
        if not ok:
            messages.append(f"{name}: truncated gave {np.round(truncated_result, 3).tolist()} "
                            f"(want {when_truncated}), terminated gave {np.round(terminated_result, 3).tolist()} "
                            f"(want {when_terminated})")
    credit.fraction = passed / 3
    assert passed == 3, "; ".join(messages)


@points(3, part="returns")
def test_discounted_return_matches_reference(submission, rng):
    """discounted_return on a random batch of terminated and truncated episodes"""
    rewards, _, next_values, terminated, truncated = random_batch(rng)
    got = remote(submission, "discounted_return", rewards, terminated, truncated, 0.95, next_values, n=len(rewards))
    assert_close(got, reference.discounted_return(rewards, terminated, truncated, 0.95, next_values),
                 "discounted_return", rtol=1e-4, atol=1e-5)


@points(4, part="returns")
def test_gae_matches_reference(submission, rng, credit):
    """gae_advantages on a random batch, for lambda in {0, 0.9, 1}"""
    rewards, values, next_values, terminated, truncated = random_batch(rng)
    passed = 0
    for gae_lambda in (0.0, 0.9, 1.0):
        got = remote(submission, "gae_advantages", rewards, values, next_values, terminated, truncated, 0.97,
                     gae_lambda, n=len(rewards))
        expected = reference.gae_advantages(rewards, values, next_values, terminated, truncated, 0.97, gae_lambda)
        passed += np.allclose(got, expected, rtol=1e-4, atol=1e-4)
    credit.fraction = passed / 3
    assert passed == 3, f"gae_advantages matches the expected values for only {passed} of 3 values of lambda"


@points(1, part="returns")
def test_normalize_matches_reference(submission, rng):
    """normalize: mean 0, std 1"""
    advantages = rng.normal(3.0, 2.0, size=100).astype(np.float32)
    got = remote(submission, "normalize", advantages, n=100)
    assert_close(got, reference.normalize(advantages), "normalize", rtol=1e-4, atol=1e-5)
