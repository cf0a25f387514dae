"""Hidden tests of cql.py, part "cql" (README 4.2-4.3): CQL's conservative term and the critic loss,
exact values and gradients against the reference on fresh random inputs.

Q-values are shaped like the maze critics' (hw5_inputs.q_table: rewards of -1 per step, so values
between about -100 and 0, a spread over the 4 actions, an offline critic's overestimated actions
above the rest), actions are a dataset's.
"""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, check_float, points
from hw5_inputs import NUM_ACTIONS, dataset_batch, q_table, remote_tensor
from hw5_exploration_offline import cql as reference

MODULE = "hw5_exploration_offline.cql"
PART = "cql"


def inputs(rng, scale=None):
    batch = dataset_batch(rng, int(rng.integers(16, 200)))
    n = len(batch["actions"])
    return q_table(rng, n, scale), batch["actions"], n


# ----------------------------------------------------------------------------------- cql_regularizer (4.2)
@points(4, part=PART)
def test_cql_regularizer_matches_reference(submission, rng):
    """cql_regularizer: mean over the batch of logsumexp over ALL actions minus Q of the dataset action"""
    q_values, actions, n = inputs(rng)
    got = check_float(submission.call(f"{MODULE}.cql_regularizer", remote_tensor(submission, q_values),
                                      remote_tensor(submission, actions)), "cql_regularizer")
    expected = reference.cql_regularizer(torch.as_tensor(q_values), torch.as_tensor(actions)).item()
    assert_close(got, expected, f"cql_regularizer of a ({n}, {NUM_ACTIONS}) batch", rtol=1e-4, atol=1e-5)


@points(2, part=PART)
def test_cql_regularizer_is_stable_on_the_scale_of_maze_returns(submission, rng):
    """cql_regularizer with Q-values near -100 (exp underflows there: use torch.logsumexp)"""
    batch = dataset_batch(rng, int(rng.integers(16, 100)))
    n = len(batch["actions"])
    q_values = (rng.uniform(-130.0, -95.0, size=(n, 1)) + rng.normal(0.0, 5.0, size=(n, NUM_ACTIONS))).astype(np.float32)
    got = check_float(submission.call(f"{MODULE}.cql_regularizer", remote_tensor(submission, q_values),
                                      remote_tensor(submission, batch["actions"])), "cql_regularizer")
    expected = reference.cql_regularizer(torch.as_tensor(q_values), torch.as_tensor(batch["actions"])).item()
    assert_close(got, expected, "cql_regularizer of Q-values near -100", rtol=1e-4, atol=1e-4)


@points(3, part=PART)
def test_cql_regularizer_gradient_pushes_all_actions_down_and_the_dataset_action_up(submission, rng):
    """cql_regularizer: d/dQ is (softmax(Q) - onehot(a_j)) / B, gradient through both parts"""
    q_values, actions, n = inputs(rng)
    q_t = remote_tensor(submission, q_values, requires_grad=True)
    submission.new(f"{MODULE}.cql_regularizer", q_t, remote_tensor(submission, actions)).backward()
    gradient = q_t.attr("grad")
    assert gradient is not None, "no gradient reaches q_values through cql_regularizer"
    gradient = check_array(gradient, "the gradient of cql_regularizer w.r.t. q_values", shape=(n, NUM_ACTIONS))
    local = torch.tensor(q_values, requires_grad=True)
    reference.cql_regularizer(local, torch.as_tensor(actions)).backward()
    assert_close(gradient, local.grad.numpy(), "d cql_regularizer / d q_values", rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------------- cql_loss (4.3)
def loss_inputs(rng):
    q_values, actions, n = inputs(rng)
    taken = q_values[np.arange(n), actions]
    targets = (taken + rng.normal(0.0, rng.uniform(0.3, 4.0), size=n)).astype(np.float32)  # some |TD| > delta
    alpha = round(float(rng.uniform(0.1, 5.0)), 3)
    delta = round(float(rng.uniform(0.5, 3.0)), 3)
    return q_values, actions, targets, alpha, delta, n


@points(4, part=PART)
def test_cql_loss_matches_reference(submission, rng):
    """cql_loss: the Huber TD loss of the dataset actions (delta != 1) plus alpha times cql_regularizer"""
    q_values, actions, targets, alpha, delta, n = loss_inputs(rng)
    got = check_float(submission.call(f"{MODULE}.cql_loss", remote_tensor(submission, q_values),
                                      remote_tensor(submission, actions), remote_tensor(submission, targets), alpha,
                                      huber_delta=delta), "cql_loss")
    expected = reference.cql_loss(torch.as_tensor(q_values), torch.as_tensor(actions), torch.as_tensor(targets),
                                  alpha, delta).item()
    assert_close(got, expected, f"cql_loss (alpha = {alpha}, huber_delta = {delta})", rtol=1e-4, atol=1e-5)


@points(3, part=PART)
def test_cql_loss_gradient_with_constant_targets_and_alpha_zero(submission, rng):
    """cql_loss: d/dQ matches the reference, no gradient into the targets; alpha = 0 is offline DQN's loss"""
    q_values, actions, targets, alpha, delta, n = loss_inputs(rng)
    for weight in (alpha, 0.0):
        q_t = remote_tensor(submission, q_values, requires_grad=True)
        targets_t = remote_tensor(submission, targets, requires_grad=True)
        loss = submission.new(f"{MODULE}.cql_loss", q_t, remote_tensor(submission, actions), targets_t, weight,
                              huber_delta=delta)
        loss.backward()
        gradient = q_t.attr("grad")
        assert gradient is not None, "no gradient reaches q_values through cql_loss"
        gradient = check_array(gradient, "the gradient of cql_loss w.r.t. q_values", shape=(n, NUM_ACTIONS))
        local = torch.tensor(q_values, requires_grad=True)
        reference.cql_loss(local, torch.as_tensor(actions), torch.as_tensor(targets), weight, delta).backward()
        assert_close(gradient, local.grad.numpy(), f"d cql_loss / d q_values (alpha = {weight})", rtol=1e-4, atol=1e-6)
        target_gradient = targets_t.attr("grad")
        if target_gradient is not None:
            target_gradient = check_array(target_gradient, "the gradient w.r.t. the targets", shape=(n,))
            assert not np.any(target_gradient), "cql_loss sends gradient into the targets: they are constants"
