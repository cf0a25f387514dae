"""Hidden tests of rnd.py, part "rnd" (README 3.1-3.4): exact values against the reference on fresh
random inputs, what an update may and may not change, and the mixed reward DQN learns from.

States come from the shipped PointMass datasets (hw5_inputs.py). Models are twins: the reference's
and the student's hold the same weights and fresh Adam optimizers, so an update can be compared
number by number. The DQN inside RNDDQNAgent is homework 3's, whose update is a TODO of homework 3
(stubbed in the grader's copy): the tests put a recorder (unittest.mock.Mock) in place of
`agent.dqn.update` and check the batch it receives, so no test needs homework 3 solved.
"""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, check_float, points
from hw5_inputs import (NUM_ACTIONS, OBS_DIM, assert_same_parameters, dataset_batch, remote_tensor, seeded,
                        state_of, student_parameters, visited_states, with_prefix)
from hw5_exploration_offline import rnd as reference
from hw3_qlearning_ac.dqn import DQNConfig

MODULE = "hw5_exploration_offline.rnd"
PART = "rnd"


# ----------------------------------------------------------------------------------- rnd_prediction_error (3.1)
def features(rng, n, k):
    """Predictor and target outputs (n, k) as the networks give them: the predictor part way to the target."""
    target = rng.normal(0.0, rng.uniform(0.3, 3.0), size=(n, k)).astype(np.float32)
    predicted = (target + rng.normal(0.0, rng.uniform(0.05, 1.0), size=(n, k))).astype(np.float32)
    return predicted, target


@points(2, part=PART)
def test_prediction_error_matches_reference(submission, rng):
    """rnd_prediction_error: the squared norm of each row (a sum over the k features)"""
    n, k = int(rng.integers(5, 200)), int(rng.integers(2, 40))
    predicted, target = features(rng, n, k)
    got = submission.call(f"{MODULE}.rnd_prediction_error", remote_tensor(submission, predicted),
                          remote_tensor(submission, target))
    got = check_array(got, f"rnd_prediction_error of ({n}, {k}) features", shape=(n,))
    expected = reference.rnd_prediction_error(torch.as_tensor(predicted), torch.as_tensor(target)).numpy()
    assert_close(got, expected, f"rnd_prediction_error of ({n}, {k}) features", rtol=1e-5, atol=1e-6)


@points(2, part=PART)
def test_prediction_error_sends_gradient_into_the_predictor_only(submission, rng):
    """rnd_prediction_error: d E / d predicted is the reference's, and the target gets none"""
    n, k = int(rng.integers(5, 100)), int(rng.integers(2, 40))
    predicted, target = features(rng, n, k)
    weights = rng.uniform(0.1, 2.0, size=n).astype(np.float32)
    predicted_t = remote_tensor(submission, predicted, requires_grad=True)
    target_t = remote_tensor(submission, target, requires_grad=True)
    errors = submission.new(f"{MODULE}.rnd_prediction_error", predicted_t, target_t)
    errors.backward(remote_tensor(submission, weights))
    gradient = predicted_t.attr("grad")
    assert gradient is not None, "no gradient reaches the predictor's outputs through rnd_prediction_error"
    gradient = check_array(gradient, "the gradient of rnd_prediction_error w.r.t. predicted", shape=(n, k))
    local = torch.tensor(predicted, requires_grad=True)
    reference.rnd_prediction_error(local, torch.as_tensor(target)).backward(torch.as_tensor(weights))
    assert_close(gradient, local.grad.numpy(), "d rnd_prediction_error / d predicted", rtol=1e-5, atol=1e-6)
    target_gradient = target_t.attr("grad")
    if target_gradient is not None:
        target_gradient = check_array(target_gradient, "the gradient w.r.t. target", shape=(n, k))
        assert not np.any(target_gradient), \
            "rnd_prediction_error sends gradient into the target's outputs: they are constants (detach them)"


