"""Hidden tests of mbpo.py (README 5.1-5.2): branched model rollouts and mixed SAC batches.

The docstrings fix every random draw (one real_buffer.sample call with the given rng, one
torch.randint per model step, the real part of a batch drawn before the model part), so the
harness builds twin buffers, generators, ensembles and a deterministic policy (a controller towards
a random point) and compares the transitions number by number.
"""
import functools

import numpy as np
import torch

from common.replay_buffer import ReplayBuffer
from common.rollouts import Transitions
from grader.harness.api import assert_close, points
from hw4_inputs import near_goal_states, remote_transitions_fields, torch_generator, transitions, twin_ensembles
from hw4_model_based import mbpo as reference
from hw4_model_based.envs import OBSTACLES_ID
from hw4_model_based.rewards import planning_task

MODULE = "hw4_model_based.mbpo"
PART = "mbpo"
FIELDS = ("observations", "actions", "rewards", "next_observations", "terminated", "truncated")


def twin_buffers(submission, rng, arrays, capacity=None):
    """A replay buffer holding `arrays` (obs, actions, next_obs) here and in the worker."""
    observations, actions, next_observations = arrays
    n = len(observations)
    batch = dict(observations=observations, actions=actions, rewards=rng.normal(size=n).astype(np.float32),
                 next_observations=next_observations, terminated=np.zeros(n, bool), truncated=np.zeros(n, bool))
    capacity = n if capacity is None else capacity
    obs_shape, act_shape = list(observations.shape[1:]), list(actions.shape[1:])
    local = ReplayBuffer(capacity, obs_shape, act_shape)
    student = submission.new("common.replay_buffer.ReplayBuffer", capacity, obs_shape, act_shape)
    if n:
        local.add_batch(Transitions(**batch))
        student.add_batch(submission.new("common.rollouts.Transitions", **batch))
    return local, student


def twin_rngs(submission, seed):
    return np.random.default_rng(seed), submission.new("numpy.random.default_rng", seed)


def twin_policies(submission, rng):
    """A deterministic go-to-a-point controller a = target - s (numpy in and out) here and in the worker."""
    target = rng.uniform(0.3, 1.0, size=2).astype(np.float32)
    numpy = submission.new("importlib.import_module", "numpy")
    subtract = submission.new("builtins.getattr", numpy, "subtract")
    return functools.partial(np.subtract, target), submission.new("functools.partial", subtract, target)


def rollouts(submission, rng, states, num_rollouts, horizon):
    """The student's and the reference's branched_rollouts on twin inputs."""
    data = transitions(rng, "obstacles", len(states))
    data = (states, data[1], data[2])
    local_model, student_model = twin_ensembles(submission, rng, "obstacles", data=transitions(rng, "obstacles", 300))
    local_buffer, student_buffer = twin_buffers(submission, rng, data)
    local_policy, student_policy = twin_policies(submission, rng)
    local_rng, student_rng = twin_rngs(submission, int(rng.integers(1 << 30)))
    local_gen, student_gen = torch_generator(submission, int(rng.integers(1 << 30)))
    task = submission.new("hw4_model_based.rewards.planning_task", OBSTACLES_ID)
    got = submission.new(f"{MODULE}.branched_rollouts", student_model, task, student_policy, student_buffer,
                         num_rollouts, horizon, student_rng, student_gen)
    expected = reference.branched_rollouts(local_model, planning_task(OBSTACLES_ID), local_policy, local_buffer,
                                           num_rollouts, horizon, local_rng, local_gen)
    got = remote_transitions_fields(got, len(expected), 2, 2, "branched_rollouts")
    return got, expected


def assert_same_transitions(got, expected, what, fields=FIELDS):
    for name in fields:
        want = getattr(expected, name)
        if want.dtype == bool:
            wrong = np.flatnonzero(got[name] != want)
            assert not len(wrong), f"{what}: {name} of transition {wrong[0]} is {got[name][wrong[0]]}, expected {want[wrong[0]]}"
        else:
            assert_close(got[name], want, f"{what}: {name}", rtol=1e-4, atol=1e-5)


