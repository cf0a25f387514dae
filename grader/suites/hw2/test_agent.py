"""Hidden tests of critics.py and agent.py: the baseline's regression, the loss, advantages, the update.

Remote agents get the reference's weights (set_state) and fresh Adam optimizers on both sides, so
one update is deterministic and its result can be compared number by number. Every option the
handout's configs use is exercised where it matters, one test per estimator setting, so that a bug
behind one setting costs that setting's points: reward-to-go on and off, with and without a
baseline (also the baseline with full returns), GAE with lambda = 0 (GAE on, not off), a lambda in
(0, 1) and lambda = 1, normalization on and off, a nonzero entropy bonus.
"""
import numpy as np
import torch
from torch import nn

from grader.harness.api import assert_close, check_array, check_float, points
from hidden_inputs import consistent_values, episode_flags, observation_batch, random_gamma
from hw2_policy_gradient.agent import PGAgent, policy_gradient_loss
from hw2_policy_gradient.critics import ValueCritic

AGENT = "hw2_policy_gradient.agent.PGAgent"
CRITIC = "hw2_policy_gradient.critics.ValueCritic"
OBS_DIM, NUM_ACTIONS, ACT_DIM = 4, 3, 2


def flat_batch(rng, discrete=True):
    """A flat batch of episodes of random lengths and endings, as run.py hands it to update."""
    terminated, truncated = episode_flags(rng, num_episodes=6, max_length=15, min_length=2)
    n = len(terminated)
    observations, next_observations = observation_batch(rng, terminated, truncated, OBS_DIM)
    actions = rng.integers(0, NUM_ACTIONS, size=n) if discrete else rng.normal(size=(n, ACT_DIM)).astype(np.float32)
    rewards = rng.normal(1.0, 1.0, size=n).astype(np.float32)
    return dict(observations=observations, actions=actions, rewards=rewards, next_observations=next_observations,
                terminated=terminated, truncated=truncated)


def twin_agents(submission, rng, settings, discrete=True, local_state=None):
    """A reference agent with random weights and the student's agent with the same weights."""
    torch.manual_seed(int(rng.integers(1 << 30)))
    action_dim = NUM_ACTIONS if discrete else ACT_DIM
    local = PGAgent(OBS_DIM, action_dim, discrete, settings)
    if local_state is not None:
        local.load_state_dict(local_state)
    student = submission.new(AGENT, OBS_DIM, action_dim, discrete, settings)
    submission.set_state(student, state_of(local))
    return local, student


def state_of(module):
    return {name: value.detach().numpy().copy() for name, value in module.state_dict().items()}


def checked_state(submission, obj, expected: dict, what: str) -> dict:
    """The student's state_dict, each array checked against the shape of the reference's."""
    got = submission.get_state(obj)
    if not isinstance(got, dict):
        raise AssertionError(f"{what}: state_dict() must return a dict of tensors")
    missing = sorted(set(expected) - set(got))
    assert not missing, f"{what}: state_dict() lacks {missing[:3]} (keep the networks the course builds)"
    return {name: check_array(got[name], f"{what} parameter {name}", shape=value.shape)
            for name, value in expected.items()}


def assert_same_parameters(submission, student, local, what, prefix="", rtol=1e-4, atol=1e-5):
    expected = {k: v for k, v in state_of(local).items() if k.startswith(prefix)}
    got = checked_state(submission, student, expected, what)
    for name, value in expected.items():
        assert_close(got[name], value, f"{what}: parameter {name}", rtol=rtol, atol=atol)


def same_parameters(submission, student, local, prefix="", rtol=1e-4, atol=1e-5) -> bool:
    try:
        assert_same_parameters(submission, student, local, "", prefix, rtol, atol)
    except AssertionError:
        return False
    return True


def worker_tensor(submission, array, requires_grad=False):
    return submission.new("torch.tensor", array, requires_grad=requires_grad)


# ----------------------------------------------------------------------------------- baseline (critic)
def twin_critics(submission, rng, learning_rate):
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = ValueCritic(OBS_DIM, learning_rate=learning_rate)
    student = submission.new(CRITIC, OBS_DIM, learning_rate=learning_rate)
    submission.set_state(student, state_of(local))
    return local, student


