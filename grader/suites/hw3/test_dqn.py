"""Hidden tests of schedules.py and dqn.py, part "dqn" (README 2.1-2.7): exact values against the
reference on fresh random inputs, a statistical check of epsilon-greedy, and the agent's update.

Inputs look like real training (dqn_inputs.py): mini-batches with terminated, truncated and both
flags; Q-values without ties; a target network that lags behind the online one. Agents are twins:
the reference's DQNAgent and the student's hold the same weights and fresh Adam optimizers, so an
update can be compared number by number. Settings the configs use are exercised where they matter:
double_q on and off, a gradient-norm clip that binds, target_update_period > 1, a Huber delta != 1.
"""
import numpy as np
import torch

from common.rollouts import Transitions
from dqn_inputs import (agent_batch, agent_settings, assert_online_network_matches, assert_same_parameters,
                        credit_for_cases, local_parameters, online_and_target_q, q_table, random_gamma, remote_tensor,
                        replay_flags, same_parameters, student_parameters, twin_agents)
from grader.harness.api import assert_close, check_array, check_float, points
from hw3_qlearning_ac import dqn as reference
from hw3_qlearning_ac import schedules as reference_schedules

MODULE = "hw3_qlearning_ac.dqn"
SCHEDULE = "hw3_qlearning_ac.schedules.linear_schedule"
TRANSITIONS = "common.rollouts.Transitions"


# ----------------------------------------------------------------------------------- linear_schedule (2.1)
def epsilon_schedule(rng):
    """start, end, duration as the DQN configs use them: epsilon falls from about 1 to about 0.05 over
    thousands of env steps (2500 to 100k in the configs)."""
    return (round(float(rng.uniform(0.5, 1.0)), 3), round(float(rng.uniform(0.0, 0.2)), 3),
            int(rng.integers(500, 100_000)))


def check_schedule(submission, steps, start, end, duration):
    wrong = []
    for step in steps:
        got = check_float(submission.call(SCHEDULE, int(step), start, end, duration), "linear_schedule")
        expected = reference_schedules.linear_schedule(int(step), start, end, duration)
        # tight: one step of the schedule moves it by (start - end) / duration >= 3e-6 (float32 rounds by 6e-8)
        if not np.isclose(got, expected, rtol=1e-6, atol=1e-9):
            wrong.append(f"linear_schedule({int(step)}, {start}, {end}, {duration}) returned {got:.9g}, "
                         f"expected {expected:.9g}")
    assert not wrong, "; ".join(wrong[:2])


@points(2, part="dqn")
def test_linear_schedule_on_the_way_down(submission, rng):
    """linear_schedule at steps from 0 to duration (both included)"""
    start, end, duration = epsilon_schedule(rng)
    steps = np.concatenate([[0, duration], rng.integers(1, duration, size=6)])
    check_schedule(submission, steps, start, end, duration)


@points(1, part="dqn")
def test_linear_schedule_reaches_the_end_value_and_stays(submission, rng):
    """linear_schedule just before, at and after duration"""
    start, end, duration = epsilon_schedule(rng)
    steps = [duration - 1, duration, duration + 1, *rng.integers(duration + 2, 5 * duration, size=3)]
    check_schedule(submission, steps, start, end, duration)


# ----------------------------------------------------------------------------------- epsilon_greedy (2.2)
def remote_generator(submission, seed: int):
    return submission.new("numpy.random.default_rng", seed)


def epsilon_greedy_actions(submission, q_values, epsilon, seed):
    got = submission.call(f"{MODULE}.epsilon_greedy", q_values, epsilon, remote_generator(submission, seed))
    got = check_array(got, "epsilon_greedy", shape=(len(q_values),), dtype="int")
    num_actions = q_values.shape[1]
    assert got.min() >= 0 and got.max() < num_actions, \
        f"epsilon_greedy returned actions outside 0..{num_actions - 1}"
    return got


