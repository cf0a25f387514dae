"""Hidden tests of ppo.py: the clipped surrogate (value and gradient) and the PPO actor update."""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, points
from hw2_policy_gradient.ppo import PPOAgent, clipped_surrogate_loss

LOSS = "hw2_policy_gradient.ppo.clipped_surrogate_loss"
EPSILON = 0.2


def surrogate_inputs(rng, n=64):
    """Ratios spread over [0.5, 1.6], so that both clip boundaries and the inside are hit."""
    old_log_probs = -rng.uniform(0.5, 2.0, size=n).astype(np.float32)
    log_probs = (old_log_probs + np.log(rng.uniform(0.5, 1.6, size=n))).astype(np.float32)
    advantages = rng.normal(size=n).astype(np.float32)
    return log_probs, old_log_probs, advantages


def remote_loss_and_gradients(submission, log_probs, old_log_probs, advantages):
    """Loss, d loss / d log_probs, d loss / d old_log_probs, computed in the worker by autograd."""
    new_t = submission.new("torch.tensor", log_probs, requires_grad=True)
    old_t = submission.new("torch.tensor", old_log_probs, requires_grad=True)
    adv_t = submission.new("torch.tensor", advantages)
    loss = submission.new(LOSS, new_t, old_t, adv_t, EPSILON)
    value = float(check_array(loss.detach(), "clipped_surrogate_loss", shape=()))
    loss.backward()
    new_grad = new_t.attr("grad")
    old_grad = old_t.attr("grad")
    return value, new_grad, old_grad


def reference_loss_and_gradient(log_probs, old_log_probs, advantages):
    new_t = torch.tensor(log_probs, requires_grad=True)
    loss = clipped_surrogate_loss(new_t, torch.tensor(old_log_probs), torch.tensor(advantages), EPSILON)
    loss.backward()
    return loss.item(), new_t.grad.numpy()


@points(4, part="ppo")
def test_clipped_surrogate_loss_matches_reference(submission, rng):
    """clipped_surrogate_loss: value on ratios inside and outside [1 - eps, 1 + eps]"""
    inputs = surrogate_inputs(rng)
    got = submission.call(LOSS, *[submission.new("torch.tensor", x) for x in inputs], EPSILON)
    got = float(check_array(got, "clipped_surrogate_loss", shape=()))
    expected, _ = reference_loss_and_gradient(*inputs)
    assert_close(got, expected, "clipped_surrogate_loss", rtol=1e-4, atol=1e-5)


@points(4, part="ppo")
def test_clipping_flattens_the_right_side(submission, rng):
    """clipped_surrogate_loss gradient: zero exactly where the clipped term is the minimum"""
    inputs = surrogate_inputs(rng)
    _, gradient, _ = remote_loss_and_gradients(submission, *inputs)
    gradient = check_array(gradient, "the gradient w.r.t. log_probs", shape=(64,))
    _, expected = reference_loss_and_gradient(*inputs)
    assert_close(gradient, expected, "d loss / d log pi_theta (clipping the wrong side changes which are 0)",
                 rtol=1e-4, atol=1e-6)


@points(3, part="ppo")
def test_no_gradient_flows_into_the_old_log_probs(submission, rng):
    """clipped_surrogate_loss: the ratio treats log pi_theta_old as a constant"""
    _, _, old_gradient = remote_loss_and_gradients(submission, *surrogate_inputs(rng))
    assert old_gradient is None or np.allclose(np.asarray(old_gradient, dtype=float), 0.0), (
        "gradient reaches old_log_probs: detach them, pi_theta_old is a constant in the ratio")


@points(4, part="ppo")
def test_ppo_update_policy_matches_reference(submission, rng):
    """PPOAgent.update: 3 epochs of one full-batch minibatch, actor parameters after the update"""
    settings = {"use_baseline": True, "gae_lambda": 0.95, "gamma": 0.99, "ppo_epochs": 3, "minibatch_size": 1000,
                "learning_rate": 0.01, "clip_epsilon": 0.1, "max_grad_norm": 0.5}
    n, obs_dim, act_dim = 50, 3, 2
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = PPOAgent(obs_dim, act_dim, False, settings)
    student = submission.new("hw2_policy_gradient.ppo.PPOAgent", obs_dim, act_dim, False, settings)
    submission.set_state(student, {k: v.detach().numpy().copy() for k, v in local.state_dict().items()})
    obs = rng.normal(size=(n, obs_dim)).astype(np.float32)
    terminated, truncated = np.zeros(n, bool), np.zeros(n, bool)
    terminated[20], truncated[-1] = True, True
    batch = dict(observations=obs, actions=rng.normal(size=(n, act_dim)).astype(np.float32),
                 rewards=rng.normal(size=n).astype(np.float32), next_observations=np.roll(obs, -1, axis=0),
                 terminated=terminated, truncated=truncated)
    student.update(**batch)
    local.update(**batch)
    got_state = submission.get_state(student)
    for name, value in local.state_dict().items():
        if name.startswith("actor."):
            assert_close(got_state[name], value.detach().numpy(), f"actor parameter {name} after the PPO update",
                         rtol=1e-3, atol=1e-5)
