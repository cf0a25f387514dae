"""Hidden tests of returns.py: exact values against the reference, and one test per classic bug.

All inputs are drawn from `rng` (new every grading run) and look like real rollouts
(hidden_inputs.py): episode ends of every kind, including terminated and truncated on one step.
"""
import numpy as np

from grader.harness.api import assert_close, check_array, points
from hidden_inputs import consistent_values, episode_flags, random_batch, random_gamma
from hw2_policy_gradient import returns as reference

MODULE = "hw2_policy_gradient.returns"


def remote(submission, name, *args, n):
    return check_array(submission.call(f"{MODULE}.{name}", *args), name, shape=(n,))


def one_episode(rng, length, ending="terminated"):
    terminated, truncated = np.zeros(length, bool), np.zeros(length, bool)
    (terminated if ending == "terminated" else truncated)[-1] = True
    return terminated, truncated


# ----------------------------------------------------------------------------------- reward_to_go
@points(4, part="returns")
def test_reward_to_go_matches_reference(submission, rng):
    """reward_to_go on a random batch of terminated and truncated episodes"""
    rewards, _, next_values, terminated, truncated = random_batch(rng)
    gamma = random_gamma(rng)
    got = remote(submission, "reward_to_go", rewards, terminated, truncated, gamma, next_values, n=len(rewards))
    assert_close(got, reference.reward_to_go(rewards, terminated, truncated, gamma, next_values), "reward_to_go",
                 rtol=1e-4, atol=1e-5)


@points(2, part="returns")
def test_reward_to_go_includes_the_reward_of_step_t(submission, rng):
    """reward_to_go off by one: Q_hat_t starts at r_t, not r_{t+1} or r_{t-1}"""
    length = int(rng.integers(4, 9))
    rewards = np.zeros(length, np.float32)
    spikes = rng.choice(length, size=2, replace=False)
    rewards[spikes] = rng.uniform(1.0, 3.0, size=2).astype(np.float32)
    terminated, truncated = one_episode(rng, length)
    got = remote(submission, "reward_to_go", rewards, terminated, truncated, 1.0, n=length)
    assert_close(got, reference.reward_to_go(rewards, terminated, truncated, 1.0),
                 "reward_to_go with gamma = 1 of an episode with two nonzero rewards", rtol=1e-4, atol=1e-5)