@points(4, part="baseline")
def test_value_critic_update_matches_reference(submission, rng):
    """ValueCritic.update: several Adam steps of mean squared error, and the last step's loss"""
    learning_rate = round(float(rng.uniform(0.003, 0.03)), 4)
    local, student = twin_critics(submission, rng, learning_rate)
    n, steps = int(rng.integers(20, 80)), int(rng.integers(2, 6))
    obs = rng.normal(size=(n, OBS_DIM)).astype(np.float32)
    targets = rng.normal(rng.uniform(-3, 3), 1.0, size=n).astype(np.float32)
    got_loss = check_float(student.update(obs, targets, steps), "ValueCritic.update")
    expected_loss = local.update(obs, targets, steps)
    assert_close(got_loss, expected_loss, f"the loss ValueCritic.update returns after {steps} steps",
                 rtol=1e-4, atol=1e-5)
    assert_same_parameters(submission, student, local, f"the critic after {steps} update steps")


@points(3, part="baseline")
def test_value_critic_update_takes_num_steps_steps(submission, rng):
    """ValueCritic.update takes exactly num_steps Adam steps (0, 1 and a few), as the reference does"""
    local, student = twin_critics(submission, rng, 0.01)
    wrong = []
    for steps in (0, 1, int(rng.integers(3, 8))):
        obs = rng.normal(size=(30, OBS_DIM)).astype(np.float32)
        targets = rng.normal(2.0, 1.0, size=30).astype(np.float32)
        student.update(obs, targets, steps)
        local.update(obs, targets, steps)
        if not same_parameters(submission, student, local):
            wrong.append(str(steps))
            submission.set_state(student, state_of(local))  # the next check starts from the right weights
    # no partial credit: num_steps = 0 alone is passed by an update that does nothing
    assert not wrong, f"the critic's parameters differ from the reference's after num_steps = {', '.join(wrong)}"


@points(3, part="baseline")
def test_value_critic_update_returns_the_loss_before_its_last_step(submission, rng, credit):
    """ValueCritic.update returns (1/N) sum (V(s_i) - y_i)^2 of V before the last step (0.0 for 0 steps)"""
    local, student = twin_critics(submission, rng, 0.01)
    obs = rng.normal(size=(40, OBS_DIM)).astype(np.float32)
    targets = rng.normal(1.0, 2.0, size=40).astype(np.float32)
    passed, messages = 0, []
    for call in range(2):  # the harness computes each loss itself, from the weights the student has
        weights = checked_state(submission, student, state_of(local), "the critic")
        local.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()})
        with torch.no_grad():
            expected = nn.functional.mse_loss(local(torch.as_tensor(obs)), torch.as_tensor(targets)).item()
        got = check_float(student.update(obs, targets, 1), "ValueCritic.update")
        if np.isclose(got, expected, rtol=1e-4, atol=1e-6):
            passed += 1
        else:
            messages.append(f"call {call + 1} of update(..., num_steps=1) returned {got:.6g}, the mean squared "
                            f"error of V before the step is {expected:.6g}")
    zero = check_float(student.update(obs, targets, 0), "ValueCritic.update")
    passed += passed > 0 and zero == 0.0  # returning 0.0 alone is no work: it counts with a right loss only
    if zero != 0.0:
        messages.append(f"update(..., num_steps=0) returned {zero:.6g}, expected 0.0")
    credit.fraction = passed / 3
    assert passed == 3, "; ".join(messages)


# ----------------------------------------------------------------------------------- the surrogate loss
def loss_inputs(rng, n):
    return (-rng.uniform(0.1, 3.0, size=n).astype(np.float32), rng.normal(size=n).astype(np.float32),
            rng.uniform(0.5, 2.0, size=n).astype(np.float32))


