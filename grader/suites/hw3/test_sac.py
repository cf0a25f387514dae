"""Hidden tests of sac.py (README 3.1-3.5): every TODO on fresh inputs, its gradients, and SACAgent.update.

Expected values come from the reference (hw3_qlearning_ac.sac) on the same inputs. Functions get
tensors created in the worker; gradients are read with torch.autograd.grad there (a random weighting
of the outputs), so a detach in the wrong place or a missing one shows. Tolerances and the input
regimes they hold for are in sac_inputs.py: on moderate inputs every legitimate form of the tanh
correction agrees (the exact identity, its |u| form, torch's TanhTransform, and log(1 - tanh^2 + eps)
with eps <= 1e-6); on saturated inputs the docstring's exact, stable form is required.

SACAgent.update is the course's code in the student's file: it is graded end to end (identical
weights, torch seeds and batches on both sides) at each combination of options the handout's configs
use, so that the pieces also compose as the agent uses them.
"""
import numpy as np
import torch
from torch import nn

from grader.harness.api import assert_close, check_array, check_float, points
from grader.harness.twins import assert_same_parameters
from hw3_qlearning_ac import sac as reference
from hw3_qlearning_ac.sac import SACAgent
from hw3_qlearning_ac.sac_networks import EnsembleCritic
from sac_inputs import (GRADIENT_ATOL, LOG_PROB_ATOL, action_box, action_dim, actor_outputs, agent_batch,
                        batch_size, f32, moderate_noise, random_alpha, random_gamma, replay_batch,
                        sampled_log_probs, sampled_q_values, saturated_actor_outputs)

PART = "sac"
MODULE = "hw3_qlearning_ac.sac"
SAMPLE = f"{MODULE}.squashed_gaussian_sample_and_log_prob"
REDUCE = f"{MODULE}.reduce_over_critics"
BACKUP = f"{MODULE}.critic_backup"
ACTOR_REPARAM = f"{MODULE}.actor_loss_reparameterized"
ACTOR_REINFORCE = f"{MODULE}.actor_loss_reinforce"
TEMPERATURE = f"{MODULE}.temperature_loss"
POLYAK = f"{MODULE}.polyak_update"


def worker_tensor(submission, array, requires_grad=False):
    """A tensor created in the worker (where the student's code runs)."""
    return submission.new("torch.tensor", array, requires_grad=requires_grad)


def local(array, requires_grad=False):
    return torch.tensor(array, requires_grad=requires_grad)


def pair(value, what):
    """The student's (actions, log_probs) reply as two unchecked arrays."""
    if not isinstance(value, list) or len(value) != 2:
        raise AssertionError(f"{what} must return a tuple (actions, log_probs), got {type(value).__name__}")
    return value


def scalar(value, what) -> float:
    """A student's scalar loss tensor (shape ()), checked."""
    return float(check_array(value, what, shape=()))


def remote_gradients(submission, outputs, inputs, weights, what):
    """d (sum_k weights_k . outputs_k) / d inputs, computed in the worker; None where nothing reaches an input."""
    got = submission.call("torch.autograd.grad", outputs, inputs,
                          grad_outputs=[worker_tensor(submission, w) for w in weights], allow_unused=True)
    if not isinstance(got, list) or len(got) != len(inputs):
        raise AssertionError(f"{what}: the gradients could not be read")
    return got


def requires_grad(tensor_handle, what) -> bool:
    flag = tensor_handle.attr("requires_grad")
    if not isinstance(flag, bool):
        raise AssertionError(f"{what} must be a torch tensor")
    return flag


# ---------------------------------------------------------------------------------------------------------
# 3.1 squashed_gaussian_sample_and_log_prob
# ---------------------------------------------------------------------------------------------------------


def check_sample(submission, mean, log_std, noise, reparameterize, what, log_prob_rtol=1e-5,
                 log_prob_atol=LOG_PROB_ATOL):
    """The student's actions and log-probs against the reference's, on worker tensors."""
    got = pair(submission.call(SAMPLE, *[worker_tensor(submission, x) for x in (mean, log_std, noise)],
                               reparameterize=reparameterize), what)
    actions = check_array(got[0], f"{what}: actions", shape=noise.shape)
    log_probs = check_array(got[1], f"{what}: log_probs", shape=noise.shape[:-1])
    with torch.no_grad():
        want_actions, want_log_probs = reference.squashed_gaussian_sample_and_log_prob(
            local(mean), local(log_std), local(noise), reparameterize=reparameterize)
    assert_close(actions, want_actions.numpy(), f"{what}: actions tanh(mu + sigma * noise)", rtol=1e-5, atol=1e-6)
    assert_close(log_probs, want_log_probs.numpy(), f"{what}: log_probs (summed over the action dimensions)",
                 rtol=log_prob_rtol, atol=log_prob_atol)


