"""Hidden tests of critics.py and agent.py: the baseline's regression, advantages, the loss, the update.

Remote agents get the reference's weights (set_state) and fresh Adam optimizers on both sides, so
one update is deterministic and its result can be compared number by number.
"""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, points
from hw2_policy_gradient.agent import PGAgent, policy_gradient_loss
from hw2_policy_gradient.critics import ValueCritic

AGENT = "hw2_policy_gradient.agent.PGAgent"
OBS_DIM, NUM_ACTIONS, ACT_DIM = 4, 3, 2


def flat_batch(rng, n=60, discrete=True):
    """Three episodes laid end to end: terminated, terminated, truncated."""
    obs = rng.normal(size=(n, OBS_DIM)).astype(np.float32)
    next_obs = np.roll(obs, -1, axis=0)
    next_obs[-1] = rng.normal(size=OBS_DIM)
    actions = rng.integers(0, NUM_ACTIONS, size=n) if discrete else rng.normal(size=(n, ACT_DIM)).astype(np.float32)
    rewards = rng.normal(1.0, 1.0, size=n).astype(np.float32)
    terminated, truncated = np.zeros(n, bool), np.zeros(n, bool)
    terminated[[n // 3, 2 * n // 3]] = True
    truncated[-1] = True
    return dict(observations=obs, actions=actions, rewards=rewards, next_observations=next_obs,
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


def worker_tensor(submission, array, requires_grad=False):
    return submission.new("torch.tensor", array, requires_grad=requires_grad)


# ----------------------------------------------------------------------------------- baseline (critic)
@points(6, part="baseline")
def test_value_critic_update_matches_reference(submission, rng):
    """ValueCritic.update: three Adam steps of mean squared error, and the last step's loss"""
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = ValueCritic(OBS_DIM, learning_rate=0.01)
    student = submission.new("hw2_policy_gradient.critics.ValueCritic", OBS_DIM, learning_rate=0.01)
    submission.set_state(student, state_of(local))
    obs = rng.normal(size=(50, OBS_DIM)).astype(np.float32)
    targets = rng.normal(2.0, 1.0, size=50).astype(np.float32)
    got_loss = student.update(obs, targets, 3)
    expected_loss = local.update(obs, targets, 3)
    assert isinstance(got_loss, float), f"ValueCritic.update must return a float, got {type(got_loss).__name__}"
    assert_close(got_loss, expected_loss, "the loss ValueCritic.update returns", rtol=1e-4, atol=1e-5)
    got_state, expected_state = submission.get_state(student), state_of(local)
    for name, expected in expected_state.items():
        assert_close(got_state[name], expected, f"critic parameter {name} after 3 update steps", rtol=1e-4, atol=1e-5)


@points(2, part="baseline")
def test_value_critic_update_takes_num_steps_steps(submission, rng):
    """ValueCritic.update: num_steps = 0 leaves V unchanged; many steps fit constant targets"""
    student = submission.new("hw2_policy_gradient.critics.ValueCritic", OBS_DIM, learning_rate=0.01)
    before = submission.get_state(student)
    obs = rng.normal(size=(40, OBS_DIM)).astype(np.float32)
    student.update(obs, np.full(40, 3.0, np.float32), 0)
    after = submission.get_state(student)
    assert all(np.array_equal(before[k], after[k]) for k in before), "update with num_steps=0 changed V"
    first = student.update(obs, np.full(40, 3.0, np.float32), 1)
    last = student.update(obs, np.full(40, 3.0, np.float32), 300)
    assert last < 0.05 * first, f"300 steps on constant targets only brought the loss from {first:.3g} to {last:.3g}"


@points(2, part="baseline")
def test_value_critic_update_returns_a_positive_loss(submission, rng):
    """ValueCritic.update returns the regression loss as a positive float"""
    student = submission.new("hw2_policy_gradient.critics.ValueCritic", OBS_DIM, learning_rate=0.01)
    obs = rng.normal(size=(40, OBS_DIM)).astype(np.float32)
    loss = student.update(obs, rng.normal(size=40).astype(np.float32), 2)
    assert isinstance(loss, float) and np.isfinite(loss) and loss > 0, f"update returned {loss!r}"


# ----------------------------------------------------------------------------------- the surrogate loss
@points(4, part="agent")
def test_policy_gradient_loss_matches_reference(submission, rng, credit):
    """policy_gradient_loss: value without and with the entropy bonus"""
    log_probs = -rng.uniform(0.1, 3.0, size=30).astype(np.float32)
    advantages = rng.normal(size=30).astype(np.float32)
    entropies = rng.uniform(0.5, 2.0, size=30).astype(np.float32)
    passed, messages = 0, []
    for coefficient in (0.0, 0.05):
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


@points(3, part="agent")
def test_policy_gradient_loss_descends_toward_positive_advantages(submission, rng):
    """policy_gradient_loss sign: its gradient w.r.t. log pi is -A / N (minimizing raises good actions)"""
    log_probs = worker_tensor(submission, -rng.uniform(0.1, 3.0, size=20).astype(np.float32), requires_grad=True)
    advantages = rng.normal(size=20).astype(np.float32)
    loss = submission.new("hw2_policy_gradient.agent.policy_gradient_loss", log_probs,
                          worker_tensor(submission, advantages), None, 0.0)
    loss.backward()
    gradient = check_array(log_probs.attr("grad"), "the gradient of policy_gradient_loss", shape=(20,))
    assert_close(gradient, -advantages / 20, "d loss / d log pi (it must be -A_i / N)", rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------------- advantages
@points(6, part="agent")
def test_estimate_advantages_matches_reference(submission, rng, credit):
    """PGAgent.estimate_advantages for: full return, reward-to-go, baseline, GAE"""
    batch = flat_batch(rng)
    values = rng.normal(size=60).astype(np.float32)
    next_values = rng.normal(size=60).astype(np.float32)
    modes = {
        "no baseline, full return": {"use_reward_to_go": False, "gamma": 0.95},
        "no baseline, reward-to-go": {"use_reward_to_go": True, "gamma": 0.95},
        "baseline": {"use_baseline": True, "gamma": 0.9},
        "GAE(0.9)": {"use_baseline": True, "gae_lambda": 0.9, "gamma": 0.99},
    }
    passed, messages = 0, []
    for mode, settings in modes.items():
        local, student = twin_agents(submission, rng, settings)
        no_critic = not settings.get("use_baseline", False)
        mode_values = np.zeros(60, np.float32) if no_critic else values
        mode_next_values = np.zeros(60, np.float32) if no_critic else next_values
        args = (batch["rewards"], mode_values, mode_next_values, batch["terminated"], batch["truncated"])
        got = student.estimate_advantages(*args)
        expected_advantages, expected_targets = local.estimate_advantages(*args)
        ok = isinstance(got, (list, tuple)) and len(got) == 2
        if ok:
            advantages = check_array(got[0], "advantages", shape=(60,))
            ok = np.allclose(advantages, expected_advantages, rtol=1e-4, atol=1e-4)
            if not no_critic:
                targets = check_array(got[1], "value targets", shape=(60,))
                ok = ok and np.allclose(targets, expected_targets, rtol=1e-4, atol=1e-4)
        passed += ok
        if not ok:
            messages.append(mode)
    credit.fraction = passed / len(modes)
    assert passed == len(modes), "estimate_advantages is wrong for: " + ", ".join(messages)


# ----------------------------------------------------------------------------------- the update
@points(4, part="agent")
def test_update_normalizes_advantages_exactly_when_enabled(submission, rng, credit):
    """PGAgent.update: the actor loss uses normalized advantages iff normalize_advantages"""
    batch = flat_batch(rng)
    passed, messages = 0, []
    for normalize in (True, False):
        settings = {"normalize_advantages": normalize, "gamma": 0.99}
        local, student = twin_agents(submission, rng, settings)
        got = student.update(**batch)
        expected = local.update(**batch)
        if isinstance(got, dict) and np.isclose(got.get("actor_loss", np.nan), expected["actor_loss"], rtol=1e-4,
                                                atol=1e-5):
            passed += 1
        else:
            actor_loss = got.get("actor_loss") if isinstance(got, dict) else got
            messages.append(f"normalize_advantages={normalize}: actor_loss {actor_loss!r}, "
                            f"expected {expected['actor_loss']:.5g}")
    credit.fraction = passed / 2
    assert passed == 2, "; ".join(messages)


@points(3, part="agent")
def test_update_matches_reference_with_gae_and_entropy(submission, rng):
    """PGAgent.update (Gaussian, GAE, entropy bonus): parameters of actor and critic after one update"""
    settings = {"use_baseline": True, "gae_lambda": 0.95, "gamma": 0.99, "entropy_coefficient": 0.01,
                "baseline_gradient_steps": 3}
    batch = flat_batch(rng, discrete=False)
    local, student = twin_agents(submission, rng, settings, discrete=False)
    got = student.update(**batch)
    expected = local.update(**batch)
    assert isinstance(got, dict), f"update must return a dict of metrics, got {type(got).__name__}"
    for key in ("actor_loss", "baseline_loss"):
        assert key in got, f"update's metrics lack {key!r} (it has {sorted(got)})"
    got_state = submission.get_state(student)
    for name, value in state_of(local).items():
        assert_close(got_state[name], value, f"parameter {name} after one update", rtol=1e-4, atol=1e-5)


@points(3, part="agent")
def test_actor_loss_sends_no_gradient_into_the_baseline(submission, rng):
    """PGAgent.update: the critic's result does not depend on the actor (advantages are constants)"""
    settings = {"use_baseline": True, "gamma": 0.99, "baseline_gradient_steps": 2, "baseline_learning_rate": 0.01}
    batch = flat_batch(rng)
    local, student = twin_agents(submission, rng, settings)
    torch.manual_seed(int(rng.integers(1 << 30)))
    other_actor = PGAgent(OBS_DIM, NUM_ACTIONS, True, settings).actor
    other_state = {**state_of(local), **{f"actor.{k}": v for k, v in state_of(other_actor).items()}}
    second = submission.new(AGENT, OBS_DIM, NUM_ACTIONS, True, settings)
    submission.set_state(second, other_state)
    student.update(**batch)
    second.update(**batch)
    first_state, second_state = submission.get_state(student), submission.get_state(second)
    critic_names = [k for k in state_of(local) if k.startswith("critic.")]
    assert critic_names and all(name in first_state for name in critic_names), (
        "the agent's state lacks the critic's parameters (critic.value_net.*)")
    for name in critic_names:
        assert np.allclose(first_state[name], second_state[name], rtol=1e-5, atol=1e-6), (
            f"the critic after update depends on the actor's weights ({name}): gradient of the actor loss "
            "reaches the baseline (compute the advantages without gradient)")
    assert not np.array_equal(first_state[critic_names[0]], state_of(local)[critic_names[0]]), (
        "the critic did not change during update: take baseline_gradient_steps steps")


@points(2, part="agent")
def test_baseline_loss_sends_no_gradient_into_the_actor(submission, rng):
    """PGAgent.update: the actor's result does not depend on the critic's learning rate or steps"""
    batch = flat_batch(rng)
    states = []
    local_state = None
    for baseline_learning_rate, steps in ((0.001, 1), (0.05, 7)):
        settings = {"use_baseline": True, "gamma": 0.99, "baseline_learning_rate": baseline_learning_rate,
                    "baseline_gradient_steps": steps}
        local, student = twin_agents(submission, np.random.default_rng(7), settings, local_state=local_state)
        local_state = local.state_dict()
        student.update(**batch)
        states.append(submission.get_state(student))
    for name in (k for k in states[0] if k.startswith("actor.")):
        assert np.allclose(states[0][name], states[1][name], rtol=1e-5, atol=1e-6), (
            f"the actor after update depends on the critic's learning rate or number of steps ({name}): compute the "
            "advantages before the baseline's update, and keep the value loss out of the actor's gradient")