# ----------------------------------------------------------------------------------- normalize_bonus (3.2)
def prediction_errors(rng, n):
    """(n,) errors as RND gives them: positive, skewed, a few states far more novel than the rest."""
    scale = float(rng.uniform(0.01, 50.0))
    return (scale * rng.gamma(rng.uniform(0.5, 3.0), size=n)).astype(np.float32)


@points(2, part=PART)
def test_normalize_bonus_matches_reference(submission, rng):
    """normalize_bonus: zero mean, unit POPULATION std over the batch, on batches of several sizes"""
    for n in (int(rng.integers(2, 6)), int(rng.integers(20, 300))):
        errors = prediction_errors(rng, n)
        got = submission.call(f"{MODULE}.normalize_bonus", remote_tensor(submission, errors))
        got = check_array(got, f"normalize_bonus of {n} errors", shape=(n,))
        expected = reference.normalize_bonus(torch.as_tensor(errors)).numpy()
        assert_close(got, expected, f"normalize_bonus of {n} errors (population std, divide by B)",
                     rtol=1e-4, atol=1e-5)


@points(2, part=PART)
def test_normalize_bonus_is_a_constant_and_zero_for_equal_errors(submission, rng):
    """normalize_bonus: no gradient in the bonus; equal errors give zeros (not NaN); values still right"""
    n = int(rng.integers(10, 100))
    errors = prediction_errors(rng, n)
    bonus = submission.new(f"{MODULE}.normalize_bonus", remote_tensor(submission, errors, requires_grad=True))
    assert bonus.attr("requires_grad") is False, \
        "normalize_bonus returned a tensor that requires grad: the bonus is a reward, return it detached"
    got = check_array(bonus.method("numpy"), "normalize_bonus", shape=(n,))
    assert_close(got, reference.normalize_bonus(torch.as_tensor(errors)).numpy(), "normalize_bonus",
                 rtol=1e-4, atol=1e-5)
    equal = np.full(int(rng.integers(2, 50)), float(rng.uniform(0.01, 10.0)), dtype=np.float32)
    got = check_array(submission.call(f"{MODULE}.normalize_bonus", remote_tensor(submission, equal)),
                      "normalize_bonus of equal errors", shape=equal.shape)
    assert_close(got, reference.normalize_bonus(torch.as_tensor(equal)).numpy(),
                 "normalize_bonus of equal errors (divide by std + eps)", rtol=0, atol=1e-3)


# ----------------------------------------------------------------------------------- RNDModel.update (3.3)
def rnd_settings(rng, **overrides) -> dict:
    """An RNDConfig (the `rnd:` section of a config file) with small networks, for fast tests."""
    hidden = int(rng.choice([16, 32, 64]))
    return {"output_size": int(rng.choice([8, 16, 32])), "hidden_sizes": [hidden, hidden],
            "learning_rate": round(float(rng.uniform(1e-3, 1e-2)), 4), **overrides}


def twin_models(submission, rng, settings):
    seeded(rng)
    local = reference.RNDModel(OBS_DIM, reference.RNDConfig(**settings))
    student = submission.new(f"{MODULE}.RNDModel", OBS_DIM, submission.new(f"{MODULE}.RNDConfig", **settings))
    submission.set_state(student, state_of(local))
    return local, student


@points(3, part=PART)
def test_rnd_update_matches_reference_twice_in_a_row(submission, rng):
    """RNDModel.update twice: the predictor's weights after each Adam step, and rnd_loss before each step"""
    local, student = twin_models(submission, rng, rnd_settings(rng))
    for call in ("first", "second"):
        observations = visited_states(rng, int(rng.integers(32, 256)))
        expected_loss = float(local.prediction_errors(observations).mean())
        metrics = student.update(observations)
        assert isinstance(metrics, dict) and "rnd_loss" in metrics, \
            f"RNDModel.update must return a dict with 'rnd_loss', got {type(metrics).__name__}"
        got_loss = check_float(metrics["rnd_loss"], "RNDModel.update's rnd_loss")
        local.update(observations)
        assert_close(got_loss, expected_loss, f"rnd_loss of the {call} update (the mean error before the step)",
                     rtol=1e-4, atol=1e-6)
        expected = with_prefix(state_of(local), "predictor.")
        got = student_parameters(submission, student, expected, "the predictor")
        assert_same_parameters(got, expected, f"the predictor after the {call} update")