@points(3, part=PART)
def test_squashed_sample_and_log_prob_match_reference(submission, rng):
    """squashed_gaussian_sample_and_log_prob: actions and log pi(a|s) of one sample per state"""
    b, d = batch_size(rng), action_dim(rng)
    mean, log_std = actor_outputs(rng, b, d)
    check_sample(submission, mean, log_std, moderate_noise(rng, (b, d)), True,
                 f"squashed_gaussian_sample_and_log_prob (B={b}, d={d})")


@points(2, part=PART)
def test_squashed_sample_takes_several_samples_per_state(submission, rng):
    """squashed_gaussian_sample_and_log_prob with noise (N, B, d), as the REINFORCE update draws it"""
    n, b, d = int(rng.integers(2, 9)), batch_size(rng), action_dim(rng)
    mean, log_std = actor_outputs(rng, b, d)
    check_sample(submission, mean, log_std, moderate_noise(rng, (n, b, d)), False,
                 f"squashed_gaussian_sample_and_log_prob (noise of shape (N, B, d) = ({n}, {b}, {d}), "
                 f"reparameterize=False)")


def remote_sample(submission, mean, log_std, noise, reparameterize):
    """The student's sample on worker tensors, mean and log_std requiring grad: handles of
    ([mean, log_std], actions, log_probs)."""
    inputs = [worker_tensor(submission, mean, True), worker_tensor(submission, log_std, True)]
    result = submission.new(SAMPLE, *inputs, worker_tensor(submission, noise), reparameterize=reparameterize)
    return inputs, result.new_from("__getitem__", 0), result.new_from("__getitem__", 1)


def sample_gradients(submission, inputs, outputs, weights, shape, what):
    """d (sum_k weights_k . outputs_k) / d mean and / d log_std in the worker, checked (0 where none reaches)."""
    gradients = remote_gradients(submission, outputs, inputs, weights, what)
    return [np.zeros(shape) if g is None else check_array(g, f"{what}: gradient w.r.t. {name}", shape=shape)
            for g, name in zip(gradients, ("mean", "log_std"))]


def reference_sample_gradients(mean, log_std, noise, reparameterize, weights, outputs):
    """The reference's d (sum_k weights_k . result[outputs[k]]) / d mean and / d log_std."""
    mean_l, log_std_l = local(mean, True), local(log_std, True)
    result = reference.squashed_gaussian_sample_and_log_prob(mean_l, log_std_l, local(noise), reparameterize)
    gradients = torch.autograd.grad([result[k] for k in outputs], [mean_l, log_std_l], [local(w) for w in weights])
    return [g.numpy() for g in gradients]


@points(2, part=PART)
def test_squashed_log_prob_is_exact_where_tanh_saturates(submission, rng, credit):
    """squashed_gaussian_sample_and_log_prob where |u| is large: the exact, stable tanh correction (value and gradient)"""
    b, d = batch_size(rng), action_dim(rng)
    mean, log_std = saturated_actor_outputs(rng, b, d)
    noise = f32(rng.standard_normal((b, d)))
    what = "squashed_gaussian_sample_and_log_prob with a confident actor (|mu + sigma * noise| up to 16)"
    inputs, _, log_probs_t = remote_sample(submission, mean, log_std, noise, True)
    log_probs = check_array(log_probs_t.detach(), f"{what}: log_probs", shape=(b,))
    assert requires_grad(log_probs_t, f"{what}: log_probs"), f"{what}: log_probs carry no gradient w.r.t. the mean"
    weights = [f32(rng.normal(size=b))]
    gradients = sample_gradients(submission, inputs, [log_probs_t], weights, (b, d), what)
    with torch.no_grad():
        _, want = reference.squashed_gaussian_sample_and_log_prob(local(mean), local(log_std), local(noise))
    want_gradients = reference_sample_gradients(mean, log_std, noise, True, weights, outputs=(1,))
    value_ok = np.allclose(log_probs, want.numpy(), rtol=1e-5, atol=1e-4)
    gradient_ok = all(np.allclose(g, w, rtol=1e-4, atol=1e-4) for g, w in zip(gradients, want_gradients))
    credit.fraction = 0.5 * value_ok + 0.5 * gradient_ok
    if not value_ok:
        assert_close(log_probs, want.numpy(), f"{what}: log_probs (use the exact identity "
                     "log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)))", rtol=1e-5, atol=1e-4)
    for name, got, expected in zip(("mean", "log_std"), gradients, want_gradients):
        assert_close(got, expected, f"{what}: the gradient of log_probs w.r.t. {name} "
                     "(d/du log(1 - tanh(u)^2) = -2 tanh(u), also where tanh(u) rounds to 1)", rtol=1e-4, atol=1e-4)


