"""Hidden tests of ppo.py: the clipped surrogate (value and gradient) and the PPO actor update.

The update is tested in pieces, each at settings where the piece matters, so that one bug costs its
share and not the whole loop: several epochs of one full-batch step; minibatches smaller than the
batch (the worker's and the harness's torch generators are seeded alike, so torch.randperm shuffles
alike); a nonzero entropy bonus; a gradient-norm clip small enough to bind; the metrics the handout
defines (README 6.2), on a batch cut into several minibatches.
"""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, check_float, points
from grader.harness.twins import assert_same_parameters
from hidden_inputs import episode_flags, observation_batch, random_gamma
from hw2_policy_gradient.ppo import PPOAgent, clipped_surrogate_loss

LOSS = "hw2_policy_gradient.ppo.clipped_surrogate_loss"


def surrogate_inputs(rng, n=64):
    """Ratios spread over [0.5, 1.6], so that both clip boundaries and the inside are hit."""
    old_log_probs = -rng.uniform(0.5, 2.0, size=n).astype(np.float32)
    log_probs = (old_log_probs + np.log(rng.uniform(0.5, 1.6, size=n))).astype(np.float32)
    advantages = rng.normal(size=n).astype(np.float32)
    epsilon = round(float(rng.uniform(0.1, 0.3)), 3)
    return log_probs, old_log_probs, advantages, epsilon


def remote_loss_and_gradients(submission, log_probs, old_log_probs, advantages, epsilon):
    """Loss, d loss / d log_probs, d loss / d old_log_probs, computed in the worker by autograd."""
    new_t = submission.new("torch.tensor", log_probs, requires_grad=True)
    old_t = submission.new("torch.tensor", old_log_probs, requires_grad=True)
    adv_t = submission.new("torch.tensor", advantages)
    loss = submission.new(LOSS, new_t, old_t, adv_t, epsilon)
    value = float(check_array(loss.detach(), "clipped_surrogate_loss", shape=()))
    loss.backward()
    new_grad = new_t.attr("grad")
    assert new_grad is not None, "no gradient reaches log_probs through clipped_surrogate_loss"
    new_grad = check_array(new_grad, "the gradient w.r.t. log_probs", shape=(len(log_probs),))
    old_grad = old_t.attr("grad")
    if old_grad is not None:
        old_grad = check_array(old_grad, "the gradient w.r.t. old_log_probs", shape=(len(log_probs),))
    return value, new_grad, old_grad


def reference_loss_and_gradient(log_probs, old_log_probs, advantages, epsilon):
    new_t = torch.tensor(log_probs, requires_grad=True)
    loss = clipped_surrogate_loss(new_t, torch.tensor(old_log_probs), torch.tensor(advantages), epsilon)
    loss.backward()
    return loss.item(), new_t.grad.numpy()


@points(3, part="ppo")
def test_clipped_surrogate_loss_matches_reference(submission, rng):
    """clipped_surrogate_loss: value on ratios inside and outside [1 - eps, 1 + eps]"""
    inputs = surrogate_inputs(rng)
    got = submission.call(LOSS, *[submission.new("torch.tensor", x) for x in inputs[:3]], inputs[3])
    got = float(check_array(got, "clipped_surrogate_loss", shape=()))
    expected, _ = reference_loss_and_gradient(*inputs)
    assert_close(got, expected, f"clipped_surrogate_loss (clip_epsilon = {inputs[3]})", rtol=1e-4, atol=1e-5)


@points(2, part="ppo")
def test_clipping_flattens_the_right_side(submission, rng):
    """clipped_surrogate_loss gradient: zero exactly where the clipped term is the minimum"""
    inputs = surrogate_inputs(rng)
    _, gradient, _ = remote_loss_and_gradients(submission, *inputs)
    _, expected = reference_loss_and_gradient(*inputs)
    assert_close(gradient, expected, "d loss / d log pi_theta (clipping the wrong side changes which are 0)",
                 rtol=1e-4, atol=1e-6)


