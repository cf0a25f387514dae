"""Hidden tests of offline_training.start_online_phase, part "finetune" (README 6.1): fine-tuning starts
from the offline agent as it is and from a replay buffer that keeps every dataset transition.

Datasets are in-order prefixes of the shipped exploration runs; the agent is a CQLAgent built in the
worker with random weights the harness chose (its constructor needs no TODO of homework 3).
"""
import numpy as np
import torch

from grader.harness.api import check_array, points
from hw5_inputs import NUM_ACTIONS, OBS_DIM, TRANSITION_FIELDS, seeded, shipped, state_of
from hw5_exploration_offline.cql import CQLAgent
from hw5_exploration_offline.pointmass import MAZES
from hw3_qlearning_ac.dqn import DQNConfig

MODULE = "hw5_exploration_offline.offline_training"
PART = "finetune"
DTYPES = {"observations": "float", "actions": "int", "rewards": "float", "next_observations": "float",
          "terminated": "bool", "truncated": "bool"}


def dataset_prefix(rng, n):
    """The first n transitions of a shipped dataset (from a random start, in order)."""
    buffer = shipped(str(rng.choice(list(MAZES))), str(rng.choice(["random", "rnd"])))
    start = int(rng.integers(0, len(buffer) - n))
    return {name: getattr(buffer, name)[start:start + n].copy() for name in TRANSITION_FIELDS}


def remote_dataset(submission, data):
    n = len(data["rewards"])
    buffer = submission.new("common.replay_buffer.ReplayBuffer", n, [OBS_DIM], [], action_dtype="int64")
    buffer.add_batch(submission.new("common.rollouts.Transitions", **data))
    return buffer


def start(submission, rng):
    """The student's start_online_phase on a remote agent and dataset: (agent, dataset data, online steps,
    returned agent, returned buffer, the agent's weights before)."""
    data = dataset_prefix(rng, int(rng.integers(200, 2000)))
    online = int(rng.integers(50, 1000))
    hidden = int(rng.choice([16, 32]))
    settings = {"hidden_sizes": [hidden, hidden], "gamma": 0.99, "batch_size": 64}
    seeded(rng)
    local = CQLAgent((OBS_DIM,), NUM_ACTIONS, DQNConfig(**settings), alpha=1.0, q_input_scale=15.0)
    with torch.no_grad():  # the target network lags behind, as after an offline phase
        for parameter in local.dqn.target_network.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    agent = submission.new("hw5_exploration_offline.cql.CQLAgent", [OBS_DIM], NUM_ACTIONS,
                           submission.new("hw3_qlearning_ac.dqn.DQNConfig", **settings), alpha=1.0, q_input_scale=15.0)
    submission.set_state(agent, state_of(local))
    dqn = submission.new("builtins.getattr", agent, "dqn")
    updates = int(rng.integers(1000, 20000))
    submission.call("builtins.setattr", dqn, "num_updates", updates)
    result = submission.new(f"{MODULE}.start_online_phase", agent, remote_dataset(submission, data), online)
    returned_agent = submission.new("operator.getitem", result, 0)
    buffer = submission.new("operator.getitem", result, 1)
    return agent, data, online, returned_agent, buffer, state_of(local), updates


def held(submission, buffer, n, what):
    """The first n transitions a remote buffer holds."""
    arrays = {}
    for name in TRANSITION_FIELDS:
        shape = (None, OBS_DIM) if "observations" in name else (None,)
        array = check_array(buffer.attr(name), f"{what}.{name}", shape=shape, dtype=DTYPES[name])
        assert len(array) >= n, f"{what}.{name} has room for {len(array)} transitions, fewer than the dataset's {n}"
        arrays[name] = array[:n]
    return arrays


def assert_same_data(got, data, what):
    for name in TRANSITION_FIELDS:
        wrong = np.flatnonzero(np.any((got[name] != data[name]).reshape(len(data[name]), -1), axis=1))
        assert not len(wrong), f"{what}: {name} of transition {wrong[0]} is not the dataset's (keep D, in order)"


@points(4, part=PART)
def test_start_online_phase_keeps_every_dataset_transition_in_order(submission, rng):
    """start_online_phase: a new buffer of capacity len(D) + online steps holding D in order, D's dtypes"""
    _, data, online, _, buffer, _, _ = start(submission, rng)
    n = len(data["rewards"])
    size, capacity = submission.call("builtins.len", buffer), buffer.attr("capacity")
    assert size == n, f"the buffer returned by start_online_phase holds {size} transitions, expected the dataset's {n}"
    assert capacity == n + online, (f"the buffer's capacity is {capacity}, expected len(dataset) + online_env_steps "
                                    f"= {n + online} (so that online steps never overwrite the data)")
    assert_same_data(held(submission, buffer, n, "the buffer"), data, "the buffer returned by start_online_phase")


@points(4, part=PART)
def test_start_online_phase_returns_the_same_agent_untouched(submission, rng):
    """start_online_phase: the agent passed in (the same object), its networks, target network and update
    count as they were, next to a buffer that holds the data"""
    agent, data, _, returned_agent, buffer, weights, updates = start(submission, rng)
    assert submission.call("operator.is_", returned_agent, agent), \
        "start_online_phase returned another agent: return the SAME object that was passed in"
    got = submission.get_state(returned_agent)
    assert isinstance(got, dict) and set(weights) <= set(got), "the returned agent's state_dict lacks the networks"
    changed = [name for name, value in weights.items()
               if not np.array_equal(check_array(got[name], name, shape=value.shape), value)]
    assert not changed, (f"start_online_phase changed the agent's {changed[0]}: fine-tuning carries on from what "
                         "was learned offline (no re-initialization, no reset)")
    count = submission.new("builtins.getattr", returned_agent, "dqn").attr("num_updates")
    assert count == updates, f"start_online_phase reset the update count ({updates} -> {count})"
    n = len(data["rewards"])
    assert_same_data(held(submission, buffer, n, "the buffer"), data, "the buffer returned with the agent")


@points(2, part=PART)
def test_online_steps_go_after_the_data_without_overwriting_it(submission, rng):
    """the returned buffer takes every online step after the data: D is still there at the end"""
    _, data, online, _, buffer, _, _ = start(submission, rng)
    n = len(data["rewards"])
    steps = dataset_prefix(rng, online)
    buffer.add_batch(submission.new("common.rollouts.Transitions", **steps))
    size = submission.call("builtins.len", buffer)
    assert size == n + online, f"after {online} online steps the buffer holds {size} transitions, expected {n + online}"
    assert_same_data(held(submission, buffer, n, "the buffer"), data, f"after {online} online steps, the buffer")
