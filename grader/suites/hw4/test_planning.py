"""Hidden tests of planning.py (README 4.1-4.4): scoring sequences, random shooting, CEM, MPC.

evaluate_action_sequences runs the student's code on the reference's ensembles (random weights,
realistic statistics) and the courses' own reward functions. The docstrings of random_shooting and
cem fix every draw from the generator (one torch.rand / torch.randn call of a given shape), so the
harness seeds a twin generator and compares plans number by number; the score they maximize is a
random MLP over the whole sequence, so that the test sees the optimizer and not the model.
MPCAgent.get_action is compared with fresh plans of a twin agent of the same seed, so it is graded
even where the student's planners are not.
"""
import numpy as np
import torch
from torch import nn

from grader.harness.api import assert_close, check_array, points
from hw4_inputs import near_goal_states, state_of, torch_generator, transitions, twin_ensembles, worker_tensor
from hw4_model_based import planning as reference
from hw4_model_based.envs import HALFCHEETAH_ID, OBSTACLES_ID
from hw4_model_based.rewards import planning_task

MODULE = "hw4_model_based.planning"
PART = "planning"


def remote_task(submission, env_id):
    return submission.new("hw4_model_based.rewards.planning_task", env_id)


def check_evaluation(submission, rng, env, obs, num_members=None):
    env_id = OBSTACLES_ID if env == "obstacles" else HALFCHEETAH_ID
    local, student = twin_ensembles(submission, rng, env, num_members=num_members)
    num, horizon, act_dim = int(rng.integers(20, 200)), int(rng.integers(3, 16)), local.act_dim
    sequences = rng.uniform(-1, 1, size=(num, horizon, act_dim)).astype(np.float32)
    got = submission.call(f"{MODULE}.evaluate_action_sequences", student, remote_task(submission, env_id),
                          worker_tensor(submission, obs), worker_tensor(submission, sequences))
    got = check_array(got, "evaluate_action_sequences", shape=(num,))
    with torch.no_grad():
        expected = reference.evaluate_action_sequences(local, planning_task(env_id), torch.as_tensor(obs),
                                                       torch.as_tensor(sequences)).numpy()
    assert_close(got, expected, f"evaluate_action_sequences ({local.num_members} members, horizon {horizon})",
                 rtol=1e-4, atol=1e-4)


@points(4, part=PART)
def test_evaluate_action_sequences_on_halfcheetah_matches_reference(submission, rng):
    """evaluate_action_sequences: HalfCheetah reward summed over the horizon, averaged over the members"""
    obs = transitions(rng, "cheetah", 1)[0][0]
    check_evaluation(submission, rng, "cheetah", obs)


@points(3, part=PART)
def test_evaluate_action_sequences_with_terminations_matches_reference(submission, rng):
    """evaluate_action_sequences near the obstacles goal: the terminating step counts, later steps do not"""
    check_evaluation(submission, rng, "obstacles", near_goal_states(rng, 1)[0])


@points(1, part=PART)
def test_evaluate_action_sequences_with_one_member(submission, rng):
    """evaluate_action_sequences with a single member (E = 1) from an obstacles start state"""
    obs = transitions(rng, "obstacles", 1)[0][0]
    check_evaluation(submission, rng, "obstacles", obs, num_members=1)


def twin_scores(submission, rng, horizon, act_dim):
    """A random MLP score (N, H, d_a) -> (N,) here and in the worker, with the same weights."""
    hidden = int(rng.integers(8, 32))
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = nn.Sequential(nn.Flatten(), nn.Linear(horizon * act_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1),
                          nn.Flatten(0))
    layers = [submission.new("torch.nn.Flatten"), submission.new("torch.nn.Linear", horizon * act_dim, hidden),
              submission.new("torch.nn.Tanh"), submission.new("torch.nn.Linear", hidden, 1),
              submission.new("torch.nn.Flatten", 0)]
    student = submission.new("torch.nn.Sequential", *layers)
    submission.set_state(student, state_of(local))
    return local, student


def action_box(rng, act_dim):
    low = -rng.uniform(0.5, 2.0, size=act_dim).astype(np.float32)
    high = (low + rng.uniform(0.5, 3.0, size=act_dim)).astype(np.float32)
    return low, high