@points(2, part=PART)
def test_reparameterized_sample_carries_the_gradient(submission, rng):
    """reparameterize=True: gradients of the actions and log-probs w.r.t. mean and log_std (the sample depends on them)"""
    b, d = batch_size(rng), action_dim(rng)
    mean, log_std = actor_outputs(rng, b, d)
    noise = moderate_noise(rng, (b, d))
    weights = [f32(rng.normal(size=(b, d))), f32(rng.normal(size=b))]
    what = "squashed_gaussian_sample_and_log_prob(reparameterize=True)"
    inputs, actions_t, log_probs_t = remote_sample(submission, mean, log_std, noise, True)
    assert requires_grad(actions_t, f"{what}: actions"), (
        f"{what}: the actions carry no gradient; with the reparameterization trick a = tanh(mu + sigma * noise) "
        "is a differentiable function of mu and sigma")
    gradients = sample_gradients(submission, inputs, [actions_t, log_probs_t], weights, (b, d), what)
    want = reference_sample_gradients(mean, log_std, noise, True, weights, outputs=(0, 1))
    for name, got, expected in zip(("mean", "log_std"), gradients, want):
        assert_close(got, expected, f"{what}: the gradient of (actions, log_probs) w.r.t. {name}",
                     rtol=1e-4, atol=GRADIENT_ATOL)


@points(2, part=PART)
def test_score_function_sample_is_a_constant(submission, rng):
    """reparameterize=False: the actions carry no gradient, log pi(a|s) still does (w.r.t. mean and log_std)"""
    n, b, d = int(rng.integers(1, 5)), batch_size(rng), action_dim(rng)
    mean, log_std = actor_outputs(rng, b, d)
    noise = moderate_noise(rng, (n, b, d))
    weights = [f32(rng.normal(size=(n, b)))]
    what = "squashed_gaussian_sample_and_log_prob(reparameterize=False)"
    inputs, actions_t, log_probs_t = remote_sample(submission, mean, log_std, noise, False)
    assert not requires_grad(actions_t, f"{what}: actions"), (
        f"{what}: the actions carry a gradient; with reparameterize=False u is a constant (detached) sample")
    assert requires_grad(log_probs_t, f"{what}: log_probs"), (
        f"{what}: log_probs carry no gradient; the score-function estimator needs d log pi(a|s) / d(mu, sigma)")
    gradients = sample_gradients(submission, inputs, [log_probs_t], weights, (b, d), what)
    want = reference_sample_gradients(mean, log_std, noise, False, weights, outputs=(1,))
    for name, got, expected in zip(("mean", "log_std"), gradients, want):
        assert_close(got, expected, f"{what}: the gradient of log_probs w.r.t. {name} (u held fixed)",
                     rtol=1e-4, atol=GRADIENT_ATOL)


# ---------------------------------------------------------------------------------------------------------
# 3.2 reduce_over_critics and critic_backup
# ---------------------------------------------------------------------------------------------------------


@points(2, part=PART)
def test_reduce_over_critics_single_mean_and_min(submission, rng, credit):
    """reduce_over_critics: "single", "mean" and "min" over twin critics and over a larger ensemble"""
    cases = [("single", 1), ("single", 2), ("mean", 2), ("min", 2),
             ("mean", int(rng.integers(3, 6))), ("min", int(rng.integers(3, 6)))]
    wrong = []
    for strategy, num_critics in cases:
        b = batch_size(rng)
        q = replay_batch(rng, num_critics, b)["next_q_values"]
        got = submission.call(REDUCE, worker_tensor(submission, q), strategy)
        got = check_array(got, f"reduce_over_critics(q of shape (E, B) = ({num_critics}, {b}), {strategy!r})",
                          shape=(b,))
        want = reference.reduce_over_critics(local(q), strategy).numpy()
        if not np.allclose(got, want, rtol=1e-5, atol=1e-5):
            wrong.append(f"{strategy!r} with E={num_critics}")
    credit.fraction = 1 - len(wrong) / len(cases)
    assert not wrong, "reduce_over_critics differs from min / mean / first critic for: " + "; ".join(wrong)


