"""Hidden tests of expressive_policies.py (README 5.1-5.3): every TODO against the reference on fresh inputs.

Policies are twins: the reference module with random weights (seeded from `rng`) and the student's
class with the same weights. Observations and actions are (observation, action) pairs of the
two-ways task's demonstrations, sampled from `rng`; noise and flow times as the training draws them.
Arrays handed to student code travel as tensors created in the worker (`remote_tensor`).
"""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, check_float, points
from hw1_imitation import expressive_policies as reference
from hw1_imitation.bimodal_task import make_demonstrations

MODULE = "hw1_imitation.expressive_policies"
PART = "expressive"
OBS_DIM = ACT_DIM = 2
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


def remote_tensor(submission, array: np.ndarray):
    """A float32 torch tensor living in the worker (the TODOs take tensors)."""
    return submission.new("torch.as_tensor", np.asarray(array, dtype=np.float32))


def demonstration_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """observations, actions (B, 2) float32: a minibatch of the two-ways demonstrations, as training draws it."""
    demos = make_demonstrations(2 * int(rng.integers(2, 20)), rng)
    batch = rng.integers(len(demos.observations), size=int(rng.integers(16, 128)))
    return demos.observations[batch], demos.actions[batch]


def twin_policy(submission, rng: np.random.Generator, kind: str):
    """(local reference policy, the student's policy) with the same random weights."""
    torch.manual_seed(int(rng.integers(1 << 30)))
    hidden = tuple(int(h) for h in rng.integers(8, 48, size=int(rng.integers(1, 3))))
    if kind == "gaussian":
        args = (OBS_DIM, ACT_DIM, hidden)
        local = reference.GaussianPolicy(*args)
        with torch.no_grad():
            local.log_std.copy_(torch.as_tensor(rng.uniform(-1.0, 0.5, size=ACT_DIM)))
    elif kind == "mixture":
        args = (OBS_DIM, ACT_DIM, int(rng.integers(2, 6)), hidden)
        local = reference.MixturePolicy(*args)
    else:
        args = (OBS_DIM, ACT_DIM, hidden)
        local = reference.FlowPolicy(*args)
    student = submission.new(f"{MODULE}.{type(local).__name__}", *args)
    submission.set_state(student, {k: v.numpy() for k, v in local.state_dict().items()})
    return local, student