@points(3, part="agent")
def test_policy_gradient_loss_matches_reference(submission, rng, credit):
    """policy_gradient_loss: value without and with the entropy bonus"""
    n = int(rng.integers(10, 60))
    log_probs, advantages, entropies = loss_inputs(rng, n)
    passed, messages = 0, []
    for coefficient in (0.0, round(float(rng.uniform(0.01, 0.2)), 3)):
        got = submission.call("hw2_policy_gradient.agent.policy_gradient_loss", worker_tensor(submission, log_probs),
                              worker_tensor(submission, advantages), worker_tensor(submission, entropies), coefficient)
        got = float(check_array(got, "policy_gradient_loss", shape=()))
        expected = policy_gradient_loss(torch.as_tensor(log_probs), torch.as_tensor(advantages),
                                        torch.as_tensor(entropies), coefficient).item()
        if np.isclose(got, expected, rtol=1e-4, atol=1e-5):
            passed += 1
        else:
            messages.append(f"entropy_coefficient={coefficient}: got {got:.5g}, expected {expected:.5g}")
    credit.fraction = passed / 2
    assert passed == 2, "policy_gradient_loss: " + "; ".join(messages)


@points(2, part="agent")
def test_policy_gradient_loss_gradient_matches_reference(submission, rng, credit):
    """policy_gradient_loss gradient: -A_i / N w.r.t. log pi (the sign), -beta / N w.r.t. the entropies"""
    n = int(rng.integers(10, 60))
    log_probs, advantages, entropies = loss_inputs(rng, n)
    coefficient = round(float(rng.uniform(0.01, 0.2)), 3)
    log_probs_t = worker_tensor(submission, log_probs, requires_grad=True)
    entropies_t = worker_tensor(submission, entropies, requires_grad=True)
    loss = submission.new("hw2_policy_gradient.agent.policy_gradient_loss", log_probs_t,
                          worker_tensor(submission, advantages), entropies_t, coefficient)
    loss.backward()
    gradient = log_probs_t.attr("grad")
    assert gradient is not None, "no gradient reaches log_probs through policy_gradient_loss"
    gradient = check_array(gradient, "the gradient of policy_gradient_loss w.r.t. log_probs", shape=(n,))
    entropy_gradient = entropies_t.attr("grad")
    entropy_gradient = np.zeros(n) if entropy_gradient is None else check_array(
        entropy_gradient, "the gradient of policy_gradient_loss w.r.t. the entropies", shape=(n,))
    reference_log_probs = torch.tensor(log_probs, requires_grad=True)
    reference_entropies = torch.tensor(entropies, requires_grad=True)
    policy_gradient_loss(reference_log_probs, torch.as_tensor(advantages), reference_entropies, coefficient).backward()
    log_prob_ok = np.allclose(gradient, reference_log_probs.grad.numpy(), rtol=1e-4, atol=1e-6)
    entropy_ok = np.allclose(entropy_gradient, reference_entropies.grad.numpy(), rtol=1e-4, atol=1e-6)
    credit.fraction = 0.5 * log_prob_ok + 0.5 * entropy_ok
    assert log_prob_ok, "d loss / d log pi must be -A_i / N (minimizing the loss raises the log-probability " \
                        "of actions with positive advantage)"
    assert entropy_ok, "d loss / d H_i must be -beta / N (the entropy bonus is subtracted, averaged over the batch)"


# ----------------------------------------------------------------------------------- advantages
def check_estimate_advantages(submission, rng, settings, what):
    """The student's estimate_advantages against the reference's on a batch with consistent values."""
    terminated, truncated = episode_flags(rng, num_episodes=6, max_length=15)
    n = len(terminated)
    rewards = rng.normal(1.0, 1.0, size=n).astype(np.float32)
    if settings.get("use_baseline"):
        values, next_values = consistent_values(rng, terminated, truncated, scale=3.0)
    else:  # run.py hands zeros when there is no critic
        values = next_values = np.zeros(n, np.float32)
    local, student = twin_agents(submission, rng, settings)
    args = (rewards, values, next_values, terminated, truncated)
    got = student.estimate_advantages(*args)
    expected_advantages, expected_targets = local.estimate_advantages(*args)
    assert isinstance(got, list) and len(got) == 2, \
        "estimate_advantages must return a tuple (advantages, value_targets)"
    assert_close(check_array(got[0], "the advantages of estimate_advantages", shape=(n,)), expected_advantages,
                 f"estimate_advantages with {what}: the advantages", rtol=1e-4, atol=1e-4)
    if settings.get("use_baseline"):
        assert_close(check_array(got[1], "the value targets of estimate_advantages", shape=(n,)), expected_targets,
                     f"estimate_advantages with {what}: the value targets", rtol=1e-4, atol=1e-4)