def check_backup(submission, rng, strategy, num_critics, entropy_in_backup, terminated_as="bool"):
    """critic_backup on one replay batch against the reference; returns an error message or None."""
    batch = replay_batch(rng, num_critics)
    gamma, alpha = random_gamma(rng), random_alpha(rng)
    terminated = batch["terminated"] if terminated_as == "bool" else f32(batch["terminated"])
    args = (batch["rewards"], terminated, batch["next_q_values"], batch["next_log_probs"])
    got = submission.call(BACKUP, *[worker_tensor(submission, x) for x in args], gamma, alpha,
                          strategy=strategy, entropy_in_backup=entropy_in_backup)
    b = len(batch["rewards"])
    what = (f"critic_backup(strategy={strategy!r}, E={num_critics}, entropy_in_backup={entropy_in_backup}, "
            f"gamma={gamma}, alpha={alpha}, terminated as {terminated_as})")
    got = check_array(got, what, shape=(b,))
    want = reference.critic_backup(*[local(x) for x in args], gamma, alpha, strategy, entropy_in_backup).numpy()
    bad = ~np.isclose(got, want, rtol=2e-5, atol=1e-4)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    kind = ("a terminated transition (no bootstrap)" if batch["terminated"][i] else
            "a transition cut by a time limit (truncated, not terminated: it bootstraps)" if batch["truncated"][i]
            else "a transition that continues")
    return f"{what} is wrong at {int(bad.sum())} of {b} targets; first at index {i}, {kind}: got {got[i]:.6g}, " \
           f"expected {want[i]:.6g}"


@points(2, part=PART)
def test_critic_backup_min_of_twin_critics(submission, rng):
    """critic_backup with the clipped double-Q backup (min over E=2) and the entropy term"""
    problem = check_backup(submission, rng, "min", 2, True)
    assert problem is None, problem


@points(2, part=PART)
def test_critic_backup_mean_of_twin_critics(submission, rng):
    """critic_backup with the mean of E=2 critics and the entropy term; terminated as 0/1 floats"""
    problem = check_backup(submission, rng, "mean", 2, True, terminated_as="float")
    assert problem is None, problem


@points(1, part=PART)
def test_critic_backup_single_critic(submission, rng):
    """critic_backup with one critic ("single") and the entropy term"""
    problem = check_backup(submission, rng, "single", 1, True)
    assert problem is None, problem


@points(1, part=PART)
def test_critic_backup_without_the_entropy_term(submission, rng, credit):
    """critic_backup with entropy_in_backup=False, for each strategy"""
    problems = [check_backup(submission, rng, strategy, num_critics, False)
                for strategy, num_critics in (("single", 1), ("mean", 2), ("min", 2))]
    problems = [p for p in problems if p is not None]
    credit.fraction = 1 - len(problems) / 3
    assert not problems, "; ".join(problems)


@points(1, part=PART)
def test_critic_backup_is_a_constant(submission, rng):
    """critic_backup returns targets that carry no gradient, even from inputs that do (and the right values)"""
    batch = replay_batch(rng, 2)
    gamma, alpha = random_gamma(rng), random_alpha(rng)
    args = [worker_tensor(submission, batch["rewards"]), worker_tensor(submission, batch["terminated"]),
            worker_tensor(submission, batch["next_q_values"], True), worker_tensor(submission, batch["next_log_probs"], True)]
    targets = submission.new(BACKUP, *args, gamma, alpha, strategy="min", entropy_in_backup=True)
    what = "critic_backup(strategy='min', entropy_in_backup=True) on next_q_values and next_log_probs that require grad"
    got = check_array(targets.detach(), what, shape=(len(batch["rewards"]),))
    want = reference.critic_backup(local(batch["rewards"]), local(batch["terminated"]), local(batch["next_q_values"]),
                                   local(batch["next_log_probs"]), gamma, alpha, "min", True).numpy()
    assert_close(got, want, what, rtol=2e-5, atol=1e-4)
    assert not requires_grad(targets, what), (
        f"{what}: the targets carry a gradient; the target y is a constant of the critics' regression (detach it)")