def check_epsilon_greedy_frequencies(actions, q_values, epsilon):
    """Each row: greedy with probability 1 - eps + eps / A, each other action eps / A (5 standard errors)."""
    n, num_actions = q_values.shape
    offsets = (actions - q_values.argmax(1)) % num_actions     # 0: the greedy action
    for offset in range(num_actions):
        p = 1 - epsilon + epsilon / num_actions if offset == 0 else epsilon / num_actions
        frequency = float(np.mean(offsets == offset))
        tolerance = 5 * np.sqrt(p * (1 - p) / n)
        what = "the greedy action" if offset == 0 else "a non-greedy action"
        assert abs(frequency - p) <= tolerance, (
            f"epsilon_greedy with epsilon = {epsilon} and {num_actions} actions chose {what} in "
            f"{frequency:.4f} of {n} rows, expected {p:.4f} +- {tolerance:.4f} (each row explores on its own, "
            f"and the uniform draw may hit the greedy action too)")


@points(1.5, part="dqn")
def test_epsilon_greedy_with_epsilon_zero_is_the_argmax_of_each_row(submission, rng):
    """epsilon_greedy with epsilon 0: the argmax of each row"""
    q_values = q_table(rng, int(rng.integers(20, 200)), int(rng.integers(2, 7)))
    got = epsilon_greedy_actions(submission, q_values, 0.0, int(rng.integers(1 << 30)))
    assert_close(got, q_values.argmax(1), "epsilon_greedy(q_values, 0.0, rng): the greedy actions", rtol=0, atol=0)


@points(1.5, part="dqn")
def test_epsilon_greedy_explores_with_probability_epsilon(submission, rng):
    """epsilon_greedy: the frequencies of the greedy and the other actions, row by row"""
    epsilon = round(float(rng.uniform(0.15, 0.85)), 3)
    q_values = q_table(rng, 50_000, int(rng.integers(2, 7)))
    actions = epsilon_greedy_actions(submission, q_values, epsilon, int(rng.integers(1 << 30)))
    check_epsilon_greedy_frequencies(actions, q_values, epsilon)


@points(1, part="dqn")
def test_epsilon_greedy_draws_every_random_number_from_the_given_rng(submission, rng):
    """epsilon_greedy: the same rng seed gives the same actions, another seed other ones (and right frequencies)"""
    epsilon = round(float(rng.uniform(0.3, 1.0)), 3)
    q_values = q_table(rng, 20_000, int(rng.integers(2, 7)))
    seed = int(rng.integers(1 << 30))
    other_seed = seed + 1 + int(rng.integers(1 << 20))
    first = epsilon_greedy_actions(submission, q_values, epsilon, seed)
    check_epsilon_greedy_frequencies(first, q_values, epsilon)
    again = epsilon_greedy_actions(submission, q_values, epsilon, seed)
    other = epsilon_greedy_actions(submission, q_values, epsilon, other_seed)
    assert np.array_equal(first, again), \
        "epsilon_greedy gave other actions for a generator with the same seed: draw every random number from rng"
    assert not np.array_equal(first, other), "epsilon_greedy gave the same actions for generators of different seeds"


# ----------------------------------------------------------------------------------- q_values_of_actions (2.3)
@points(1.5, part="dqn")
def test_q_values_of_actions_matches_reference(submission, rng):
    """q_values_of_actions on a batch larger than the action count and on a square one (B == A)"""
    num_actions = int(rng.integers(2, 7))
    for batch_size in (int(rng.integers(num_actions + 1, 100)), num_actions):
        q_values = q_table(rng, batch_size, num_actions)
        actions = rng.integers(0, num_actions, size=batch_size)
        got = submission.call(f"{MODULE}.q_values_of_actions", remote_tensor(submission, q_values),
                              remote_tensor(submission, actions))
        got = check_array(got, "q_values_of_actions", shape=(batch_size,))
        expected = reference.q_values_of_actions(torch.as_tensor(q_values), torch.as_tensor(actions)).numpy()
        assert_close(got, expected, f"q_values_of_actions on a ({batch_size}, {num_actions}) batch", rtol=0, atol=0)