@points(2, part="returns")
def test_reward_to_go_discounts_from_t(submission, rng):
    """reward_to_go discounts by gamma^(t'-t), not gamma^t' (from the episode start)"""
    length = int(rng.integers(4, 9))
    rewards = np.zeros(length, np.float32)
    rewards[-1] = float(rng.uniform(1.0, 3.0))
    terminated, truncated = one_episode(rng, length)
    gamma = round(float(rng.uniform(0.4, 0.7)), 3)
    got = remote(submission, "reward_to_go", rewards, terminated, truncated, gamma, n=length)
    assert_close(got, reference.reward_to_go(rewards, terminated, truncated, gamma),
                 f"reward_to_go with gamma = {gamma} of an episode whose only reward is the last", rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------- episode ends
@points(3, part="returns")
def test_estimators_do_not_leak_across_episode_boundaries(submission, rng, credit):
    """reward_to_go, discounted_return and GAE restart at every episode end"""
    first_length, second_length = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    n = first_length + second_length
    first = rng.normal(size=first_length).astype(np.float32)
    second = (100.0 + rng.normal(size=second_length)).astype(np.float32)  # large: any leak shows
    rewards = np.concatenate([first, second])
    terminated, truncated = np.zeros(n, bool), np.zeros(n, bool)
    terminated[[first_length - 1, n - 1]] = True
    values, next_values = consistent_values(rng, terminated, truncated)
    gamma = random_gamma(rng)
    head = slice(0, first_length)
    passed, messages = 0, []
    checks = [
        ("reward_to_go", (rewards, terminated, truncated, gamma),
         reference.reward_to_go(first, terminated[head], truncated[head], gamma)),
        ("discounted_return", (rewards, terminated, truncated, gamma),
         reference.discounted_return(first, terminated[head], truncated[head], gamma)),
        ("gae_advantages", (rewards, values, next_values, terminated, truncated, gamma, 0.95),
         reference.gae_advantages(first, values[head], next_values[head], terminated[head], truncated[head],
                                  gamma, 0.95)),
    ]
    for name, args, expected_first_episode in checks:
        got = remote(submission, name, *args, n=n)
        if np.allclose(got[head], expected_first_episode, rtol=1e-4, atol=1e-4):
            passed += 1
        else:
            messages.append(f"{name}: the first episode's values change when a second episode follows it")
    credit.fraction = passed / 3
    assert passed == 3, "; ".join(messages)


@points(3, part="returns")
def test_truncation_bootstraps_and_termination_does_not(submission, rng, credit):
    """on truncation the estimators add gamma^k V(s_{T+1}); on termination (also with truncated set) they do not"""
    length = int(rng.integers(2, 5))
    rewards = rng.normal(size=length).astype(np.float32)
    gamma = random_gamma(rng)
    cases = {}
    for ending in ("truncated", "terminated", "terminated and truncated"):
        terminated, truncated = np.zeros(length, bool), np.zeros(length, bool)
        terminated[-1] = ending != "truncated"
        truncated[-1] = ending != "terminated"
        values, next_values = consistent_values(rng, terminated, truncated)
        next_values[-1] = rng.choice([-1.0, 1.0]) * rng.uniform(5.0, 20.0)  # V(s_{T+1}): large, so it shows
        cases[ending] = (terminated, truncated, values, next_values)
    passed, messages = 0, []
    for name in ("reward_to_go", "discounted_return", "gae_advantages"):
        wrong = []
        for ending, (terminated, truncated, values, next_values) in cases.items():
            if name == "gae_advantages":
                args = (rewards, values, next_values, terminated, truncated, gamma, 0.9)
            else:
                args = (rewards, terminated, truncated, gamma, next_values)
            got = remote(submission, name, *args, n=length)
            if not np.allclose(got, getattr(reference, name)(*args), rtol=1e-4, atol=1e-4):
                wrong.append(ending)
        passed += not wrong
        if wrong:
            messages.append(f"{name} is wrong when the episode ends {' and when it ends '.join(wrong)}")
    credit.fraction = passed / 3
    assert passed == 3, "; ".join(messages) + " (truncated: bootstrap from next_values; terminated wins over truncated)"


# ----------------------------------------------------------------------------------- discounted_return
@points(4, part="returns")
def test_discounted_return_matches_reference(submission, rng):
    """discounted_return on a random batch of terminated and truncated episodes"""
    rewards, _, next_values, terminated, truncated = random_batch(rng)
    gamma = random_gamma(rng)
    got = remote(submission, "discounted_return", rewards, terminated, truncated, gamma, next_values, n=len(rewards))
    assert_close(got, reference.discounted_return(rewards, terminated, truncated, gamma, next_values),
                 "discounted_return", rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------- GAE
@points(5, part="returns")
def test_gae_matches_reference(submission, rng, credit):
    """gae_advantages on a random batch, for lambda = 0, a random lambda in (0, 1), and lambda = 1"""
    rewards, values, next_values, terminated, truncated = random_batch(rng)
    gamma = random_gamma(rng)
    lambdas = (0.0, round(float(rng.uniform(0.5, 0.99)), 3), 1.0)
    wrong = []
    for gae_lambda in lambdas:
        got = remote(submission, "gae_advantages", rewards, values, next_values, terminated, truncated, gamma,
                     gae_lambda, n=len(rewards))
        expected = reference.gae_advantages(rewards, values, next_values, terminated, truncated, gamma, gae_lambda)
        if not np.allclose(got, expected, rtol=1e-4, atol=1e-4):
            wrong.append(f"{gae_lambda:g}")
    credit.fraction = 1 - len(wrong) / len(lambdas)
    assert not wrong, f"gae_advantages (gamma = {gamma}) is wrong for lambda = {', '.join(wrong)}"


# ----------------------------------------------------------------------------------- normalize
@points(2, part="returns")
def test_normalize_matches_reference(submission, rng):
    """normalize: (A - mean) / (std + eps), population std"""
    n = int(rng.integers(5, 200))
    advantages = rng.normal(rng.uniform(-5, 5), rng.uniform(0.1, 5.0), size=n).astype(np.float32)
    got = remote(submission, "normalize", advantages, n=n)
    assert_close(got, reference.normalize(advantages), "normalize", rtol=1e-4, atol=1e-5)