# ---------------------------------------------------------------------------------------------------------
# 3.3 the actor's losses
# ---------------------------------------------------------------------------------------------------------


def actor_loss_and_gradients(submission, target, reference_loss, log_probs, q_values, alpha, what, q_grad=True):
    """The student's loss value and its gradients w.r.t. log_probs (and q_values when q_grad), then the
    reference's; a gradient that reaches no input counts as 0. q_grad=False: q_values are constants, as
    the agent's REINFORCE path computes them (without gradient)."""
    log_probs_t, q_t = worker_tensor(submission, log_probs, True), worker_tensor(submission, q_values, q_grad)
    loss = submission.new(target, log_probs_t, q_t, alpha)
    value = scalar(loss.detach(), what)
    assert requires_grad(loss, what), f"{what}: the loss carries no gradient to log_probs"
    inputs, names = ([log_probs_t, q_t], ("log_probs", "q_values")) if q_grad else ([log_probs_t], ("log_probs",))
    got = [np.zeros(log_probs.shape) if g is None else check_array(g, f"{what}: gradient w.r.t. {name}",
                                                                    shape=log_probs.shape)
           for g, name in zip(remote_gradients(submission, [loss], inputs, [np.float32(1.0)], what), names)]
    log_probs_l, q_l = local(log_probs, True), local(q_values, q_grad)
    want_loss = reference_loss(log_probs_l, q_l, alpha)
    want = [np.zeros(log_probs.shape) if g is None else g.numpy()
            for g in torch.autograd.grad(want_loss, [log_probs_l, q_l][:len(inputs)], allow_unused=True)]
    return (value, *got), (want_loss.item(), *want)


@points(2, part=PART)
def test_actor_loss_reparameterized_value(submission, rng):
    """actor_loss_reparameterized: mean of alpha log pi - Q"""
    b, alpha = batch_size(rng), random_alpha(rng)
    log_probs, q = sampled_log_probs(rng, (b,), action_dim(rng)), sampled_q_values(rng, 1, b)[0]
    got = scalar(submission.call(ACTOR_REPARAM, worker_tensor(submission, log_probs), worker_tensor(submission, q), alpha),
                 "actor_loss_reparameterized")
    want = reference.actor_loss_reparameterized(local(log_probs), local(q), alpha).item()
    assert_close(got, want, f"actor_loss_reparameterized (alpha={alpha})", rtol=1e-5, atol=1e-5)


@points(2, part=PART)
def test_actor_loss_reparameterized_gradient(submission, rng):
    """actor_loss_reparameterized: the gradient reaches Q (-1/B: ascend Q) and log pi (alpha/B)"""
    b, alpha = batch_size(rng), random_alpha(rng)
    log_probs, q = sampled_log_probs(rng, (b,), action_dim(rng)), sampled_q_values(rng, 1, b)[0]
    what = f"actor_loss_reparameterized (alpha={alpha})"
    (value, got_lp, got_q), (want, want_lp, want_q) = actor_loss_and_gradients(
        submission, ACTOR_REPARAM, reference.actor_loss_reparameterized, log_probs, q, alpha, what)
    assert_close(got_q, want_q, f"{what}: d loss / d Q (the actor climbs Q through the action; "
                 "the loss must not cut the gradient into Q)", rtol=1e-5, atol=1e-7)
    assert_close(got_lp, want_lp, f"{what}: d loss / d log pi", rtol=1e-5, atol=1e-7)
    assert_close(value, want, what, rtol=1e-5, atol=1e-5)


def check_reinforce(submission, rng, num_samples):
    b, alpha = batch_size(rng), random_alpha(rng)
    log_probs = sampled_log_probs(rng, (num_samples, b), action_dim(rng))
    q = sampled_q_values(rng, num_samples, b)
    what = f"actor_loss_reinforce (N={num_samples} samples per state, B={b}, alpha={alpha})"
    (value, got_lp), (want, want_lp) = actor_loss_and_gradients(
        submission, ACTOR_REINFORCE, reference.actor_loss_reinforce, log_probs, q, alpha, what, q_grad=False)
    baseline = "no baseline" if num_samples == 1 else "the mean of the OTHER samples of the same state as baseline"
    assert_close(got_lp, want_lp, f"{what}: d loss / d log pi (-(v - b) / (N B), v = Q - alpha log pi held "
                 f"constant, {baseline})", rtol=1e-4, atol=1e-6)
    assert_close(value, want, what, rtol=1e-4, atol=1e-5)