def random_mixture(rng: np.random.Generator, batch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """logits (N, K), means and log_stds (N, K, d) on the scale a mixture head outputs (float32)."""
    k = int(rng.integers(2, 6))
    logits = rng.normal(scale=2.0, size=(batch, k)).astype(np.float32)
    means = rng.normal(size=(batch, k, ACT_DIM)).astype(np.float32)
    log_stds = rng.uniform(-2.0, 0.5, size=(batch, k, ACT_DIM)).astype(np.float32)
    return logits, means, log_stds


def expected(function, *arrays) -> np.ndarray:
    """The reference's value on the same float32 inputs, as numpy."""
    with torch.no_grad():
        return function(*(torch.as_tensor(a) if isinstance(a, np.ndarray) else a for a in arrays)).numpy()


# --- gaussian_log_prob (README 5.1) ------------------------------------------------------------

@points(2, part=PART)
def test_gaussian_log_prob_matches_reference(submission, rng):
    """gaussian_log_prob on (N, d) means, (d,) log-stds and the expert's actions"""
    _, actions = demonstration_batch(rng)
    means = (actions + rng.normal(scale=0.5, size=actions.shape)).astype(np.float32)
    log_stds = rng.uniform(-2.0, 0.5, size=ACT_DIM).astype(np.float32)
    got = check_array(submission.call(f"{MODULE}.gaussian_log_prob", remote_tensor(submission, means),
                                      remote_tensor(submission, log_stds), remote_tensor(submission, actions)),
                      "gaussian_log_prob", shape=(len(actions),))
    assert_close(got, expected(reference.gaussian_log_prob, means, log_stds, actions), "gaussian_log_prob", **TOLERANCE)


@points(1, part=PART)
def test_gaussian_log_prob_broadcasts_over_mixture_components(submission, rng):
    """gaussian_log_prob of (N, K, d) components against (N, 1, d) actions, as the mixture calls it"""
    _, actions = demonstration_batch(rng)
    _, means, log_stds = random_mixture(rng, len(actions))
    got = check_array(submission.call(f"{MODULE}.gaussian_log_prob", remote_tensor(submission, means),
                                      remote_tensor(submission, log_stds), remote_tensor(submission, actions[:, None])),
                      "gaussian_log_prob", shape=means.shape[:2])
    assert_close(got, expected(reference.gaussian_log_prob, means, log_stds, actions[:, None]),
                 "gaussian_log_prob of each component", **TOLERANCE)


# --- behavior_cloning_loss and the Gaussian's evaluation action (README 5.1) -----------------

def check_behavior_cloning_loss(submission, rng, kind: str) -> None:
    local, student = twin_policy(submission, rng, kind)
    observations, actions = demonstration_batch(rng)
    got = check_float(submission.call(f"{MODULE}.behavior_cloning_loss", student, remote_tensor(submission, observations),
                                      remote_tensor(submission, actions)), "behavior_cloning_loss")
    want = expected(lambda o, a: reference.behavior_cloning_loss(local, o, a), observations, actions)
    assert_close(got, float(want), f"behavior_cloning_loss of a {kind} policy", **TOLERANCE)


@points(2, part=PART)
def test_behavior_cloning_loss_of_a_gaussian_policy_matches_reference(submission, rng):
    """behavior_cloning_loss = -mean log pi(a|s) of a GaussianPolicy on demonstration pairs"""
    check_behavior_cloning_loss(submission, rng, "gaussian")


@points(1, part=PART)
def test_behavior_cloning_loss_of_a_mixture_policy_matches_reference(submission, rng):
    """behavior_cloning_loss of a MixturePolicy (the same function trains both)"""
    check_behavior_cloning_loss(submission, rng, "mixture")


@points(2, part=PART)
def test_gaussian_policy_acts_with_its_mean(submission, rng):
    """GaussianPolicy.act returns mu_theta(s), not a sample (the evaluation's action)"""
    local, student = twin_policy(submission, rng, "gaussian")
    observations, _ = demonstration_batch(rng)
    got = check_array(submission.act(student, observations), "GaussianPolicy.act", shape=observations.shape)
    assert_close(got, expected(local, observations), "GaussianPolicy.act (the mean action)", **TOLERANCE)


# --- mixture_log_prob (README 5.2) -------------------------------------------------------------

@points(3, part=PART)
def test_mixture_log_prob_matches_reference(submission, rng):
    """mixture_log_prob: log sum_k softmax(logits)_k N(a; mu_k, sigma_k) on random heads and expert actions"""
    _, actions = demonstration_batch(rng)
    logits, means, log_stds = random_mixture(rng, len(actions))
    got = check_array(submission.call(f"{MODULE}.mixture_log_prob", *(remote_tensor(submission, a) for a in
                                                                      (logits, means, log_stds, actions))),
                      "mixture_log_prob", shape=(len(actions),))
    assert_close(got, expected(reference.mixture_log_prob, logits, means, log_stds, actions), "mixture_log_prob",
                 **TOLERANCE)


@points(2, part=PART)
def test_mixture_log_prob_stays_finite_far_from_every_component(submission, rng):
    """actions many standard deviations from every component: log N of -1000s, exp underflows"""
    _, actions = demonstration_batch(rng)
    logits, means, _ = random_mixture(rng, len(actions))
    log_stds = rng.uniform(-2.0, -1.0, size=means.shape).astype(np.float32)
    direction = rng.normal(size=actions.shape)
    far = (means.mean(axis=1) + rng.uniform(25, 40) * direction / np.linalg.norm(direction, axis=1, keepdims=True))
    far = far.astype(np.float32)
    got = check_array(submission.call(f"{MODULE}.mixture_log_prob", *(remote_tensor(submission, a) for a in
                                                                      (logits, means, log_stds, far))),
                      "mixture_log_prob", shape=(len(far),))
    assert_close(got, expected(reference.mixture_log_prob, logits, means, log_stds, far),
                 "mixture_log_prob far from every component", **TOLERANCE)


@points(1, part=PART)
def test_mixture_policy_log_prob_matches_reference(submission, rng):
    """MixturePolicy.log_prob (its network's heads through mixture_log_prob) on demonstration pairs"""
    local, student = twin_policy(submission, rng, "mixture")
    observations, actions = demonstration_batch(rng)
    got = check_array(student.log_prob(remote_tensor(submission, observations), remote_tensor(submission, actions)),
                      "MixturePolicy.log_prob", shape=(len(actions),))
    assert_close(got, expected(local.log_prob, observations, actions), "MixturePolicy.log_prob", **TOLERANCE)


# --- flow matching (README 5.3) ----------------------------------------------------------------

def check_flow_matching_loss(submission, rng, taus: np.ndarray, observations, actions, setting: str) -> None:
    local, student = twin_policy(submission, rng, "flow")
    noise = rng.normal(size=actions.shape).astype(np.float32)
    got = check_float(submission.call(f"{MODULE}.flow_matching_loss", student,
                                      *(remote_tensor(submission, a) for a in (observations, actions, noise, taus))),
                      "flow_matching_loss")
    want = expected(lambda *a: reference.flow_matching_loss(local, *a), observations, actions, noise, taus)
    assert_close(got, float(want), f"flow_matching_loss ({setting})", **TOLERANCE)


@points(2, part=PART)
def test_flow_matching_loss_matches_reference(submission, rng):
    """flow_matching_loss with noise x_0 ~ N(0, I) and tau ~ U(0, 1) on demonstration pairs"""
    observations, actions = demonstration_batch(rng)
    taus = rng.uniform(size=len(actions)).astype(np.float32)
    check_flow_matching_loss(submission, rng, taus, observations, actions, "tau ~ U(0, 1)")


@points(1, part=PART)
def test_flow_matching_loss_at_the_ends_of_the_flow(submission, rng):
    """tau = 0 (x is the noise) and tau = 1 (x is the action), mixed in one batch"""
    observations, actions = demonstration_batch(rng)
    taus = rng.integers(0, 2, size=len(actions)).astype(np.float32)
    check_flow_matching_loss(submission, rng, taus, observations, actions, "tau in {0, 1}")


def check_euler_sample(submission, rng, num_steps: int) -> None:
    local, student = twin_policy(submission, rng, "flow")
    observations, _ = demonstration_batch(rng)
    noise = rng.normal(size=observations.shape).astype(np.float32)
    got = check_array(submission.call(f"{MODULE}.euler_sample", student, remote_tensor(submission, observations),
                                      remote_tensor(submission, noise), num_steps),
                      "euler_sample", shape=noise.shape)
    want = expected(lambda o, x: reference.euler_sample(local, o, x, num_steps), observations, noise)
    assert_close(got, want, f"euler_sample with {num_steps} steps", **TOLERANCE)


@points(2, part=PART)
def test_euler_sample_matches_reference(submission, rng):
    """euler_sample from tau = 0 to 1 in K equal steps, K random"""
    check_euler_sample(submission, rng, int(rng.integers(2, 13)))


@points(1, part=PART)
def test_euler_sample_with_one_step(submission, rng):
    """K = 1: x_0 + v(s, x_0, 0)"""
    check_euler_sample(submission, rng, 1)