@points(4, part=PART)
def test_branched_rollouts_match_reference_with_terminations(submission, rng):
    """branched_rollouts near the goal: some rollouts terminate and stop, the others run k steps"""
    num_rollouts, horizon = int(rng.integers(10, 40)), int(rng.integers(2, 7))
    got, expected = rollouts(submission, rng, near_goal_states(rng, int(rng.integers(50, 150))), num_rollouts, horizon)
    assert_same_transitions(got, expected, f"branched_rollouts ({num_rollouts} rollouts, horizon {horizon})")


@points(3, part=PART)
def test_branched_rollouts_start_from_states_of_the_real_buffer(submission, rng):
    """branched_rollouts: step 0 starts from the observations of one real_buffer.sample call"""
    num_rollouts, horizon = int(rng.integers(10, 40)), int(rng.integers(2, 6))
    states = transitions(rng, "obstacles", int(rng.integers(50, 150)))[0]
    got, expected = rollouts(submission, rng, states, num_rollouts, horizon)
    first = slice(0, num_rollouts)
    assert_close(got["observations"][first], expected.observations[first],
                 "branched_rollouts: the start states (the first num_rollouts observations)", rtol=1e-6, atol=1e-7)
    assert_same_transitions(got, expected, "branched_rollouts", fields=("actions", "next_observations"))


@points(3, part=PART)
def test_branched_rollouts_stop_at_the_model_horizon(submission, rng):
    """branched_rollouts far from the goal: exactly num_rollouts * k transitions, the last step truncated"""
    num_rollouts, horizon = int(rng.integers(10, 40)), int(rng.integers(1, 6))
    states = np.clip(rng.uniform(0, 0.4, size=(int(rng.integers(50, 150)), 2)), 0, 1).astype(np.float32)
    got, expected = rollouts(submission, rng, states, num_rollouts, horizon)
    assert_same_transitions(got, expected, f"branched_rollouts (horizon {horizon})",
                            fields=("terminated", "truncated", "rewards"))


def check_mixed(submission, rng, model_sizes):
    """sample_mixed_batch on twin buffers, once per model buffer size (0: empty), with one rng in a row."""
    n_real = int(rng.integers(50, 200))
    local_real, student_real = twin_buffers(submission, rng, transitions(rng, "obstacles", n_real))
    local_rng, student_rng = twin_rngs(submission, int(rng.integers(1 << 30)))
    for model_size in model_sizes:
        model_data = transitions(rng, "obstacles", model_size) if model_size else \
            (np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32))
        local_model, student_model = twin_buffers(submission, rng, model_data, capacity=max(model_size, 10))
        batch_size = int(rng.integers(20, 100))
        real_ratio = round(float(rng.uniform(0.05, 0.95)), 3)
        got = submission.new(f"{MODULE}.sample_mixed_batch", student_real, student_model, batch_size, real_ratio,
                             student_rng)
        what = f"sample_mixed_batch (batch {batch_size}, real_ratio {real_ratio}, {model_size} model transitions)"
        got = remote_transitions_fields(got, batch_size, 2, 2, what)
        expected = reference.sample_mixed_batch(local_real, local_model, batch_size, real_ratio, local_rng)
        assert_same_transitions(got, expected, what)


@points(3, part=PART)
def test_sample_mixed_batch_matches_reference(submission, rng):
    """sample_mixed_batch: round(real_ratio * B) real transitions first, then model transitions"""
    check_mixed(submission, rng, [int(rng.integers(100, 300))])


@points(2, part=PART)
def test_sample_mixed_batch_is_all_real_while_the_model_buffer_is_empty(submission, rng):
    """sample_mixed_batch with an empty model buffer (the whole batch real), then with a filled one"""
    check_mixed(submission, rng, [0, int(rng.integers(100, 300))])
