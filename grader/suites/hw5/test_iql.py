"""Hidden tests of iql.py, part "iql" (README 5.5-5.7): the expectile loss, the value loss on the
dataset's actions and the Q target from V; exact values and gradients against the reference on fresh
random inputs shaped like the maze agents' (hw5_inputs.py).
"""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, check_float, points
from hw5_inputs import NUM_ACTIONS, dataset_batch, q_table, remote_tensor
from hw5_exploration_offline import iql as reference

MODULE = "hw5_exploration_offline.iql"
PART = "iql"


def expectile_of(rng) -> float:
    """tau as the configs use it: above 0.5 (an in-support max), never 0.5 itself (where reversed weights agree)."""
    return round(float(rng.uniform(0.6, 0.95)), 3)


def differences(rng, n):
    """u = Q - V as training gives them: both signs, of a few units."""
    return rng.normal(rng.uniform(-1.0, 1.0), rng.uniform(0.5, 5.0), size=n).astype(np.float32)


# ----------------------------------------------------------------------------------- expectile_loss (5.5)
@points(4, part=PART)
def test_expectile_loss_matches_reference(submission, rng):
    """expectile_loss: mean |tau - 1(u < 0)| u^2 (weight tau where Q > V), at two values of tau"""
    for tau in (expectile_of(rng), round(float(rng.uniform(0.6, 0.95)), 3)):
        diff = differences(rng, int(rng.integers(16, 300)))
        got = check_float(submission.call(f"{MODULE}.expectile_loss", remote_tensor(submission, diff), tau),
                          "expectile_loss")
        expected = reference.expectile_loss(torch.as_tensor(diff), tau).item()
        assert_close(got, expected, f"expectile_loss (tau = {tau})", rtol=1e-4, atol=1e-6)


@points(2, part=PART)
def test_expectile_loss_gradient(submission, rng):
    """expectile_loss: d/du = 2 |tau - 1(u < 0)| u / B"""
    tau, n = expectile_of(rng), int(rng.integers(16, 300))
    diff = differences(rng, n)
    diff_t = remote_tensor(submission, diff, requires_grad=True)
    submission.new(f"{MODULE}.expectile_loss", diff_t, tau).backward()
    gradient = diff_t.attr("grad")
    assert gradient is not None, "no gradient reaches diff through expectile_loss"
    gradient = check_array(gradient, "the gradient of expectile_loss", shape=(n,))
    local = torch.tensor(diff, requires_grad=True)
    reference.expectile_loss(local, tau).backward()
    assert_close(gradient, local.grad.numpy(), f"d expectile_loss / d diff (tau = {tau})", rtol=1e-4, atol=1e-7)


# ----------------------------------------------------------------------------------- iql_value_loss (5.6)
def value_inputs(rng):
    batch = dataset_batch(rng, int(rng.integers(16, 200)))
    n = len(batch["actions"])
    target_q = q_table(rng, n)
    values = (target_q.mean(axis=1) + rng.normal(0.0, 3.0, size=n)).astype(np.float32)
    return values, target_q, batch["actions"], expectile_of(rng), n


@points(4, part=PART)
def test_iql_value_loss_matches_reference(submission, rng):
    """iql_value_loss: expectile_loss(Q'(s, a_j) - V(s), tau) with a_j the DATASET's action"""
    values, target_q, actions, tau, n = value_inputs(rng)
    got = check_float(submission.call(f"{MODULE}.iql_value_loss", remote_tensor(submission, values),
                                      remote_tensor(submission, target_q), remote_tensor(submission, actions), tau),
                      "iql_value_loss")
    expected = reference.iql_value_loss(torch.as_tensor(values), torch.as_tensor(target_q),
                                        torch.as_tensor(actions), tau).item()
    assert_close(got, expected, f"iql_value_loss (tau = {tau})", rtol=1e-4, atol=1e-5)


@points(2, part=PART)
def test_iql_value_loss_trains_the_values_only(submission, rng):
    """iql_value_loss: d/dV matches the reference; the Q-values get no gradient"""
    values, target_q, actions, tau, n = value_inputs(rng)
    values_t = remote_tensor(submission, values, requires_grad=True)
    q_t = remote_tensor(submission, target_q, requires_grad=True)
    submission.new(f"{MODULE}.iql_value_loss", values_t, q_t, remote_tensor(submission, actions), tau).backward()
    gradient = values_t.attr("grad")
    assert gradient is not None, "no gradient reaches the values through iql_value_loss"
    gradient = check_array(gradient, "the gradient of iql_value_loss w.r.t. values", shape=(n,))
    local = torch.tensor(values, requires_grad=True)
    reference.iql_value_loss(local, torch.as_tensor(target_q), torch.as_tensor(actions), tau).backward()
    assert_close(gradient, local.grad.numpy(), "d iql_value_loss / d values", rtol=1e-4, atol=1e-7)
    q_gradient = q_t.attr("grad")
    if q_gradient is not None:
        q_gradient = check_array(q_gradient, "the gradient w.r.t. the Q-values", shape=(n, NUM_ACTIONS))
        assert not np.any(q_gradient), "iql_value_loss sends gradient into the Q-values: only V learns from it"


# ----------------------------------------------------------------------------------- iql_q_target (5.7)
@points(4, part=PART)
def test_iql_q_target_matches_reference_and_masks_terminal_states(submission, rng):
    """iql_q_target: r + gamma (1 - d) V(s'); y = r where terminated, truncated steps bootstrap; no gradient"""
    batch = dataset_batch(rng, int(rng.integers(16, 200)))
    n = len(batch["rewards"])
    next_values = rng.uniform(-100.0, 0.0, size=n).astype(np.float32)
    gamma = round(float(rng.uniform(0.9, 0.999)), 3)
    target = submission.new(f"{MODULE}.iql_q_target", remote_tensor(submission, batch["rewards"]),
                            remote_tensor(submission, batch["terminated"]),
                            remote_tensor(submission, next_values, requires_grad=True), gamma)
    assert target.attr("requires_grad") is False, \
        "iql_q_target returned a tensor that requires grad: the target is a constant (torch.no_grad or detach)"
    got = check_array(target.method("numpy"), "iql_q_target", shape=(n,))
    expected = reference.iql_q_target(torch.as_tensor(batch["rewards"]), torch.as_tensor(batch["terminated"]),
                                      torch.as_tensor(next_values), gamma).numpy()
    assert_close(got, expected, f"iql_q_target (gamma = {gamma})", rtol=1e-5, atol=1e-4)