@points(2, part="agent")
def test_estimate_advantages_full_return_without_baseline(submission, rng):
    """PGAgent.estimate_advantages, use_reward_to_go false, no baseline (CartPole configs)"""
    check_estimate_advantages(submission, rng, {"use_reward_to_go": False, "gamma": random_gamma(rng)},
                              "use_reward_to_go false and no baseline")


@points(2, part="agent")
def test_estimate_advantages_reward_to_go_without_baseline(submission, rng):
    """PGAgent.estimate_advantages, reward-to-go, no baseline (CartPole configs)"""
    check_estimate_advantages(submission, rng, {"use_reward_to_go": True, "gamma": random_gamma(rng)},
                              "reward-to-go and no baseline")


@points(2, part="agent")
def test_estimate_advantages_reward_to_go_with_baseline(submission, rng):
    """PGAgent.estimate_advantages, reward-to-go minus the baseline (HalfCheetah, InvertedPendulum configs)"""
    check_estimate_advantages(submission, rng, {"use_baseline": True, "use_reward_to_go": True,
                                                "gamma": random_gamma(rng)}, "reward-to-go and a baseline")


@points(2, part="agent")
def test_estimate_advantages_full_return_with_baseline(submission, rng):
    """PGAgent.estimate_advantages, full return minus the baseline (use_reward_to_go false with a baseline)"""
    check_estimate_advantages(submission, rng, {"use_baseline": True, "use_reward_to_go": False,
                                                "gamma": random_gamma(rng)}, "use_reward_to_go false and a baseline")


@points(1.5, part="agent")
def test_estimate_advantages_gae(submission, rng, credit):
    """PGAgent.estimate_advantages with GAE, lambda in (0, 1) and lambda = 1 (LunarLander and PPO configs)"""
    passed, messages = 0, []
    for gae_lambda in (round(float(rng.uniform(0.8, 0.99)), 3), 1):
        try:
            check_estimate_advantages(submission, rng, {"use_baseline": True, "gae_lambda": gae_lambda,
                                                        "gamma": random_gamma(rng)}, f"gae_lambda = {gae_lambda}")
            passed += 1
        except AssertionError as error:
            messages.append(str(error))
    credit.fraction = passed / 2
    assert passed == 2, "; ".join(messages)


@points(1.5, part="agent")
def test_estimate_advantages_gae_lambda_zero(submission, rng):
    """PGAgent.estimate_advantages with gae_lambda = 0: GAE with lambda 0 (one-step advantages), not 'no GAE'"""
    check_estimate_advantages(submission, rng, {"use_baseline": True, "gae_lambda": 0, "gamma": random_gamma(rng)},
                              "gae_lambda = 0 (GAE with lambda 0, the one-step advantage; only null means no GAE)")


# ----------------------------------------------------------------------------------- the update
@points(3, part="agent")
def test_update_normalizes_advantages_exactly_when_enabled(submission, rng, credit):
    """PGAgent.update: actor loss and parameters, normalize_advantages x use_reward_to_go (the CartPole configs)"""
    batch = flat_batch(rng)
    passed, messages = 0, []
    for normalize, reward_to_go in ((True, True), (True, False), (False, True), (False, False)):
        settings = {"normalize_advantages": normalize, "gamma": random_gamma(rng), "use_reward_to_go": reward_to_go}
        local, student = twin_agents(submission, rng, settings)
        got = student.update(**batch)
        expected = local.update(**batch)
        try:  # a number of any kind (float, numpy scalar, 0-d tensor), as check_float reads it
            actor_loss = check_float(got.get("actor_loss") if isinstance(got, dict) else None, "actor_loss")
        except AssertionError:
            actor_loss = None
        loss_ok = actor_loss is not None and np.isclose(actor_loss, expected["actor_loss"], rtol=1e-4, atol=1e-5)
        if loss_ok and same_parameters(submission, student, local, prefix="actor."):
            passed += 1
        else:
            messages.append(f"normalize_advantages={normalize}, use_reward_to_go={reward_to_go}: the actor loss or "
                            f"the actor's parameters differ from the reference's (actor_loss {actor_loss!r}, "
                            f"expected {expected['actor_loss']:.5g})")
    credit.fraction = passed / 4
    assert passed == 4, "; ".join(messages)