@points(2, part=PART)
def test_actor_loss_reinforce_one_sample(submission, rng):
    """actor_loss_reinforce with N=1: value and gradient, v = Q - alpha log pi held constant, no baseline"""
    check_reinforce(submission, rng, 1)


@points(2, part=PART)
def test_actor_loss_reinforce_leave_one_out_baseline(submission, rng):
    """actor_loss_reinforce with N>1: value and gradient with the leave-one-out baseline"""
    check_reinforce(submission, rng, int(rng.integers(2, 9)))


# ---------------------------------------------------------------------------------------------------------
# 3.4 temperature_loss
# ---------------------------------------------------------------------------------------------------------


def temperature_case(rng, entropy_above_target=None):
    """log alpha, log-probs of a batch, and a target entropy (-d, or placed below/above the batch's entropy)."""
    b, d = batch_size(rng), action_dim(rng, multi=False)
    log_probs = sampled_log_probs(rng, (b,), d)
    log_alpha = float(np.float32(np.log(random_alpha(rng))))
    target = float(-d)
    if entropy_above_target is not None:
        entropy, margin = -float(log_probs.astype(np.float64).mean()), float(rng.uniform(0.2, 2.0))
        target = round(entropy - margin if entropy_above_target else entropy + margin, 3)
    return log_alpha, log_probs, target


def remote_temperature(submission, log_alpha, log_probs, target, log_probs_require_grad=False):
    """The student's loss value, d loss / d log_alpha, and d loss / d log_probs (None: no gradient)."""
    log_alpha_t = worker_tensor(submission, np.float32(log_alpha), True)
    log_probs_t = worker_tensor(submission, log_probs, log_probs_require_grad)
    loss = submission.new(TEMPERATURE, log_alpha_t, log_probs_t, target)
    value = scalar(loss.detach(), "temperature_loss")
    assert requires_grad(loss, "temperature_loss"), "temperature_loss carries no gradient to log_alpha"
    inputs = [log_alpha_t, log_probs_t] if log_probs_require_grad else [log_alpha_t]
    gradients = remote_gradients(submission, [loss], inputs, [np.float32(1.0)], "temperature_loss")
    alpha_gradient = 0.0 if gradients[0] is None else float(check_array(gradients[0], "d temperature_loss / d log_alpha",
                                                                       shape=()))
    log_probs_gradient = None
    if log_probs_require_grad and gradients[1] is not None:
        log_probs_gradient = check_array(gradients[1], "d temperature_loss / d log_probs", shape=log_probs.shape)
    return value, alpha_gradient, log_probs_gradient


def reference_temperature(log_alpha, log_probs, target):
    log_alpha_l = local(np.float32(log_alpha), True)
    loss = reference.temperature_loss(log_alpha_l, local(log_probs), target)
    loss.backward()
    return loss.item(), log_alpha_l.grad.item()


@points(1, part=PART)
def test_temperature_loss_value(submission, rng):
    """temperature_loss: -mean(log_alpha * (log pi + H_target)) at the default target entropy -d"""
    log_alpha, log_probs, target = temperature_case(rng)
    value, _, _ = remote_temperature(submission, log_alpha, log_probs, target)
    want, _ = reference_temperature(log_alpha, log_probs, target)
    assert_close(value, want, f"temperature_loss (log_alpha={log_alpha:.4g}, target_entropy={target})",
                 rtol=1e-5, atol=1e-6)


@points(1, part=PART)
def test_temperature_loss_gradient_with_respect_to_log_alpha(submission, rng):
    """temperature_loss: d loss / d log_alpha = -(mean log pi + H_target)"""
    log_alpha, log_probs, target = temperature_case(rng, entropy_above_target=bool(rng.integers(2)))
    _, gradient, _ = remote_temperature(submission, log_alpha, log_probs, target)
    _, want = reference_temperature(log_alpha, log_probs, target)
    assert_close(gradient, want, f"d temperature_loss / d log_alpha (target_entropy={target}; the loss is "
                 "linear in log_alpha)", rtol=1e-5, atol=1e-6)