@points(2, part="ppo")
def test_no_gradient_flows_into_the_old_log_probs(submission, rng):
    """clipped_surrogate_loss: the ratio treats log pi_theta_old as a constant (and the loss is still right)"""
    inputs = surrogate_inputs(rng)
    value, gradient, old_gradient = remote_loss_and_gradients(submission, *inputs)
    expected_value, expected_gradient = reference_loss_and_gradient(*inputs)
    assert_close(value, expected_value, "clipped_surrogate_loss", rtol=1e-4, atol=1e-5)
    assert_close(gradient, expected_gradient, "d loss / d log pi_theta", rtol=1e-4, atol=1e-6)
    assert old_gradient is None or np.allclose(old_gradient, 0.0), (
        "gradient reaches old_log_probs: detach them, pi_theta_old is a constant in the ratio")


def ppo_update(submission, rng, iterations=1, **overrides):
    """The student's PPOAgent.update and the reference's on the same weights, batches and torch seeds,
    `iterations` times (a new batch each time); the actor's parameters afterwards must match."""
    settings = {"use_baseline": True, "gae_lambda": 0.95, "gamma": random_gamma(rng), "ppo_epochs": 3,
                "minibatch_size": 1000, "learning_rate": 0.01, "clip_epsilon": round(float(rng.uniform(0.1, 0.3)), 3),
                "max_grad_norm": 0.0,
                "baseline_gradient_steps": 2, **overrides}
    obs_dim, act_dim = 3, 2
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = PPOAgent(obs_dim, act_dim, False, settings)
    student = submission.new("hw2_policy_gradient.ppo.PPOAgent", obs_dim, act_dim, False, settings)
    submission.set_state(student, {k: v.detach().numpy().copy() for k, v in local.state_dict().items()})
    for _ in range(iterations):
        batch = ppo_batch(rng, settings["minibatch_size"], obs_dim, act_dim)
        shuffle_seed = int(rng.integers(1 << 30))
        submission.new("torch.manual_seed", shuffle_seed)
        student.update(**batch)
        torch.manual_seed(shuffle_seed)
        local.update(**batch)
    expected = {k: v.detach().numpy() for k, v in local.state_dict().items() if k.startswith("actor.")}
    got = submission.get_state(student)
    assert isinstance(got, dict) and set(expected) <= set(got), "the PPO agent's state_dict lacks the actor's parameters"
    after = "the PPO update" if iterations == 1 else f"{iterations} PPO updates (iterations) in a row"
    actual = {name: check_array(got[name], f"actor parameter {name}", shape=value.shape)
              for name, value in expected.items()}
    # a few entries are forgiven: Adam's per-entry scaling amplifies rounding (a correct GAE that adds in
    # another order, reading values[t + 1]), see assert_same_parameters
    assert_same_parameters(actual, expected, f"the actor after {after}")


def ppo_batch(rng, minibatch_size, obs_dim, act_dim):
    """A flat batch of episodes (continuous actions), cut to whole minibatches when they are smaller."""
    # N >= 32: at least two minibatches of the largest size (16), or minibatching would go untested
    terminated, truncated = episode_flags(rng, num_episodes=4, max_length=16, min_length=8)
    n = len(terminated)
    if minibatch_size < n:  # whole minibatches only (dropping a short last one is no bug)
        keep = n - n % minibatch_size
        terminated, truncated = terminated[:keep], truncated[:keep]
        truncated[-1] |= not terminated[-1]  # the cut ends an episode, as the end of sampling does
        n = keep
    observations, next_observations = observation_batch(rng, terminated, truncated, obs_dim)
    return dict(observations=observations, actions=rng.normal(size=(n, act_dim)).astype(np.float32),
                rewards=rng.normal(size=n).astype(np.float32), next_observations=next_observations,
                terminated=terminated, truncated=truncated)


@points(2, part="ppo")
def test_ppo_update_epochs_on_the_full_batch(submission, rng):
    """PPOAgent.update: epochs of one full-batch step, two iterations in a row (Adam keeps its state)"""
    # no baseline here: the second iteration's advantages then do not depend on the critic (tested elsewhere)
    ppo_update(submission, rng, iterations=2, ppo_epochs=int(rng.integers(2, 5)), minibatch_size=1000,
               use_baseline=False, gae_lambda=None)


