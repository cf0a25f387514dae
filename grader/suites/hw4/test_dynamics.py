"""Hidden tests of dynamics.py (README 3.1-3.5): the statistics, the bootstrap, the predictions, the loss.

Models are the reference's EnsembleDynamics with random weights and the statistics of realistic data
(obstacles runs, HalfCheetah-shaped buffers), loaded into the student's; expected values come from
the reference on the same inputs. The bootstrap is random and its docstring leaves the draw open
(one rng.integers call, or rng.choice): it is tested by its properties and statistics.
"""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, check_float, points
from hw4_inputs import transitions, twin_ensembles, worker_tensor
from hw4_model_based import dynamics as reference

MODULE = "hw4_model_based.dynamics"
PART = "dynamics"
STATS = ("obs_mean", "obs_std", "act_mean", "act_std", "delta_mean", "delta_std")


def check_stats(submission, data, what):
    stats = submission.new(f"{MODULE}.normalization_stats", *data)
    expected = reference.normalization_stats(*data)
    for name in STATS:
        want = getattr(expected, name)
        got = check_array(stats.attr(name), f"{what}: {name}", shape=want.shape)
        assert_close(got, want, f"{what}: {name}", rtol=1e-4, atol=1e-6)


@points(3, part=PART)
def test_normalization_stats_of_an_obstacles_run_match_reference(submission, rng):
    """normalization_stats: means and population stds of s, a and s' - s of obstacles transitions"""
    check_stats(submission, transitions(rng, "obstacles", int(rng.integers(100, 300))), "normalization_stats")


@points(2, part=PART)
def test_normalization_stats_of_halfcheetah_data_with_a_constant_entry(submission, rng):
    """normalization_stats on HalfCheetah-shaped data whose entry 17 never changes (std eps, no division by 0)"""
    observations, actions, next_observations = transitions(rng, "cheetah", int(rng.integers(100, 300)))
    constant = np.float32(rng.normal())
    observations[:, 17], next_observations[:, 17] = constant, constant
    check_stats(submission, (observations, actions, next_observations), "normalization_stats with a constant entry")


def remote_bootstrap(submission, num_samples, num_members, seed):
    generator = submission.new("numpy.random.default_rng", seed)
    got = submission.call(f"{MODULE}.bootstrap_indices", num_samples, num_members, generator)
    return check_array(got, "bootstrap_indices", shape=(num_members, num_samples), dtype="int")


@points(2, part=PART)
def test_bootstrap_indices_resample_with_replacement_per_member(submission, rng):
    """bootstrap_indices: (E, N) indices in [0, N), drawn with replacement, a different resample per member"""
    num_samples, num_members = int(rng.integers(300, 1000)), int(rng.integers(3, 8))
    got = remote_bootstrap(submission, num_samples, num_members, int(rng.integers(1 << 30)))
    assert got.min() >= 0 and got.max() < num_samples, \
        f"bootstrap_indices: indices must lie in [0, {num_samples}), got {got.min()} to {got.max()}"
    unique = np.array([len(np.unique(row)) / num_samples for row in got])
    # with replacement a resample holds about 1 - 1/e = 63% distinct transitions (+-3% at N >= 300)
    assert np.all((unique > 0.55) & (unique < 0.71)), \
        (f"bootstrap_indices: a member's resample holds {unique.min():.0%} to {unique.max():.0%} distinct "
         "transitions; drawing N of N with replacement gives about 63%")
    same = [i for i in range(1, num_members) if np.array_equal(np.sort(got[i]), np.sort(got[0]))]
    assert not same, f"bootstrap_indices: members 0 and {same[0]} got the same resample; draw one per member"


@points(1, part=PART)
def test_bootstrap_indices_are_uniform_and_come_from_the_given_rng(submission, rng):
    """bootstrap_indices: every transition equally likely; the same rng seed gives the same indices"""
    num_samples, num_members = int(rng.integers(20, 50)), int(rng.integers(200, 400))
    seed = int(rng.integers(1 << 30))
    got = remote_bootstrap(submission, num_samples, num_members, seed)
    again = remote_bootstrap(submission, num_samples, num_members, seed)
    assert np.array_equal(got, again), "bootstrap_indices: draw with the rng you are given, nothing else"
    counts = np.bincount(got.ravel(), minlength=num_samples)
    expected = got.size / num_samples
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    # chi-square with N - 1 <= 49 degrees of freedom: above 3 (N - 1) + 30 has probability below 1e-9
    assert chi2 < 3 * (num_samples - 1) + 30, \
        "bootstrap_indices: some transitions are drawn far more often than others; draw uniformly"


def model_inputs(rng, members, data):
    observations, actions, _ = data
    rows = rng.integers(0, len(observations), size=(members, int(rng.integers(8, 40))))
    return observations[rows], actions[rows]


def check_prediction(submission, rng, env, method, atol):
    """The student's `method` (predict_normalized_delta or predict_next_obs) against the reference's."""
    data = transitions(rng, env, 300)
    local, student = twin_ensembles(submission, rng, env, data=data)
    obs, actions = model_inputs(rng, local.num_members, data)
    got = getattr(student, method)(worker_tensor(submission, obs), worker_tensor(submission, actions))
    got = check_array(got, method, shape=obs.shape)
    with torch.no_grad():
        expected = getattr(local, method)(torch.as_tensor(obs), torch.as_tensor(actions)).numpy()
    assert_close(got, expected, method, rtol=1e-4, atol=atol)


@points(3, part=PART)
def test_predict_normalized_delta_matches_reference(submission, rng):
    """predict_normalized_delta: normalized inputs (the model's statistics) through every member"""
    check_prediction(submission, rng, str(rng.choice(["obstacles", "cheetah"])), "predict_normalized_delta", 1e-5)


@points(3, part=PART)
def test_predict_next_obs_matches_reference(submission, rng):
    """predict_next_obs: s + sigma_d * d_hat + mu_d for every member, on HalfCheetah-shaped states"""
    check_prediction(submission, rng, "cheetah", "predict_next_obs", 1e-4)


@points(2, part=PART)
def test_predict_next_obs_on_the_obstacles_course(submission, rng):
    """predict_next_obs on obstacles positions: the predicted step is added to where the robot is"""
    check_prediction(submission, rng, "obstacles", "predict_next_obs", 1e-5)


@points(3, part=PART)
def test_loss_matches_reference(submission, rng):
    """loss: MSE of the normalized delta against ((s' - s) - mu_d) / sigma_d, per member's own batch"""
    env = str(rng.choice(["obstacles", "cheetah"]))
    data = transitions(rng, env, 300)
    local, student = twin_ensembles(submission, rng, env, data=data)
    observations, actions, next_observations = data
    rows = rng.integers(0, len(observations), size=(local.num_members, int(rng.integers(8, 40))))
    batch = [array[rows] for array in (observations, actions, next_observations)]
    got = student.loss(*[worker_tensor(submission, array) for array in batch])
    got = check_float(got, "loss")
    with torch.no_grad():
        expected = local.loss(*[torch.as_tensor(array) for array in batch]).item()
    assert_close(got, expected, "loss", rtol=1e-4, atol=1e-6)