@points(1, part=PART)
def test_temperature_gradient_moves_alpha_towards_the_target_entropy(submission, rng, credit):
    """temperature_loss: the gradient sign lowers alpha when the entropy is above the target and raises it when below"""
    wrong = []
    for above in (True, False):
        log_alpha, log_probs, target = temperature_case(rng, entropy_above_target=above)
        _, gradient, _ = remote_temperature(submission, log_alpha, log_probs, target)
        _, want = reference_temperature(log_alpha, log_probs, target)
        if not np.sign(gradient) == np.sign(want):
            direction = "positive (gradient descent lowers alpha)" if want > 0 else "negative (descent raises alpha)"
            wrong.append(f"with the entropy {'above' if above else 'below'} the target ({target}) d loss / d log_alpha "
                         f"is {gradient:.4g}, it must be {direction}")
    credit.fraction = 1 - len(wrong) / 2
    assert not wrong, "temperature_loss: " + "; ".join(wrong)


@points(1, part=PART)
def test_temperature_loss_treats_log_probs_as_constants(submission, rng):
    """temperature_loss sends no gradient into log pi (the actor), and still the right gradient into log_alpha"""
    log_alpha, log_probs, target = temperature_case(rng)
    _, gradient, log_probs_gradient = remote_temperature(submission, log_alpha, log_probs, target,
                                                         log_probs_require_grad=True)
    _, want = reference_temperature(log_alpha, log_probs, target)
    assert_close(gradient, want, f"d temperature_loss / d log_alpha (target_entropy={target})", rtol=1e-5, atol=1e-6)
    assert log_probs_gradient is None or np.allclose(log_probs_gradient, 0.0), (
        "temperature_loss sends a gradient into log_probs: they are constants here (detach them), or the "
        "temperature's loss would also train the actor")


# ---------------------------------------------------------------------------------------------------------
# 3.5 polyak_update
# ---------------------------------------------------------------------------------------------------------


def critic_pair(submission, rng):
    """Target and source critics with random weights, locally and in the worker (the target frozen, as in SACAgent)."""
    obs_dim, act_dim, num_critics = int(rng.integers(3, 18)), action_dim(rng, multi=False), int(rng.integers(1, 3))
    hidden = (int(rng.integers(4, 17)), int(rng.integers(4, 17)))
    torch.manual_seed(int(rng.integers(1 << 30)))
    modules = [EnsembleCritic(obs_dim, act_dim, num_critics, hidden) for _ in range(2)]
    remote = []
    for module in modules:
        handle = submission.new("hw3_qlearning_ac.sac_networks.EnsembleCritic", obs_dim, act_dim, num_critics, hidden)
        submission.set_state(handle, {k: v.detach().numpy().copy() for k, v in module.state_dict().items()})
        remote.append(handle)
    modules[0].requires_grad_(False)
    remote[0].new_from("requires_grad_", False)
    return modules, remote


def assert_same_weights(submission, handle, module, what):
    got = submission.get_state(handle)
    for name, value in module.state_dict().items():
        value = value.numpy()
        actual = check_array(got[name], f"{what} {name}", shape=value.shape)
        assert_close(actual, value, f"{what}: {name}", rtol=1e-5, atol=1e-6)


@points(2, part=PART)
def test_polyak_update_moves_the_target_slowly_twice(submission, rng):
    """polyak_update with a small tau, twice in a row: phi_targ <- (1 - tau) phi_targ + tau phi"""
    (target, source), (target_h, source_h) = critic_pair(submission, rng)
    tau = round(float(rng.uniform(0.002, 0.05)), 4)
    for _ in range(2):
        submission.call(POLYAK, target_h, source_h, tau)
        reference.polyak_update(target, source, tau)
    assert_same_weights(submission, target_h, target, f"the target critic after two polyak_update(tau={tau})")


@points(2, part=PART)
def test_polyak_update_leaves_the_source_alone(submission, rng):
    """polyak_update with a large tau: the target moves that far towards the source; the source is unchanged"""
    (target, source), (target_h, source_h) = critic_pair(submission, rng)
    tau = round(float(rng.choice([rng.uniform(0.1, 0.35), rng.uniform(0.65, 0.95)])), 3)
    submission.call(POLYAK, target_h, source_h, tau)
    reference.polyak_update(target, source, tau)
    assert_same_weights(submission, source_h, source, f"the source critic after polyak_update(tau={tau}) (it must "
                        "not change)")
    assert_same_weights(submission, target_h, target, f"the target critic after polyak_update(tau={tau})")


# ---------------------------------------------------------------------------------------------------------
# SACAgent.update end to end, at the configs' combinations of options
# ---------------------------------------------------------------------------------------------------------

