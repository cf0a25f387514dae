"""Hidden tests of awac.py, part "awac" (README 5.1-5.4): the critic's target under the actor, the
advantages, the exponentiated and clipped weights, and the weighted actor loss; exact values and
gradients against the reference on fresh random inputs shaped like the maze agents' (hw5_inputs.py).
"""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, check_float, points
from hw5_inputs import NUM_ACTIONS, dataset_batch, probabilities, q_table, remote_tensor
from hw5_exploration_offline import awac as reference

MODULE = "hw5_exploration_offline.awac"
PART = "awac"


def gamma_of(rng) -> float:
    return round(float(rng.uniform(0.9, 0.999)), 3)


# ----------------------------------------------------------------------------------- awac_q_target (5.1)
def target_inputs(rng):
    batch = dataset_batch(rng, int(rng.integers(16, 200)))
    n = len(batch["rewards"])
    return batch, q_table(rng, n), probabilities(rng, n), gamma_of(rng), n


def remote_target(submission, batch, next_q, next_probs, gamma, grad=False):
    return submission.new(f"{MODULE}.awac_q_target", remote_tensor(submission, batch["rewards"]),
                          remote_tensor(submission, batch["terminated"]),
                          remote_tensor(submission, next_q, requires_grad=grad),
                          remote_tensor(submission, next_probs, requires_grad=grad), gamma)


def reference_target(batch, next_q, next_probs, gamma):
    return reference.awac_q_target(torch.as_tensor(batch["rewards"]), torch.as_tensor(batch["terminated"]),
                                   torch.as_tensor(next_q), torch.as_tensor(next_probs), gamma).numpy()


@points(3, part=PART)
def test_awac_q_target_matches_reference(submission, rng):
    """awac_q_target: r + gamma (1 - d) sum_a' pi(a'|s') Q'(s', a') on a dataset batch (goal steps terminated)"""
    batch, next_q, next_probs, gamma, n = target_inputs(rng)
    got = submission.call(f"{MODULE}.awac_q_target", remote_tensor(submission, batch["rewards"]),
                          remote_tensor(submission, batch["terminated"].astype(np.float32)),
                          remote_tensor(submission, next_q), remote_tensor(submission, next_probs), gamma)
    got = check_array(got, "awac_q_target", shape=(n,))
    assert_close(got, reference_target(batch, next_q, next_probs, gamma), f"awac_q_target (gamma = {gamma})",
                 rtol=1e-5, atol=1e-4)


@points(2, part=PART)
def test_awac_q_target_masks_terminal_states_and_carries_no_gradient(submission, rng):
    """awac_q_target: y = r exactly where terminated (truncated steps bootstrap); no gradient"""
    batch, next_q, next_probs, gamma, n = target_inputs(rng)
    target = remote_target(submission, batch, next_q, next_probs, gamma, grad=True)
    assert target.attr("requires_grad") is False, \
        "awac_q_target returned a tensor that requires grad: the target is a constant (torch.no_grad or detach)"
    got = check_array(target.method("numpy"), "awac_q_target", shape=(n,))
    expected = reference_target(batch, next_q, next_probs, gamma)
    done = batch["terminated"]
    assert_close(got[done], batch["rewards"][done], "awac_q_target at terminated steps (y = r)", rtol=0, atol=1e-6)
    assert_close(got, expected, "awac_q_target (truncated steps still bootstrap)", rtol=1e-5, atol=1e-4)