@points(2, part="ppo")
def test_ppo_update_minibatches(submission, rng):
    """PPOAgent.update: shuffled minibatches smaller than the batch, with the config's gradient clip"""
    # the combination halfcheetah_ppo.yaml uses: minibatches and max_grad_norm 0.5 (torch.randperm seeded alike)
    ppo_update(submission, rng, ppo_epochs=2, minibatch_size=int(rng.choice([8, 12, 16])), max_grad_norm=0.5)


@points(2, part="ppo")
def test_ppo_update_entropy_bonus(submission, rng):
    """PPOAgent.update with a nonzero entropy_coefficient: each step subtracts beta * mean entropy"""
    ppo_update(submission, rng, ppo_epochs=2, minibatch_size=1000, learning_rate=0.05,
               entropy_coefficient=round(float(rng.uniform(0.3, 1.0)), 3))


@points(1, part="ppo")
def test_ppo_update_clips_the_gradient_norm(submission, rng):
    """PPOAgent.update with a max_grad_norm small enough to bind"""
    ppo_update(submission, rng, ppo_epochs=2, minibatch_size=1000, learning_rate=0.05,
               max_grad_norm=round(float(rng.uniform(0.01, 0.05)), 3))


@points(1, part="ppo")
def test_ppo_update_policy_reports_the_metrics_of_the_handout(submission, rng, credit):
    """PPOAgent.update_policy's metrics (README 6.2): actor_loss with the entropy term, entropy, clip_fraction, approx_kl"""
    obs_dim, act_dim, minibatch_size = 3, 2, int(rng.choice([8, 12, 16]))
    n = minibatch_size * int(rng.integers(3, 6))  # whole minibatches: every reading of "the mean" agrees
    # steps small enough that the last epoch clips some samples and not all (0.3 to 0.7 of them)
    settings = {"ppo_epochs": int(rng.integers(2, 4)), "minibatch_size": minibatch_size, "learning_rate": 0.003,
                "clip_epsilon": round(float(rng.uniform(0.1, 0.2)), 3), "max_grad_norm": 0.5,
                "entropy_coefficient": round(float(rng.uniform(0.1, 0.5)), 3)}
    observations = rng.normal(size=(n, obs_dim)).astype(np.float32)
    actions = rng.normal(size=(n, act_dim)).astype(np.float32)
    advantages = rng.normal(size=n).astype(np.float32)
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = PPOAgent(obs_dim, act_dim, False, settings)
    student = submission.new("hw2_policy_gradient.ppo.PPOAgent", obs_dim, act_dim, False, settings)
    submission.set_state(student, {k: v.detach().numpy().copy() for k, v in local.state_dict().items()})
    shuffle_seed = int(rng.integers(1 << 30))
    submission.new("torch.manual_seed", shuffle_seed)
    got = student.update_policy(*[submission.new("torch.as_tensor", x) for x in (observations, actions, advantages)])
    torch.manual_seed(shuffle_seed)
    expected = local.update_policy(*[torch.as_tensor(x) for x in (observations, actions, advantages)])
    assert isinstance(got, dict), f"update_policy must return a dict of metrics, got {type(got).__name__}"
    wrong = []
    # clip_fraction counts samples: allow one sample of the last epoch sitting on the clip boundary
    tolerances = {"actor_loss": (1e-3, 1e-6), "entropy": (1e-3, 1e-6), "clip_fraction": (0.0, 1.01 / n),
                  "approx_kl": (1e-2, 1e-6)}
    for key, (rtol, atol) in tolerances.items():
        if key not in got:
            wrong.append(f"{key} is missing")
            continue
        value = check_float(got[key], f"update_policy's {key}")
        if not np.isclose(value, expected[key], rtol=rtol, atol=atol):
            wrong.append(f"{key} is {value:.5g}, expected {expected[key]:.5g}")
    credit.fraction = 1 - len(wrong) / len(tolerances)
    assert not wrong, "the metrics of PPOAgent.update_policy (README 6.2): " + "; ".join(wrong)