@points(3, part=PART)
def test_rnd_update_never_changes_the_target(submission, rng):
    """RNDModel.update three times: the target network's weights stay exactly as drawn (not trained,
    not re-drawn) while the predictor learns as the reference's does"""
    local, student = twin_models(submission, rng, rnd_settings(rng, learning_rate=round(float(rng.uniform(0.01, 0.03)), 4)))
    drawn = with_prefix(state_of(local), "target.")
    for _ in range(3):
        observations = visited_states(rng, int(rng.integers(64, 256)))
        student.update(observations)
        local.update(observations)
    got = student_parameters(submission, student, drawn, "the target network")
    changed = [name for name, value in drawn.items() if not np.array_equal(got[name], value)]
    assert not changed, (f"RNDModel.update changed the target network ({changed[0]}): f_phi is drawn once "
                         "and never trained or re-drawn")
    expected = with_prefix(state_of(local), "predictor.")
    assert_same_parameters(student_parameters(submission, student, expected, "the predictor"), expected,
                           "the predictor after three updates")


# ----------------------------------------------------------------------------------- RNDDQNAgent.update (3.4)
DQN_METRICS = ("q_loss", "q_values", "target_values", "grad_norm")


def twin_agents(submission, rng, bonus_weight):
    """A reference RNDDQNAgent and the student's with the same weights; the student's agent.dqn.update
    is a recorder that returns DQN-like metrics (homework 3's update is not needed)."""
    settings = rnd_settings(rng, bonus_weight=bonus_weight)
    hidden = int(rng.choice([16, 32]))
    dqn_settings = {"hidden_sizes": [hidden, hidden], "gamma": 0.9, "batch_size": 64}
    seeded(rng)
    local = reference.RNDDQNAgent((OBS_DIM,), NUM_ACTIONS, DQNConfig(**dqn_settings), reference.RNDConfig(**settings))
    student = submission.new(f"{MODULE}.RNDDQNAgent", [OBS_DIM], NUM_ACTIONS,
                             submission.new("hw3_qlearning_ac.dqn.DQNConfig", **dqn_settings),
                             submission.new(f"{MODULE}.RNDConfig", **settings))
    submission.set_state(student, state_of(local))
    returns = [{name: float(rng.normal()) for name in DQN_METRICS} for _ in range(4)]
    recorder = submission.new("unittest.mock.Mock", side_effect=returns)
    submission.call("builtins.setattr", submission.new("builtins.getattr", student, "dqn"), "update", recorder)
    return local, student, recorder, returns


def recorded_batch(submission, recorder, call: int, n: int) -> dict:
    """The fields of the batch the student passed to agent.dqn.update in its `call`-th call."""
    count = recorder.attr("call_count")
    assert count == call + 1, (f"RNDDQNAgent.update called agent.dqn.update {count} times in {call + 1} update(s): "
                               "once per update")
    record = submission.new("operator.getitem", submission.new("builtins.getattr", recorder, "call_args_list"), call)
    args, kwargs = submission.new("builtins.getattr", record, "args"), submission.new("builtins.getattr", record, "kwargs")
    if submission.call("builtins.len", args):
        batch = submission.new("operator.getitem", args, 0)
    else:
        assert submission.call("operator.contains", kwargs, "batch"), "agent.dqn.update was called without a batch"
        batch = submission.new("operator.getitem", kwargs, "batch")
    shapes = {"observations": (n, OBS_DIM), "next_observations": (n, OBS_DIM)}
    kinds = {"actions": "int", "terminated": "bool", "truncated": "bool"}
    return {name: check_array(batch.attr(name), f"the batch's {name} given to agent.dqn.update",
                              shape=shapes.get(name, (n,)), dtype=kinds.get(name, "float"))
            for name in ("observations", "actions", "rewards", "next_observations", "terminated", "truncated")}