@points(1.5, part="dqn")
def test_q_values_of_actions_sends_gradient_to_the_taken_entries(submission, rng):
    """q_values_of_actions: the gradient reaches exactly Q(s_j, a_j)"""
    batch_size, num_actions = int(rng.integers(10, 60)), int(rng.integers(2, 7))
    q_values = q_table(rng, batch_size, num_actions)
    actions = rng.integers(0, num_actions, size=batch_size)
    weights = rng.normal(size=batch_size).astype(np.float32)
    q_t = remote_tensor(submission, q_values, requires_grad=True)
    taken = submission.new(f"{MODULE}.q_values_of_actions", q_t, remote_tensor(submission, actions))
    taken.backward(remote_tensor(submission, weights))
    gradient = q_t.attr("grad")
    assert gradient is not None, "no gradient reaches q_values through q_values_of_actions"
    gradient = check_array(gradient, "the gradient of q_values_of_actions w.r.t. q_values",
                           shape=(batch_size, num_actions))
    local_q = torch.tensor(q_values, requires_grad=True)
    reference.q_values_of_actions(local_q, torch.as_tensor(actions)).backward(torch.as_tensor(weights))
    assert_close(gradient, local_q.grad.numpy(), "d q_values_of_actions / d q_values (one entry per row)",
                 rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------------- dqn_target (2.4)
def target_inputs(rng):
    batch_size, num_actions = int(rng.integers(16, 80)), int(rng.integers(2, 7))
    terminated, _ = replay_flags(rng, batch_size)
    rewards = rng.normal(0.0, rng.uniform(0.5, 3.0), size=batch_size).astype(np.float32)
    online, target = online_and_target_q(rng, batch_size, num_actions)
    return rewards, terminated, target, online, random_gamma(rng)


def remote_dqn_target(submission, rewards, terminated, next_q_target, gamma, next_q_online=None, grad=False):
    args = [remote_tensor(submission, rewards), remote_tensor(submission, terminated),
            remote_tensor(submission, next_q_target, requires_grad=grad), gamma]
    kwargs = {} if next_q_online is None else {"next_q_online": remote_tensor(submission, next_q_online, grad)}
    return submission.new(f"{MODULE}.dqn_target", *args, **kwargs)


def reference_dqn_target(rewards, terminated, next_q_target, gamma, next_q_online=None):
    online = None if next_q_online is None else torch.as_tensor(next_q_online)
    return reference.dqn_target(torch.as_tensor(rewards), torch.as_tensor(terminated),
                                torch.as_tensor(next_q_target), gamma, online).numpy()


@points(2, part="dqn")
def test_dqn_target_matches_reference(submission, rng):
    """dqn_target (DQN): r + gamma (1 - d) max_a' Q_target(s', a') on a replay batch"""
    rewards, terminated, target, _, gamma = target_inputs(rng)
    # terminated as update passes it: 0/1 float32 (the docstring takes bool too: the other tests pass bool)
    got = submission.call(f"{MODULE}.dqn_target", remote_tensor(submission, rewards),
                          remote_tensor(submission, terminated.astype(np.float32)), remote_tensor(submission, target),
                          gamma)
    got = check_array(got, "dqn_target", shape=(len(rewards),))
    assert_close(got, reference_dqn_target(rewards, terminated, target, gamma), f"dqn_target (gamma = {gamma})",
                 rtol=1e-5, atol=1e-5)


@points(1, part="dqn")
def test_dqn_target_does_not_bootstrap_from_terminal_states(submission, rng):
    """dqn_target: y = r exactly where terminated, a bootstrapped value elsewhere (DQN and double DQN)"""
    rewards, terminated, target, online, gamma = target_inputs(rng)
    for next_q_online in (None, online):
        got = remote_dqn_target(submission, rewards, terminated, target, gamma, next_q_online).detach()
        got = check_array(got, "dqn_target", shape=(len(rewards),))
        expected = reference_dqn_target(rewards, terminated, target, gamma, next_q_online)
        what = "dqn_target" if next_q_online is None else "dqn_target with next_q_online (double DQN)"
        assert_close(got[terminated], rewards[terminated], f"{what} on terminated transitions (y = r)",
                     rtol=1e-6, atol=1e-6)
        assert_close(got[~terminated], expected[~terminated], f"{what} on transitions that go on",
                     rtol=1e-5, atol=1e-5)


@points(2.5, part="dqn")
def test_double_dqn_target_matches_reference(submission, rng):
    """dqn_target (double DQN): the online network picks a', the target network values it"""
    rewards, terminated, target, online, gamma = target_inputs(rng)
    got = submission.call(f"{MODULE}.dqn_target", remote_tensor(submission, rewards),
                          remote_tensor(submission, terminated.astype(np.float32)), remote_tensor(submission, target),
                          gamma, next_q_online=remote_tensor(submission, online))
    got = check_array(got, "dqn_target with next_q_online", shape=(len(rewards),))
    assert_close(got, reference_dqn_target(rewards, terminated, target, gamma, online),
                 "dqn_target with next_q_online (double DQN: argmax of the online Q, value of the target Q)",
                 rtol=1e-5, atol=1e-5)


@points(1, part="dqn")
def test_dqn_target_carries_no_gradient(submission, rng):
    """dqn_target: detached, from next-Q tensors that require grad (DQN and double DQN), and still right"""
    rewards, terminated, target, online, gamma = target_inputs(rng)
    for next_q_online in (None, online):
        y = remote_dqn_target(submission, rewards, terminated, target, gamma, next_q_online, grad=True)
        what = "dqn_target" if next_q_online is None else "dqn_target with next_q_online"
        assert y.attr("requires_grad") is False, \
            f"{what} returned a tensor that requires grad: the targets must be detached (torch.no_grad or .detach())"
        got = check_array(y.detach(), what, shape=(len(rewards),))
        assert_close(got, reference_dqn_target(rewards, terminated, target, gamma, next_q_online), what,
                     rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------------- huber_td_loss (2.5)
def huber_delta(rng) -> float:
    """A Huber delta at least 0.1 away from the default 1 (where delta is ignored or used as
    smooth_l1's beta, the loss changes)."""
    return round(float(rng.choice([rng.uniform(0.3, 0.9), rng.uniform(1.1, 3.0)])), 3)


def huber_inputs(rng, delta):
    """Q(s_j, a_j) and y_j with TD errors on both sides of delta"""
    batch_size = int(rng.integers(16, 100))
    targets = rng.normal(0.0, 5.0, size=batch_size).astype(np.float32)
    errors = delta * rng.uniform(0.05, 3.0, size=batch_size) * rng.choice([-1.0, 1.0], size=batch_size)
    return (targets + errors).astype(np.float32), targets


@points(2, part="dqn")
def test_huber_td_loss_matches_reference(submission, rng, credit):
    """huber_td_loss: the mean Huber loss, with the default delta and with another delta"""
    def check(default: bool):
        delta = 1.0 if default else huber_delta(rng)
        q_taken, targets = huber_inputs(rng, delta)
        got = submission.call(f"{MODULE}.huber_td_loss", remote_tensor(submission, q_taken),
                              remote_tensor(submission, targets), *(() if default else (delta,)))
        expected = reference.huber_td_loss(torch.as_tensor(q_taken), torch.as_tensor(targets), delta).item()
        assert_close(check_float(got, "huber_td_loss"), expected,
                     f"huber_td_loss with delta = {delta}{' (the default)' if default else ''}", rtol=1e-5, atol=1e-6)
    credit_for_cases(credit, [lambda: check(True), lambda: check(False)])


@points(1.5, part="dqn")
def test_huber_td_loss_gradient_is_the_clipped_td_error(submission, rng):
    """huber_td_loss: d L / d Q(s_j, a_j) = clip(delta_j, -delta, delta) / B, none into the targets"""
    delta = huber_delta(rng)
    q_taken, targets = huber_inputs(rng, delta)
    q_t = remote_tensor(submission, q_taken, requires_grad=True)
    y_t = remote_tensor(submission, targets, requires_grad=True)
    loss = submission.new(f"{MODULE}.huber_td_loss", q_t, y_t, delta)
    loss.backward()
    gradient = q_t.attr("grad")
    assert gradient is not None, "no gradient reaches q_taken through huber_td_loss"
    gradient = check_array(gradient, "the gradient of huber_td_loss w.r.t. q_taken", shape=(len(q_taken),))
    local_q = torch.tensor(q_taken, requires_grad=True)
    reference.huber_td_loss(local_q, torch.as_tensor(targets), delta).backward()
    assert_close(gradient, local_q.grad.numpy(), f"d huber_td_loss / d q_taken (delta = {delta})",
                 rtol=1e-4, atol=1e-7)
    target_gradient = y_t.attr("grad")
    if target_gradient is not None:
        target_gradient = check_array(target_gradient, "the gradient of huber_td_loss w.r.t. the targets",
                                      shape=(len(q_taken),))
        assert np.all(target_gradient == 0), "gradient flows into the targets: they are constants (detach them)"


# ----------------------------------------------------------------------------------- compute_targets (2.6)
def check_compute_targets(submission, rng, double_q):
    obs_dim, num_actions = int(rng.integers(3, 9)), int(rng.integers(2, 7))
    local, student = twin_agents(submission, rng, agent_settings(rng, double_q=double_q), obs_dim, num_actions)
    batch = agent_batch(rng, local, int(rng.integers(16, 80)), obs_dim, num_actions, float(rng.uniform(0.5, 3)))
    # terminated as update passes it: 0/1 float32
    args = (batch["rewards"], batch["next_observations"], batch["terminated"].astype(np.float32))
    got = student.compute_targets(*[remote_tensor(submission, a) for a in args])
    got = check_array(got, "DQNAgent.compute_targets", shape=(len(args[0]),))
    expected = local.compute_targets(*[torch.as_tensor(a) for a in args]).numpy()
    what = "double DQN (double_q true)" if double_q else "DQN (double_q false)"
    assert_close(got, expected, f"DQNAgent.compute_targets for {what}", rtol=1e-4, atol=1e-5)


@points(1.5, part="dqn")
def test_compute_targets_dqn(submission, rng):
    """DQNAgent.compute_targets, double_q false: the target network's max (dqn_cartpole, dqn_lunarlander)"""
    check_compute_targets(submission, rng, double_q=False)


@points(1.5, part="dqn")
def test_compute_targets_double_dqn(submission, rng):
    """DQNAgent.compute_targets, double_q true: online argmax, target value (double_dqn_lunarlander)"""
    check_compute_targets(submission, rng, double_q=True)


# ----------------------------------------------------------------------------------- update (2.7)
def update_both(submission, rng, local, student, obs_dim, num_actions):
    """One update of each twin on the same fresh mini-batch; the student's metrics and the reference's.

    Rewards of the size of the Huber delta put TD errors on both sides of it. (Were all of them beyond
    delta, an action's output bias would get a sum of +-delta / B, which can cancel to a float-rounding
    residue, and Adam's first step divides that residue by its own size: a correct update written in
    another order would move that bias by up to a learning rate.)"""
    batch = agent_batch(rng, local, int(rng.integers(32, 80)), obs_dim, num_actions, local.config.huber_delta)
    got = student.update(submission.new(TRANSITIONS, **batch))
    return got, local.update(Transitions(**batch))


def check_metric(got, expected, key, what):
    assert isinstance(got, dict), f"update must return a dict of metrics, got {type(got).__name__}"
    assert key in got, f"update's metrics lack {key!r} (it has {sorted(got)[:10]})"
    assert_close(check_float(got[key], f"update's {key}"), expected[key], f"{what}: update's {key}",
                 rtol=1e-4, atol=1e-5)


def new_twins(submission, rng, **overrides):
    obs_dim, num_actions = int(rng.integers(3, 9)), int(rng.integers(2, 7))
    local, student = twin_agents(submission, rng, agent_settings(rng, **overrides), obs_dim, num_actions)
    return local, student, obs_dim, num_actions


@points(1.5, part="dqn")
def test_update_one_step_matches_reference(submission, rng):
    """DQNAgent.update: the metrics and the online network after one step (Huber delta != 1, clip at 10)"""
    local, student, obs_dim, num_actions = new_twins(submission, rng, huber_delta=huber_delta(rng))
    got, expected = update_both(submission, rng, local, student, obs_dim, num_actions)
    for key in ("q_loss", "q_values", "target_values", "grad_norm"):
        check_metric(got, expected, key, "one update")
    assert_online_network_matches(submission, student, local, "the online network after one update")


@points(1.5, part="dqn")
def test_update_clips_the_gradient_norm(submission, rng):
    """DQNAgent.update: three updates in a row with a max_grad_norm that binds, and Adam's state kept"""
    # the reference's gradient norms here are >= 0.07 (the least of 3 updates over 300 seeds; 0.145 median)
    local, student, obs_dim, num_actions = new_twins(submission, rng,
                                                     max_grad_norm=round(float(rng.uniform(0.005, 0.03)), 4))
    for _ in range(3):
        got, expected = update_both(submission, rng, local, student, obs_dim, num_actions)
        check_metric(got, expected, "grad_norm", "the norm before clipping")
    clip = local.config.max_grad_norm
    assert_online_network_matches(submission, student, local, f"the online network after 3 updates with max_grad_norm "
                                  f"= {clip} (clip the global norm before the Adam step; one optimizer for all calls)")


@points(0.5, part="dqn")
def test_update_without_clipping(submission, rng):
    """DQNAgent.update with max_grad_norm null (no clipping): two updates, and grad_norm before clipping"""
    local, student, obs_dim, num_actions = new_twins(submission, rng, max_grad_norm=None)
    for _ in range(2):
        got, expected = update_both(submission, rng, local, student, obs_dim, num_actions)
    check_metric(got, expected, "grad_norm", "max_grad_norm null")
    assert_online_network_matches(submission, student, local, "the online network after 2 updates without clipping")


@points(1, part="dqn")
def test_update_masks_terminated_but_not_truncated(submission, rng):
    """DQNAgent.update: the targets mask `terminated` only (truncated transitions still bootstrap)"""
    local, student, obs_dim, num_actions = new_twins(submission, rng)
    got, expected = update_both(submission, rng, local, student, obs_dim, num_actions)
    check_metric(got, expected, "target_values",
                 "a batch with terminated, truncated and both flags (only terminated masks the bootstrap)")
    assert_online_network_matches(submission, student, local,
                                  "the online network after one update on a batch with truncated transitions")


@points(1, part="dqn")
def test_update_double_dqn(submission, rng):
    """DQNAgent.update with double_q true: two updates, targets and online network"""
    local, student, obs_dim, num_actions = new_twins(submission, rng, double_q=True)
    for _ in range(2):
        got, expected = update_both(submission, rng, local, student, obs_dim, num_actions)
        check_metric(got, expected, "target_values", "double DQN")
    assert_online_network_matches(submission, student, local, "the online network after 2 double-DQN updates")


@points(1.5, part="dqn")
def test_update_copies_the_target_network_every_period(submission, rng):
    """DQNAgent.update: phi' <- phi after every target_update_period-th update, unchanged in between"""
    period = int(rng.integers(2, 5))
    local, student, obs_dim, num_actions = new_twins(submission, rng, target_update_period=period)
    previous_target = student_parameters(submission, student, local, "target_network.", "the target network")
    for step in range(1, 2 * period + 2):
        update_both(submission, rng, local, student, obs_dim, num_actions)
        state = student_parameters(submission, student, local, "", "the agent")  # one read for both networks
        online = {name: value for name, value in state.items() if name.startswith("q_network.")}
        target = {name: value for name, value in state.items() if name.startswith("target_network.")}
        if step == 1:  # the update itself is the reference's (so a copy of untrained weights earns nothing)
            assert_same_parameters(online, local_parameters(local, "q_network."), "the online network after one update")
        as_online = {name.replace("q_network.", "target_network.", 1): value for name, value in online.items()}
        if step % period == 0:
            assert same_parameters(target, as_online) and not same_parameters(target, previous_target), (
                f"target_update_period = {period}: after update {step} the target network must equal the online "
                "network, trained weights copied into the target (phi' <- phi every target_update_period updates, "
                "never the other way round)")
        else:
            assert same_parameters(target, previous_target), (
                f"target_update_period = {period}: update {step} changed the target network; it changes only "
                f"after updates {period}, {2 * period}, ...")
        previous_target = target
