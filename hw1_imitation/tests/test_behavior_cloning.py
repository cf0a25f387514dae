"""Public tests of behavior_cloning.py and dagger.py (README 3-4): hand-computed values for every TODO."""
import math

import numpy as np
import pytest
import torch

from common.rollouts import Trajectory
from hw1_imitation.behavior_cloning import BCPolicy, bc_loss, observation_stats, train_bc
from hw1_imitation.dagger import aggregate, relabel_with_expert
from hw1_imitation.experts import Dataset

LOG_2PI = math.log(2 * math.pi)
torch.set_num_threads(1)


def constant_policy(mean, log_std, obs_dim: int = 3) -> BCPolicy:
    """A BCPolicy whose mean is `mean` in every state: zero weights, the mean as the last bias."""
    policy = BCPolicy(obs_dim, len(mean), hidden_sizes=(8,))
    with torch.no_grad():
        for parameter in policy.mean_net.parameters():
            parameter.zero_()
        policy.mean_net[-1].bias.copy_(torch.tensor(mean))
        policy.log_std.copy_(torch.tensor(log_std))
    return policy


def linear_policy(weight, bias, obs_mean, obs_std) -> BCPolicy:
    """A BCPolicy whose mean is weight @ ((s - obs_mean) / obs_std) + bias (one linear layer, no hidden layer)."""
    weight = torch.tensor(weight, dtype=torch.float32)
    policy = BCPolicy(weight.shape[1], weight.shape[0], hidden_sizes=(), obs_mean=obs_mean, obs_std=obs_std)
    with torch.no_grad():
        policy.mean_net[0].weight.copy_(weight)
        policy.mean_net[0].bias.copy_(torch.tensor(bias))
    return policy


class LinearExpert:
    """A stand-in for the expert: act(s) = s @ W (numpy in, numpy out)."""

    def __init__(self, weight):
        self.weight = np.asarray(weight, dtype=np.float32)

    def act(self, observations):
        return np.asarray(observations, dtype=np.float32) @ self.weight


def trajectory(observations, actions) -> Trajectory:
    observations, actions = np.asarray(observations, np.float32), np.asarray(actions, np.float32)
    n = len(observations)
    terminated = np.zeros(n, bool)
    terminated[-1] = True
    return Trajectory(observations, actions, np.zeros(n, np.float32), observations + 1, terminated, np.zeros(n, bool))


# --- bc_loss (README 3.1) ----------------------------------------------------------------------------

def test_bc_loss_at_the_mean_of_a_standard_gaussian():
    # a = mu, sigma = 1 in 2 dimensions: log pi = -log(2 pi), so the loss is +log(2 pi)
    policy = constant_policy([0.5, -1.0], [0.0, 0.0])
    loss = bc_loss(policy, torch.zeros(4, 3), torch.tensor([[0.5, -1.0]] * 4))
    assert loss.shape == (), "bc_loss returns a scalar (0-dim) tensor: the mean over the batch"
    np.testing.assert_allclose(loss.item(), LOG_2PI, rtol=1e-6)


def test_bc_loss_sums_over_action_dimensions_and_averages_over_the_batch():
    # sigma = (1, e): per dimension -(a - mu)^2 / (2 sigma^2) - log sigma - log(2 pi) / 2
    policy = constant_policy([0.0, 0.0], [0.0, 1.0])
    actions = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    first = -0.5 - 0.0 - LOG_2PI / 2 + (0.0 - 1.0 - LOG_2PI / 2)
    second = (0.0 - LOG_2PI / 2) + (-4.0 / (2 * math.e ** 2) - 1.0 - LOG_2PI / 2)
    loss = bc_loss(policy, torch.zeros(2, 3), actions)
    np.testing.assert_allclose(loss.item(), -(first + second) / 2, rtol=1e-6)


def test_bc_loss_depends_on_the_expert_actions_and_has_gradients():
    policy = constant_policy([0.0], [0.0], obs_dim=2)
    near = bc_loss(policy, torch.zeros(1, 2), torch.tensor([[0.1]]))
    far = bc_loss(policy, torch.zeros(1, 2), torch.tensor([[3.0]]))
    np.testing.assert_allclose(far.item() - near.item(), (9.0 - 0.01) / 2, rtol=1e-5)
    far.backward()
    assert policy.log_std.grad is not None and policy.mean_net[-1].bias.grad is not None, (
        "the loss must be differentiable in the mean network and in log_std")
    # d/d mu of (a - mu)^2 / 2 at a = 3, mu = 0 is -3
    np.testing.assert_allclose(policy.mean_net[-1].bias.grad.numpy(), [-3.0], rtol=1e-5)


