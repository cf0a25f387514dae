"""Hidden tests of fixhw/functions.py: exact values against the reference on random inputs."""
import numpy as np

from fixhw.functions import discounted_return as reference_discounted_return
from fixhw.functions import reward_to_go as reference_reward_to_go
from grader.harness.api import assert_close, check_array, points

MODULE = "fixhw.functions"


@points(2, part="functions")
def test_discounted_return_matches_reference(submission, rng):
    """discounted_return on random rewards"""
    rewards = rng.normal(size=20)
    got = submission.call(f"{MODULE}.discounted_return", rewards, 0.9)
    assert isinstance(got, (int, float)) and not isinstance(got, bool), \
        f"discounted_return must return a float, got {type(got).__name__}"
    assert_close(got, reference_discounted_return(rewards, 0.9), "discounted_return")


@points(2, part="functions")
def test_reward_to_go_matches_reference(submission, rng):
    """reward_to_go on random rewards"""
    rewards = rng.normal(size=30).astype(np.float32)
    got = check_array(submission.call(f"{MODULE}.reward_to_go", rewards, 0.95), "reward_to_go", shape=(30,))
    assert_close(got, reference_reward_to_go(rewards, 0.95), "reward_to_go")


@points(1, part="functions")
def test_reward_to_go_of_one_step_is_the_reward(submission, rng):
    """reward_to_go of a single reward"""
    reward = rng.normal(size=1).astype(np.float32)
    got = check_array(submission.call(f"{MODULE}.reward_to_go", reward, 0.5), "reward_to_go", shape=(1,))
    assert_close(got, reward, "reward_to_go")


@points(1, part="functions")
def test_normalize_has_zero_mean_and_unit_std(submission, rng, credit):
    """normalize: half a point for zero mean, half for unit std"""
    values = rng.normal(3.0, 2.0, size=100).astype(np.float32)
    got = check_array(submission.call(f"{MODULE}.normalize", values), "normalize", shape=(100,))
    fraction = 0.5 * (abs(got.mean()) < 1e-4) + 0.5 * (abs(got.std() - 1.0) < 1e-3)
    credit.fraction = fraction
    assert fraction == 1.0, f"normalize: mean {got.mean():.4g} (want 0), std {got.std():.4g} (want 1)"