def planner_inputs(submission, rng):
    horizon, act_dim = int(rng.integers(2, 10)), int(rng.integers(1, 7))
    low, high = action_box(rng, act_dim)
    local_score, student_score = twin_scores(submission, rng, horizon, act_dim)
    seed = int(rng.integers(1 << 30))
    local_gen, student_gen = torch_generator(submission, seed)
    local = (local_score, torch.as_tensor(low), torch.as_tensor(high))
    student = (student_score, worker_tensor(submission, low), worker_tensor(submission, high))
    return horizon, act_dim, local, student, local_gen, student_gen


@points(3, part=PART)
def test_random_shooting_matches_reference(submission, rng):
    """random_shooting: the best of N uniform sequences in an asymmetric action box (one torch.rand draw)"""
    horizon, act_dim, local, student, local_gen, student_gen = planner_inputs(submission, rng)
    num = int(rng.integers(50, 500))
    got = submission.call(f"{MODULE}.random_shooting", *student, horizon, num, student_gen)
    got = check_array(got, "random_shooting", shape=(horizon, act_dim))
    with torch.no_grad():
        expected = reference.random_shooting(*local, horizon, num, local_gen).numpy()
    assert_close(got, expected, f"random_shooting ({num} candidates)", rtol=1e-5, atol=1e-6)


def check_cem(submission, rng, smoothing):
    horizon, act_dim, local, student, local_gen, student_gen = planner_inputs(submission, rng)
    num, iterations = int(rng.integers(60, 300)), int(rng.integers(2, 6))
    elites = int(rng.integers(5, num // 4))
    got = submission.call(f"{MODULE}.cem", *student, horizon, num, elites, iterations, smoothing, student_gen)
    got = check_array(got, "cem", shape=(horizon, act_dim))
    with torch.no_grad():
        expected = reference.cem(*local, horizon, num, elites, iterations, smoothing, local_gen).numpy()
    assert_close(got, expected, f"cem ({iterations} iterations, {elites} elites of {num}, smoothing {smoothing})",
                 rtol=1e-4, atol=1e-5)


@points(4, part=PART)
def test_cem_matches_reference(submission, rng):
    """cem without smoothing: sample, keep the elites, refit mean and population std, repeat"""
    check_cem(submission, rng, 0.0)


@points(3, part=PART)
def test_cem_with_smoothing_matches_reference(submission, rng):
    """cem with smoothing: mu <- a mu + (1 - a) mean(elites), likewise sigma"""
    check_cem(submission, rng, round(float(rng.uniform(0.1, 0.8)), 3))


def twin_agents(submission, rng, method):
    local_model, student_model = twin_ensembles(submission, rng, "obstacles")
    settings = dict(method=method, horizon=int(rng.integers(3, 10)), num_candidates=int(rng.integers(50, 200)),
                    cem_iterations=int(rng.integers(2, 4)), num_elites=10, cem_smoothing=0.1)
    seed = int(rng.integers(1 << 30))
    low, high = -np.ones(2, np.float32), np.ones(2, np.float32)
    task = remote_task(submission, OBSTACLES_ID)
    agents = [submission.new(f"{MODULE}.MPCAgent", student_model, task, low, high,
                             submission.new(f"{MODULE}.PlannerConfig", **settings), seed) for _ in range(2)]
    return settings, agents


def check_replanning(submission, rng, method):
    settings, (acting, planning) = twin_agents(submission, rng, method)
    states = transitions(rng, "obstacles", int(rng.integers(3, 6)))[0]
    firsts = []
    for step, obs in enumerate(states):
        action = check_array(acting.get_action(obs), f"get_action (call {step + 1})", shape=(2,))
        plan = check_array(planning.plan(obs), "plan", shape=(settings["horizon"], 2))
        assert_close(action, plan[0], f"get_action at call {step + 1}: the first action of a fresh plan from the "
                     "observation given (replan at every call)", rtol=1e-5, atol=1e-6)
        firsts.append(plan[0])
    # a sampling planner's plans differ from call to call; constant plans would let any constant action pass
    assert np.ptp(np.stack(firsts), axis=0).max() > 0, (
        f"MPCAgent.plan ({method}) returned the same first action at every call: get_action is graded with "
        "planners that sample (implement random_shooting and cem first)")


@points(3, part=PART)
def test_mpc_get_action_replans_at_every_step_with_random_shooting(submission, rng):
    """MPCAgent.get_action: the first action of a new plan at every call, along an obstacles run"""
    check_replanning(submission, rng, "random_shooting")


@points(2, part=PART)
def test_mpc_get_action_replans_at_every_step_with_cem(submission, rng):
    """MPCAgent.get_action with CEM: the first action of a new plan at every call"""
    check_replanning(submission, rng, "cem")
