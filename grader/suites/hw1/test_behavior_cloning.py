"""Hidden tests of behavior_cloning.py (README 3) and dagger.py (README 4): values against the reference on fresh inputs."""
import numpy as np
import torch

from grader.harness.api import assert_close, check_array, check_float, points
from hw1_imitation import behavior_cloning as reference
from hw1_imitation import dagger as reference_dagger
from hw1_imitation.experts import Dataset, ExpertPolicy

BC = "hw1_imitation.behavior_cloning"
DAGGER = "hw1_imitation.dagger"


def random_policy(submission, rng, hidden_sizes=None):
    """The same random BCPolicy (weights, log_std, observation normalization) here and in the worker."""
    obs_dim, act_dim = int(rng.integers(2, 12)), int(rng.integers(1, 7))
    hidden = [int(rng.integers(4, 33)) for _ in range(int(rng.integers(1, 3)))] if hidden_sizes is None else hidden_sizes
    mean, std = rng.normal(0, 3, obs_dim), rng.uniform(0.2, 4, obs_dim)
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = reference.BCPolicy(obs_dim, act_dim, hidden, "tanh", mean, std)
    with torch.no_grad():
        local.log_std.copy_(torch.as_tensor(rng.uniform(-1.5, 0.5, act_dim), dtype=torch.float32))
    student = submission.new(f"{BC}.BCPolicy", obs_dim, act_dim, hidden, "tanh", mean, std)
    submission.set_state(student, {name: value.detach().numpy().copy() for name, value in local.state_dict().items()})
    return local, student


def random_batch(local, rng, size):
    """Observations around the normalization's mean and actions in the squashed range an expert uses."""
    obs_dim, act_dim = local.obs_mean.shape[0], local.log_std.shape[0]
    observations = local.obs_mean.numpy() + local.obs_std.numpy() * rng.normal(size=(size, obs_dim))
    return observations.astype(np.float32), rng.uniform(-1, 1, (size, act_dim)).astype(np.float32)


def remote_tensor(submission, array):
    return submission.new("torch.as_tensor", np.asarray(array))


def check_state(submission, student, local, what):
    got = submission.get_state(student)
    for name, value in local.state_dict().items():
        expected = value.detach().numpy()
        assert name in got, f"{what}: the policy's state lacks {name} (keep BCPolicy as given)"
        actual = check_array(got[name], f"{what}: parameter {name}", shape=tuple(expected.shape))
        assert_close(actual, expected, f"{what}: parameter {name}", rtol=1e-4, atol=1e-5)


# --- bc_loss (README 3.1) ----------------------------------------------------------------------------

@points(2, part="behavior_cloning")
def test_mujoco_bc_loss_matches_reference(submission, rng):
    """bc_loss of a random policy on a random batch of expert actions"""
    local, student = random_policy(submission, rng)
    observations, actions = random_batch(local, rng, int(rng.integers(5, 60)))
    got = check_float(submission.call(f"{BC}.bc_loss", student, remote_tensor(submission, observations),
                                      remote_tensor(submission, actions)), "bc_loss")
    with torch.no_grad():
        expected = reference.bc_loss(local, torch.as_tensor(observations), torch.as_tensor(actions)).item()
    assert_close(got, expected, "bc_loss", rtol=1e-4, atol=1e-5)


@points(2, part="behavior_cloning")
def test_mujoco_bc_loss_gradient_step_matches_reference(submission, rng):
    """one SGD step on bc_loss moves the mean network and log_std as the reference's gradient does"""
    local, student = random_policy(submission, rng)
    observations, actions = random_batch(local, rng, int(rng.integers(5, 60)))
    learning_rate = float(rng.uniform(0.01, 0.1))
    optimizer = submission.new("torch.optim.SGD", student.new_from("parameters"), lr=learning_rate)
    loss = submission.new(f"{BC}.bc_loss", student, remote_tensor(submission, observations),
                          remote_tensor(submission, actions))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    local_optimizer = torch.optim.SGD(local.parameters(), lr=learning_rate)
    local_optimizer.zero_grad()
    reference.bc_loss(local, torch.as_tensor(observations), torch.as_tensor(actions)).backward()
    local_optimizer.step()
    check_state(submission, student, local, "after one SGD step on bc_loss")


# --- BCPolicy.act (README 3.2) ----------------------------------------------------------------------