# ----------------------------------------------------------------------------------- awac_advantages (5.2)
@points(3, part=PART)
def test_awac_advantages_match_reference(submission, rng):
    """awac_advantages: Q(s, a_j) - sum_a pi(a|s) Q(s, a), without gradient"""
    batch = dataset_batch(rng, int(rng.integers(16, 200)))
    n = len(batch["actions"])
    q_values, probs = q_table(rng, n), probabilities(rng, n)
    advantages = submission.new(f"{MODULE}.awac_advantages", remote_tensor(submission, q_values, requires_grad=True),
                                remote_tensor(submission, batch["actions"]),
                                remote_tensor(submission, probs, requires_grad=True))
    assert advantages.attr("requires_grad") is False, \
        "awac_advantages returned a tensor that requires grad: the advantages only weight the actor's loss"
    got = check_array(advantages.method("numpy"), "awac_advantages", shape=(n,))
    expected = reference.awac_advantages(torch.as_tensor(q_values), torch.as_tensor(batch["actions"]),
                                         torch.as_tensor(probs)).numpy()
    assert_close(got, expected, "awac_advantages", rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------------- awac_weights (5.3)
def advantages_of(rng, n, temperature):
    """Advantages as the critic gives them: mostly within a few temperatures of 0, some far above."""
    advantages = rng.normal(0.0, rng.uniform(0.5, 3.0) * temperature, size=n)
    advantages[rng.random(n) < 0.1] += rng.uniform(3.0, 8.0) * temperature
    return advantages.astype(np.float32)


@points(3, part=PART)
def test_awac_weights_match_reference(submission, rng):
    """awac_weights: min(exp(A / lambda), w_max), some clipped, none normalized"""
    n, temperature = int(rng.integers(32, 300)), round(float(rng.uniform(0.3, 3.0)), 3)
    max_weight = round(float(rng.uniform(5.0, 50.0)), 2)
    advantages = advantages_of(rng, n, temperature)
    weights = submission.new(f"{MODULE}.awac_weights", remote_tensor(submission, advantages, requires_grad=True),
                             temperature, max_weight)
    assert weights.attr("requires_grad") is False, "awac_weights returned a tensor that requires grad: detach it"
    got = check_array(weights.method("numpy"), "awac_weights", shape=(n,))
    expected = reference.awac_weights(torch.as_tensor(advantages), temperature, max_weight).numpy()
    assert_close(got, expected, f"awac_weights (temperature {temperature}, max_weight {max_weight})",
                 rtol=1e-4, atol=1e-6)


@points(2, part=PART)
def test_awac_weights_are_clipped_even_where_exp_overflows(submission, rng):
    """awac_weights of huge advantages (exp overflows to inf) are exactly w_max; negative ones stay below 1"""
    n, temperature = int(rng.integers(10, 50)), round(float(rng.uniform(0.05, 0.5)), 3)
    max_weight = round(float(rng.uniform(5.0, 50.0)), 2)
    advantages = np.concatenate([rng.uniform(100.0, 500.0, size=n), -rng.uniform(0.01, 5.0, size=n)]).astype(np.float32)
    got = check_array(submission.call(f"{MODULE}.awac_weights", remote_tensor(submission, advantages), temperature,
                                      max_weight), "awac_weights of huge advantages", shape=(2 * n,))
    expected = reference.awac_weights(torch.as_tensor(advantages), temperature, max_weight).numpy()
    assert_close(got, expected, f"awac_weights (clipped at max_weight {max_weight})", rtol=1e-4, atol=1e-7)


# ----------------------------------------------------------------------------------- weighted_actor_loss (5.4)
def actor_inputs(rng):
    batch = dataset_batch(rng, int(rng.integers(16, 200)))
    n = len(batch["actions"])
    logits = rng.normal(0.0, rng.uniform(0.3, 3.0), size=(n, NUM_ACTIONS)).astype(np.float32)
    weights = np.minimum(np.exp(rng.normal(0.0, 1.5, size=n)), 20.0).astype(np.float32)
    return logits, batch["actions"], weights, n


@points(3, part=PART)
def test_weighted_actor_loss_matches_reference(submission, rng):
    """weighted_actor_loss: -(1/B) sum_j w_j log softmax(logits_j)[a_j] (a mean, not normalized by the weights)"""
    logits, actions, weights, n = actor_inputs(rng)
    got = check_float(submission.call(f"{MODULE}.weighted_actor_loss", remote_tensor(submission, logits),
                                      remote_tensor(submission, actions), remote_tensor(submission, weights)),
                      "weighted_actor_loss")
    expected = reference.weighted_actor_loss(torch.as_tensor(logits), torch.as_tensor(actions),
                                             torch.as_tensor(weights)).item()
    assert_close(got, expected, f"weighted_actor_loss of a batch of {n}", rtol=1e-4, atol=1e-6)


@points(2, part=PART)
def test_weighted_actor_loss_gradient_reaches_the_logits_only(submission, rng):
    """weighted_actor_loss: d/dlogits matches the reference; the weights get no gradient"""
    logits, actions, weights, n = actor_inputs(rng)
    logits_t = remote_tensor(submission, logits, requires_grad=True)
    weights_t = remote_tensor(submission, weights, requires_grad=True)
    submission.new(f"{MODULE}.weighted_actor_loss", logits_t, remote_tensor(submission, actions), weights_t).backward()
    gradient = logits_t.attr("grad")
    assert gradient is not None, "no gradient reaches the logits through weighted_actor_loss"
    gradient = check_array(gradient, "the gradient of weighted_actor_loss w.r.t. logits", shape=(n, NUM_ACTIONS))
    local = torch.tensor(logits, requires_grad=True)
    reference.weighted_actor_loss(local, torch.as_tensor(actions), torch.as_tensor(weights)).backward()
    assert_close(gradient, local.grad.numpy(), "d weighted_actor_loss / d logits", rtol=1e-4, atol=1e-7)
    weight_gradient = weights_t.attr("grad")
    if weight_gradient is not None:
        weight_gradient = check_array(weight_gradient, "the gradient w.r.t. the weights", shape=(n,))
        assert not np.any(weight_gradient), "weighted_actor_loss sends gradient into the weights: they are constants"