# --- BCPolicy.act (README 3.2) ----------------------------------------------------------------------

def test_act_is_the_mean_of_the_normalized_linear_policy():
    policy = linear_policy([[1.0, 2.0]], [0.5], obs_mean=[1.0, -1.0], obs_std=[2.0, 0.5])
    policy.log_std.data.fill_(1.0)  # a wide Gaussian: a sample would be far from the mean
    observations = np.array([[3.0, -1.0], [1.0, 0.0]])
    # ((3 - 1) / 2, 0) -> 1 + 0 + 0.5 = 1.5;  (0, (0 + 1) / 0.5) -> 0 + 4 + 0.5 = 4.5
    for _ in range(3):  # the same answer every time: no sampling
        got = policy.act(observations)
        assert isinstance(got, np.ndarray) and got.shape == (2, 1), "act returns a numpy array (N, act_dim)"
        np.testing.assert_allclose(got, [[1.5], [4.5]], rtol=1e-6)


# --- train_bc (README 3.3) --------------------------------------------------------------------------

def test_train_bc_takes_one_sgd_step_on_the_drawn_minibatch():
    # one SGD step of lr 0.1 on a constant policy: mu <- mu - 0.1 * dL/dmu, dL/dmu = -mean_i (a_i - mu) / sigma^2
    policy = constant_policy([0.0], [0.0], obs_dim=1)
    dataset = Dataset(np.zeros((4, 1), np.float32), np.array([[1.0], [2.0], [3.0], [4.0]], np.float32))
    index = np.random.default_rng(7).integers(4, size=3)
    expected_mu = 0.1 * dataset.actions[index, 0].mean()
    loss = train_bc(policy, torch.optim.SGD(policy.parameters(), lr=0.1), dataset, 1, 3, np.random.default_rng(7))
    np.testing.assert_allclose(policy.mean_net[-1].bias.item(), expected_mu, rtol=1e-5)
    expected_loss = np.mean(dataset.actions[index, 0] ** 2 / 2 + LOG_2PI / 2)
    assert isinstance(loss, float), "train_bc returns the mean loss as a Python float"
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)


def test_train_bc_fits_a_linear_expert():
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(500, 3)).astype(np.float32)
    weight = np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 1.5]], np.float32)
    dataset = Dataset(observations, observations @ weight)
    torch.manual_seed(0)
    policy = BCPolicy(3, 2, hidden_sizes=(32,), obs_mean=np.zeros(3), obs_std=np.ones(3))
    optimizer = torch.optim.Adam(policy.parameters(), lr=2e-2)
    first = train_bc(policy, optimizer, dataset, 10, 64, rng)
    last = train_bc(policy, optimizer, dataset, 400, 64, rng)
    assert last < first, "the loss must go down as training goes on"
    error = np.abs(policy.act(observations[:50]) - dataset.actions[:50]).mean()
    assert error < 0.15, f"after 410 Adam steps the mean action is {error:.3f} from the expert's on average"


def test_observation_stats_floor_the_std():
    mean, std = observation_stats(np.array([[1.0, 5.0], [3.0, 5.0]]))
    np.testing.assert_allclose(mean, [2.0, 5.0])
    np.testing.assert_allclose(std, [1.0, 1e-3])


# --- relabel_with_expert (README 4.1) ---------------------------------------------------------------

def test_relabel_keeps_the_learner_states_and_takes_the_expert_actions():
    expert = LinearExpert([[1.0], [10.0]])
    first = trajectory([[1, 0], [0, 1]], [[-5.0], [-5.0]])       # the learner's own actions: never kept
    second = trajectory([[2, 2]], [[-7.0]])
    data = relabel_with_expert([first, second], expert)
    assert isinstance(data, Dataset), "relabel_with_expert returns a Dataset"
    np.testing.assert_allclose(data.observations, [[1, 0], [0, 1], [2, 2]])
    np.testing.assert_allclose(data.actions, [[1.0], [10.0], [22.0]])


# --- aggregate (README 4.2) ---------------------------------------------------------------------------

def test_aggregate_keeps_the_old_pairs_first_then_the_new():
    old = Dataset(np.array([[0.0], [1.0]]), np.array([[10.0], [11.0]]))
    new = Dataset(np.array([[2.0]]), np.array([[12.0]]))
    data = aggregate(old, new)
    np.testing.assert_allclose(data.observations, [[0.0], [1.0], [2.0]])
    np.testing.assert_allclose(data.actions, [[10.0], [11.0], [12.0]])
    assert len(old) == 2 and len(new) == 1, "aggregate leaves its inputs unchanged"
