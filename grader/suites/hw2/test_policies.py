"""Hidden tests of policies.py: log-probs and entropies against the reference with the same weights."""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, points
from hw2_policy_gradient.policies import CategoricalPolicy, GaussianPolicy

MODULE = "hw2_policy_gradient.policies"
OBS_DIM, NUM_ACTIONS, ACT_DIM = 5, 4, 3


def twin_policies(submission, kind, rng):
    """The reference policy with random weights, and the student's policy with the same weights."""
    torch.manual_seed(int(rng.integers(1 << 30)))
    if kind == "categorical":
        local = CategoricalPolicy(OBS_DIM, NUM_ACTIONS)
        student = submission.new(f"{MODULE}.CategoricalPolicy", OBS_DIM, NUM_ACTIONS)
    else:
        local = GaussianPolicy(OBS_DIM, ACT_DIM)
        with torch.no_grad():
            local.log_std.copy_(torch.as_tensor(rng.uniform(-1.0, 0.5, size=ACT_DIM)))
        student = submission.new(f"{MODULE}.GaussianPolicy", OBS_DIM, ACT_DIM)
    submission.set_state(student, {k: v.numpy() for k, v in local.state_dict().items()})
    return local, student


def tensor(submission, array):
    """A torch tensor living in the worker (the policies' methods take tensors)."""
    return submission.new("torch.as_tensor", array)


@points(4, part="policies")
def test_categorical_log_prob_matches_reference(submission, rng):
    """CategoricalPolicy.log_prob"""
    local, student = twin_policies(submission, "categorical", rng)
    batch = int(rng.integers(8, 64))
    obs = rng.normal(size=(batch, OBS_DIM)).astype(np.float32)
    actions = rng.integers(0, NUM_ACTIONS, size=batch)
    got = check_array(student.log_prob(tensor(submission, obs), tensor(submission, actions)), "log_prob",
                      shape=(batch,))
    expected = local.log_prob(torch.as_tensor(obs), torch.as_tensor(actions)).detach().numpy()
    assert_close(got, expected, "CategoricalPolicy.log_prob", rtol=1e-4, atol=1e-5)


@points(3, part="policies")
def test_categorical_entropy_matches_reference(submission, rng):
    """CategoricalPolicy.entropy"""
    local, student = twin_policies(submission, "categorical", rng)
    batch = int(rng.integers(8, 64))
    obs = rng.normal(size=(batch, OBS_DIM)).astype(np.float32)
    got = check_array(student.entropy(tensor(submission, obs)), "entropy", shape=(batch,))
    assert_close(got, local.entropy(torch.as_tensor(obs)).detach().numpy(), "CategoricalPolicy.entropy",
                 rtol=1e-4, atol=1e-5)


@points(5, part="policies")
def test_gaussian_log_prob_is_summed_over_action_dimensions(submission, rng):
    """GaussianPolicy.log_prob: one number per sample, the sum over the action dimensions"""
    local, student = twin_policies(submission, "gaussian", rng)
    batch = int(rng.integers(8, 64))
    obs = rng.normal(size=(batch, OBS_DIM)).astype(np.float32)
    actions = rng.normal(size=(batch, ACT_DIM)).astype(np.float32)
    got = check_array(student.log_prob(tensor(submission, obs), tensor(submission, actions)),
                      "GaussianPolicy.log_prob", shape=(batch,))
    expected = local.log_prob(torch.as_tensor(obs), torch.as_tensor(actions)).detach().numpy()
    assert_close(got, expected, "GaussianPolicy.log_prob", rtol=1e-4, atol=1e-4)


@points(3, part="policies")
def test_gaussian_entropy_matches_reference(submission, rng):
    """GaussianPolicy.entropy: summed over the action dimensions"""
    local, student = twin_policies(submission, "gaussian", rng)
    batch = int(rng.integers(8, 64))
    obs = rng.normal(size=(batch, OBS_DIM)).astype(np.float32)
    got = check_array(student.entropy(tensor(submission, obs)), "GaussianPolicy.entropy", shape=(batch,))
    assert_close(got, local.entropy(torch.as_tensor(obs)).detach().numpy(), "GaussianPolicy.entropy",
                 rtol=1e-4, atol=1e-4)