def remote_batch(submission, batch):
    return submission.new("common.rollouts.Transitions", **batch)


def reference_mixed_rewards(local, batch):
    return batch["rewards"] + local.rnd.config.bonus_weight * local.rnd.bonus(batch["next_observations"])


@points(3, part=PART)
def test_agent_update_gives_dqn_the_mixed_reward_of_the_next_state(submission, rng):
    """RNDDQNAgent.update twice: agent.dqn.update gets r + beta * b(s') (bonus before the predictor
    step), float32, every other field unchanged"""
    local, student, recorder, _ = twin_agents(submission, rng, round(float(rng.uniform(0.2, 3.0)), 3))
    for call in range(2):
        batch = dataset_batch(rng, int(rng.integers(32, 128)))
        expected = reference_mixed_rewards(local, batch)
        student.update(remote_batch(submission, batch))
        local.rnd.update(batch["next_observations"])
        got = recorded_batch(submission, recorder, call, len(batch["rewards"]))
        beta = local.rnd.config.bonus_weight
        assert_close(got["rewards"], expected, f"the rewards DQN learns from in update {call + 1}: r + {beta} * b(s')",
                     rtol=1e-4, atol=1e-4)
        for name in ("observations", "actions", "next_observations", "terminated", "truncated"):
            assert np.array_equal(got[name], batch[name]), \
                f"RNDDQNAgent.update changed the batch's {name}: replace only the rewards"


@points(3, part=PART)
def test_agent_update_trains_the_predictor_on_the_next_states_after_the_bonus(submission, rng):
    """RNDDQNAgent.update twice: one predictor step on s' after each DQN step (the predictor's weights),
    the Q-network untouched by it, and the metrics (DQN's plus rnd_loss and mixed_reward)"""
    local, student, recorder, returns = twin_agents(submission, rng, round(float(rng.uniform(0.2, 3.0)), 3))
    for call in range(2):
        batch = dataset_batch(rng, int(rng.integers(32, 128)))
        mixed = reference_mixed_rewards(local, batch)
        expected_loss = float(local.rnd.prediction_errors(batch["next_observations"]).mean())
        metrics = student.update(remote_batch(submission, batch))
        local.rnd.update(batch["next_observations"])
        assert isinstance(metrics, dict), f"RNDDQNAgent.update must return a dict, got {type(metrics).__name__}"
        missing = [key for key in (*DQN_METRICS, "rnd_loss", "mixed_reward") if key not in metrics]
        assert not missing, f"RNDDQNAgent.update's metrics lack {missing} (return DQN's metrics plus rnd_loss, mixed_reward)"
        assert_close(check_float(metrics["q_loss"], "q_loss"), returns[call]["q_loss"],
                     "q_loss in the metrics (agent.dqn.update's own)", rtol=1e-6, atol=1e-7)
        assert_close(check_float(metrics["rnd_loss"], "rnd_loss"), expected_loss,
                     f"rnd_loss of update {call + 1} (the mean error on s' before the predictor step)",
                     rtol=1e-4, atol=1e-6)
        assert_close(check_float(metrics["mixed_reward"], "mixed_reward"), float(mixed.mean()),
                     f"mixed_reward of update {call + 1} (the mean of r + beta * b(s'))", rtol=1e-4, atol=1e-4)
        expected = with_prefix(state_of(local), "rnd.predictor.")
        assert_same_parameters(student_parameters(submission, student, expected, "the predictor"), expected,
                               f"the predictor after update {call + 1} (one step on the next observations)")
    expected = with_prefix(state_of(local), "dqn.")
    got = student_parameters(submission, student, expected, "the DQN agent")
    changed = [name for name, value in expected.items() if not np.array_equal(got[name], value)]
    assert not changed, f"RNDDQNAgent.update changed {changed[0]} outside agent.dqn.update"