@points(2, part="agent")
def test_actor_loss_sends_no_gradient_into_the_baseline(submission, rng):
    """PGAgent.update: the critic after the update is the reference's, whatever the actor's weights"""
    settings = {"use_baseline": True, "gamma": random_gamma(rng), "baseline_gradient_steps": int(rng.integers(2, 5)),
                "baseline_learning_rate": 0.01}
    batch = flat_batch(rng)
    local, student = twin_agents(submission, rng, settings)
    torch.manual_seed(int(rng.integers(1 << 30)))
    other = PGAgent(OBS_DIM, NUM_ACTIONS, True, settings)
    other.critic.load_state_dict(local.critic.state_dict())
    second = submission.new(AGENT, OBS_DIM, NUM_ACTIONS, True, settings)
    submission.set_state(second, state_of(other))
    student.update(**batch)
    second.update(**batch)
    local.update(**batch)
    other.update(**batch)
    assert_same_parameters(submission, student, local, "the critic after update", prefix="critic.")
    assert_same_parameters(submission, second, other, "the critic after update (other actor weights)",
                           prefix="critic.")


@points(2, part="agent")
def test_baseline_loss_sends_no_gradient_into_the_actor(submission, rng):
    """PGAgent.update: the actor after the update is the reference's, whatever the critic's learning rate or steps"""
    batch = flat_batch(rng)
    gamma, local_state = random_gamma(rng), None
    for baseline_learning_rate, steps in ((0.001, 1), (0.05, int(rng.integers(4, 9)))):
        settings = {"use_baseline": True, "gamma": gamma, "baseline_learning_rate": baseline_learning_rate,
                    "baseline_gradient_steps": steps}
        local, student = twin_agents(submission, rng, settings, local_state=local_state)
        local_state = local.state_dict()
        student.update(**batch)
        local.update(**batch)
        assert_same_parameters(submission, student, local,
                               f"the actor after update (baseline: {steps} steps of learning rate {baseline_learning_rate})",
                               prefix="actor.")


@points(2, part="agent")
def test_update_matches_reference_with_gae_and_entropy(submission, rng):
    """PGAgent.update (Gaussian, GAE, entropy bonus): parameters of actor and critic after one update"""
    settings = {"use_baseline": True, "gae_lambda": round(float(rng.uniform(0.9, 0.99)), 3),
                "gamma": random_gamma(rng), "entropy_coefficient": round(float(rng.uniform(0.01, 0.1)), 3),
                "baseline_gradient_steps": int(rng.integers(2, 5))}
    batch = flat_batch(rng, discrete=False)
    local, student = twin_agents(submission, rng, settings, discrete=False)
    got = student.update(**batch)
    expected = local.update(**batch)
    assert isinstance(got, dict), f"update must return a dict of metrics, got {type(got).__name__}"
    for key in ("actor_loss", "baseline_loss"):
        assert key in got, f"update's metrics lack {key!r} (it has {sorted(got)[:10]})"
    assert_close(check_float(got["actor_loss"], "update's actor_loss"), expected["actor_loss"],
                 "update's actor_loss (with the entropy bonus)", rtol=1e-4, atol=1e-5)
    assert_close(check_float(got["baseline_loss"], "update's baseline_loss"), expected["baseline_loss"],
                 "update's baseline_loss (what critic.update returned: the loss before its last step)",
                 rtol=1e-4, atol=1e-5)
    assert_same_parameters(submission, student, local, "the agent after one update")