METRICS = ("critic_loss", "actor_loss", "temperature_loss", "alpha", "q_mean", "entropy")


def agent_settings(rng, **options):
    return {"hidden_sizes": [int(rng.integers(8, 33))] * 2, "gamma": random_gamma(rng),
            "tau": round(float(rng.uniform(0.005, 0.1)), 3), "initial_alpha": random_alpha(rng),
            "actor_learning_rate": 3e-3, "critic_learning_rate": 3e-3, "alpha_learning_rate": 3e-3, **options}


def compare_parameters(submission, student, local_agent, what):
    expected = {k: v.detach().numpy() for k, v in local_agent.state_dict().items()}
    got = submission.get_state(student)
    assert isinstance(got, dict) and set(expected) <= set(got), f"{what}: the agent's state_dict lacks its networks"
    actual = {name: check_array(got[name], f"{what}: parameter {name}", shape=value.shape)
              for name, value in expected.items()}
    # a few entries are forgiven: Adam's per-entry scaling amplifies rounding (another form of the tanh
    # correction rounds differently), see assert_same_parameters
    assert_same_parameters(actual, expected, what)


def agent_update(submission, rng, updates, **options):
    """The student's SACAgent.update and the reference's on the same weights, torch seeds and batches,
    `updates` times in a row; metrics of every update and all parameters afterwards must match."""
    settings = agent_settings(rng, **options)
    obs_dim, act_dim, b = int(rng.integers(3, 18)), action_dim(rng, multi=False), int(rng.integers(16, 49))
    low, high = action_box(rng, act_dim)
    torch.manual_seed(int(rng.integers(1 << 30)))
    local_agent = SACAgent(obs_dim, act_dim, settings, action_low=low, action_high=high)
    student = submission.new("hw3_qlearning_ac.sac.SACAgent", obs_dim, act_dim, settings, action_low=low,
                             action_high=high)
    submission.set_state(student, {k: v.detach().numpy().copy() for k, v in local_agent.state_dict().items()})
    options_text = ", ".join(f"{k}={v}" for k, v in options.items())
    for step in range(updates):
        batch = agent_batch(rng, b, obs_dim, low, high)
        seed = int(rng.integers(1 << 30))
        submission.new("torch.manual_seed", seed)
        got = student.update(**batch)
        torch.manual_seed(seed)
        want = local_agent.update(**batch)
        what = f"SACAgent.update ({options_text}), update {step + 1} of {updates}"
        assert isinstance(got, dict), f"{what} must return a dict of metrics"
        for key in METRICS:
            assert key in got, f"{what}: the metrics lack {key}"
            assert_close(check_float(got[key], f"{what}: {key}"), want[key], f"{what}: {key}", rtol=1e-3, atol=1e-5)
    compare_parameters(submission, student, local_agent, f"after {updates} SACAgent.update calls ({options_text})")


@points(1, part=PART)
def test_agent_update_reparameterized_min_backup(submission, rng):
    """SACAgent.update, twin critics, min backup, reparameterized actor: two updates in a row (Adam keeps its state)"""
    agent_update(submission, rng, 2, backup="min", num_critics=2, actor_gradient="reparameterize")


@points(1, part=PART)
def test_agent_update_reparameterized_mean_and_single_backups(submission, rng, credit):
    """SACAgent.update with the mean backup of twin critics and with a single critic"""
    failures = []
    for backup, num_critics in (("mean", 2), ("single", 1)):
        try:
            agent_update(submission, rng, 1, backup=backup, num_critics=num_critics, actor_gradient="reparameterize")
        except AssertionError as error:
            failures.append(str(error))
    credit.fraction = 1 - len(failures) / 2
    assert not failures, "; ".join(failures)


@points(1, part=PART)
def test_agent_update_reinforce_one_sample(submission, rng):
    """SACAgent.update with the score-function actor gradient, one sample per state"""
    agent_update(submission, rng, 1, backup="min", num_critics=2, actor_gradient="reinforce", reinforce_samples=1)


@points(1, part=PART)
def test_agent_update_reinforce_several_samples(submission, rng):
    """SACAgent.update with the score-function actor gradient and N samples per state (leave-one-out baseline)"""
    agent_update(submission, rng, 1, backup="min", num_critics=2, actor_gradient="reinforce",
                 reinforce_samples=int(rng.integers(2, 9)))