@points(1.5, part="behavior_cloning")
def test_mujoco_policy_acts_with_its_mean(submission, rng):
    """act of a random policy with a wide Gaussian: the mean mu_theta(s), the same on every call"""
    local, student = random_policy(submission, rng)
    observations, _ = random_batch(local, rng, int(rng.integers(3, 40)))
    with torch.no_grad():
        expected = local(torch.as_tensor(observations)).numpy()
    for call in range(2):
        got = check_array(submission.act(student, observations), "BCPolicy.act", shape=expected.shape)
        assert_close(got, expected, f"BCPolicy.act (call {call + 1})", rtol=1e-4, atol=1e-5)


@points(1.5, part="behavior_cloning")
def test_mujoco_policy_act_uses_the_observation_normalization(submission, rng):
    """act of the experiments' network (64, 64) on one observation far from the normalization's mean"""
    local, student = random_policy(submission, rng, hidden_sizes=[64, 64])
    observations, _ = random_batch(local, rng, 1)
    observations = observations + 3 * local.obs_std.numpy()
    with torch.no_grad():
        expected = local(torch.as_tensor(observations)).numpy()
    got = check_array(submission.act(student, observations), "BCPolicy.act", shape=expected.shape)
    assert_close(got, expected, "BCPolicy.act", rtol=1e-4, atol=1e-5)


# --- train_bc (README 3.3) --------------------------------------------------------------------------

def check_train_bc(submission, rng, optimizer_name: str, calls: int):
    local, student = random_policy(submission, rng)
    size = int(rng.integers(20, 80))
    observations, actions = random_batch(local, rng, size)
    batch_size, learning_rate = int(rng.integers(4, size // 2)), float(rng.uniform(1e-3, 3e-2))
    seed = int(rng.integers(1 << 30))
    optimizer = submission.new(f"torch.optim.{optimizer_name}", student.new_from("parameters"), lr=learning_rate)
    local_optimizer = getattr(torch.optim, optimizer_name)(local.parameters(), lr=learning_rate)
    dataset = submission.new("hw1_imitation.experts.Dataset", observations, actions)
    generator, local_generator = submission.new("numpy.random.default_rng", seed), np.random.default_rng(seed)
    for call in range(calls):  # the optimizer (Adam's moments) and the rng go on between calls
        num_steps = int(rng.integers(2, 5))  # at least 2: gradients left over from a step must show
        got = check_float(submission.call(f"{BC}.train_bc", student, optimizer, dataset, num_steps, batch_size,
                                          generator), "train_bc's return value")
        expected = reference.train_bc(local, local_optimizer, Dataset(observations, actions), num_steps, batch_size,
                                      local_generator)
        assert_close(got, expected, f"train_bc's mean loss (call {call + 1}, {num_steps} steps)", rtol=1e-4, atol=1e-5)
    check_state(submission, student, local, f"after {calls} calls of train_bc ({optimizer_name})")


@points(1.5, part="behavior_cloning")
def test_train_bc_with_sgd_matches_reference(submission, rng):
    """train_bc with SGD: the drawn minibatches, the steps and the mean loss"""
    check_train_bc(submission, rng, "SGD", calls=1)


@points(1.5, part="behavior_cloning")
def test_train_bc_with_adam_twice_in_a_row_matches_reference(submission, rng):
    """train_bc called twice with the same Adam optimizer and rng (as DAgger does)"""
    check_train_bc(submission, rng, "Adam", calls=2)


# --- relabel_with_expert (README 4.1) ---------------------------------------------------------------

def random_expert(submission, rng, obs_dim, act_dim):
    """The same random ExpertPolicy here and in the worker, with a random action box."""
    low = -rng.uniform(0.2, 2, act_dim)
    high = rng.uniform(0.2, 2, act_dim)
    hidden = [int(rng.integers(4, 33))]
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = ExpertPolicy(obs_dim, act_dim, hidden, low, high)
    student = submission.new("hw1_imitation.experts.ExpertPolicy", obs_dim, act_dim, hidden, low, high)
    submission.set_state(student, {name: value.detach().numpy().copy() for name, value in local.state_dict().items()})
    return local, student


def learner_trajectories(rng, obs_dim, act_dim, lengths):
    """Episodes as the learner plays them (its own actions), ending terminated or truncated."""
    from common.rollouts import Trajectory

    trajectories = []
    for length in lengths:
        observations = rng.normal(size=(length + 1, obs_dim)).astype(np.float32)
        terminated, truncated = np.zeros(length, bool), np.zeros(length, bool)
        (terminated if rng.random() < 0.5 else truncated)[-1] = True
        trajectories.append(Trajectory(observations[:-1], rng.uniform(-1, 1, (length, act_dim)).astype(np.float32),
                                       rng.normal(size=length).astype(np.float32), observations[1:], terminated, truncated))
    return trajectories


def check_relabel(submission, rng, lengths):
    obs_dim, act_dim = int(rng.integers(2, 10)), int(rng.integers(1, 6))
    local, student = random_expert(submission, rng, obs_dim, act_dim)
    trajectories = learner_trajectories(rng, obs_dim, act_dim, lengths)
    remote = [submission.new("common.rollouts.Trajectory", **vars(t)) for t in trajectories]
    data = submission.new(f"{DAGGER}.relabel_with_expert", remote, student)
    expected = reference_dagger.relabel_with_expert(trajectories, local)
    n = sum(lengths)
    got_obs = check_array(data.attr("observations"), "relabel_with_expert(...).observations", shape=(n, obs_dim))
    got_act = check_array(data.attr("actions"), "relabel_with_expert(...).actions", shape=(n, act_dim))
    assert_close(got_obs, expected.observations, "relabel_with_expert(...).observations (the learner's states, in order)")
    assert_close(got_act, expected.actions, "relabel_with_expert(...).actions (the expert's actions)", rtol=1e-4, atol=1e-5)


@points(2.5, part="dagger")
def test_relabel_with_expert_matches_reference(submission, rng):
    """relabel_with_expert on a few learner episodes of random lengths"""
    check_relabel(submission, rng, [int(n) for n in rng.integers(5, 40, size=int(rng.integers(2, 4)))])


@points(2.5, part="dagger")
def test_relabel_with_expert_on_many_short_episodes(submission, rng):
    """relabel_with_expert on many short episodes (a learner that falls at once, as BC on Hopper does)"""
    check_relabel(submission, rng, [int(n) for n in rng.integers(1, 6, size=int(rng.integers(5, 12)))])


# --- aggregate (README 4.2) ---------------------------------------------------------------------------

def random_dataset(rng, size, obs_dim, act_dim):
    return Dataset(rng.normal(size=(size, obs_dim)), rng.uniform(-1, 1, (size, act_dim)))


def check_dataset(data, expected, what):
    got_obs = check_array(data.attr("observations"), f"{what}.observations", shape=expected.observations.shape)
    got_act = check_array(data.attr("actions"), f"{what}.actions", shape=expected.actions.shape)
    assert_close(got_obs, expected.observations, f"{what}.observations")
    assert_close(got_act, expected.actions, f"{what}.actions")


@points(2.5, part="dagger")
def test_aggregate_matches_reference(submission, rng):
    """aggregate of a dataset and new pairs: the old pairs first, then the new"""
    obs_dim, act_dim = int(rng.integers(2, 10)), int(rng.integers(1, 6))
    old = random_dataset(rng, int(rng.integers(5, 50)), obs_dim, act_dim)
    new = random_dataset(rng, int(rng.integers(5, 50)), obs_dim, act_dim)
    data = submission.new(f"{DAGGER}.aggregate", submission.new("hw1_imitation.experts.Dataset", old.observations, old.actions),
                          submission.new("hw1_imitation.experts.Dataset", new.observations, new.actions))
    check_dataset(data, reference_dagger.aggregate(old, new), "aggregate(dataset, new_data)")


@points(2.5, part="dagger")
def test_aggregate_three_iterations_keeps_every_pair(submission, rng):
    """three DAgger iterations of aggregate in a row: every pair of every iteration stays, the inputs unchanged"""
    obs_dim, act_dim = int(rng.integers(2, 10)), int(rng.integers(1, 6))
    parts = [random_dataset(rng, int(rng.integers(3, 30)), obs_dim, act_dim) for _ in range(4)]
    remote = [submission.new("hw1_imitation.experts.Dataset", p.observations, p.actions) for p in parts]
    data, expected = remote[0], parts[0]
    for part, remote_part in zip(parts[1:], remote[1:]):
        data = submission.new(f"{DAGGER}.aggregate", data, remote_part)
        expected = reference_dagger.aggregate(expected, part)
    check_dataset(data, expected, "aggregate after three iterations")
    check_dataset(remote[1], parts[1], "the new_data given to aggregate (it must stay unchanged)")
