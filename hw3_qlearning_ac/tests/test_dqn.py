"""Public tests of schedules.py and dqn.py: tiny cases whose answers you can work out on paper."""
import numpy as np
import pytest
import torch

from common.rollouts import Transitions
from hw3_qlearning_ac.dqn import (DQNAgent, DQNConfig, boltzmann_policy, dqn_target, epsilon_greedy,
                                  huber_td_loss, q_values_of_actions, soft_q_target)
from hw3_qlearning_ac.schedules import linear_schedule


def tensor(values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype)


# --- linear_schedule (README 2.1) ------------------------------------------------------------


def test_linear_schedule_moves_in_a_straight_line_then_stays():
    assert linear_schedule(0, 1.0, 0.1, 1000) == pytest.approx(1.0)
    assert linear_schedule(250, 1.0, 0.0, 1000) == pytest.approx(0.75)
    assert linear_schedule(500, 1.0, 0.1, 1000) == pytest.approx(0.55)
    assert linear_schedule(1000, 1.0, 0.1, 1000) == pytest.approx(0.1)
    assert linear_schedule(5000, 1.0, 0.1, 1000) == pytest.approx(0.1)  # never past the end value


# --- epsilon_greedy (README 2.2) -------------------------------------------------------------


def test_epsilon_greedy_with_epsilon_zero_is_the_argmax_of_each_row():
    q_values = np.array([[1.0, 3.0, 2.0], [5.0, 0.0, -1.0], [0.0, 0.0, 7.0]])
    actions = epsilon_greedy(q_values, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(actions, [1, 0, 2])
    assert actions.dtype == np.int64


def test_epsilon_greedy_with_epsilon_one_is_uniform_over_actions():
    q_values = np.tile([0.0, 10.0, 0.0, 0.0], (20_000, 1))  # action 1 is greedy everywhere
    actions = epsilon_greedy(q_values, 1.0, np.random.default_rng(0))
    frequencies = np.bincount(actions, minlength=4) / len(actions)
    np.testing.assert_allclose(frequencies, 0.25, atol=0.015)


def test_epsilon_greedy_picks_the_greedy_action_with_probability_one_minus_epsilon_plus_share():
    q_values = np.tile([0.0, 10.0, 0.0, 0.0], (20_000, 1))
    actions = epsilon_greedy(q_values, 0.4, np.random.default_rng(1))
    # greedy: 1 - 0.4 + 0.4 / 4 = 0.7; each other action 0.4 / 4 = 0.1
    np.testing.assert_allclose(np.bincount(actions, minlength=4) / len(actions), [0.1, 0.7, 0.1, 0.1], atol=0.015)


# --- q_values_of_actions (README 2.3) --------------------------------------------------------


def test_q_values_of_actions_takes_the_taken_action_of_each_row():
    q_values = tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float32).requires_grad_()
    taken = q_values_of_actions(q_values, tensor([2, 0], dtype=torch.int64))
    np.testing.assert_allclose(taken.detach().numpy(), [3.0, 4.0])
    assert taken.shape == (2,)
    taken.sum().backward()  # the gradient reaches exactly the chosen entries
    np.testing.assert_allclose(q_values.grad.numpy(), [[0, 0, 1], [1, 0, 0]])


def test_q_values_of_actions_with_as_many_rows_as_actions_uses_the_action_axis():
    # a square (3, 3) case: gathering along the batch axis would give [Q[1,0], Q[0,1], Q[2,2]] = [3, 1, 8]
    q_values = tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    taken = q_values_of_actions(q_values, tensor([1, 0, 2], dtype=torch.int64))
    np.testing.assert_allclose(taken.numpy(), [1.0, 3.0, 8.0])


# --- dqn_target (README 2.4) -----------------------------------------------------------------


def test_dqn_target_is_reward_plus_discounted_max_of_the_target_network():
    rewards, terminated = tensor([1.0, 0.5]), tensor([False, False], dtype=torch.bool)
    next_q_target = tensor([[2.0, 4.0], [-1.0, -3.0]])
    y = dqn_target(rewards, terminated, next_q_target, gamma=0.5)
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.5 * 4.0, 0.5 + 0.5 * -1.0])
    assert not y.requires_grad


def test_dqn_target_does_not_bootstrap_from_a_terminal_state():
    y = dqn_target(tensor([1.0, 1.0]), tensor([True, False], dtype=torch.bool), tensor([[10.0, 20.0], [10.0, 20.0]]),
                   gamma=0.9)
    np.testing.assert_allclose(y.numpy(), [1.0, 1.0 + 0.9 * 20.0])


def test_double_dqn_target_picks_with_the_online_network_and_values_with_the_target_network():
    next_q_target = tensor([[1.0, 5.0, 3.0]])
    next_q_online = tensor([[9.0, 0.0, 2.0]])  # the online network prefers action 0
    y = dqn_target(tensor([0.0]), tensor([False], dtype=torch.bool), next_q_target, gamma=1.0,
                   next_q_online=next_q_online)
    np.testing.assert_allclose(y.numpy(), [1.0])  # Q_target(s', 0), not max Q_target = 5, not max Q_online = 9


def test_target_gradients_do_not_flow_into_the_networks():
    next_q = tensor([[1.0, 2.0]]).requires_grad_()
    assert not dqn_target(tensor([0.0]), tensor([False], dtype=torch.bool), next_q, 0.9).requires_grad
    assert not dqn_target(tensor([0.0]), tensor([False], dtype=torch.bool), next_q, 0.9, next_q).requires_grad
    assert not soft_q_target(tensor([0.0]), tensor([False], dtype=torch.bool), next_q, 0.9, 1.0).requires_grad


# --- huber_td_loss (README 2.5) --------------------------------------------------------------


def test_huber_loss_is_quadratic_inside_delta_and_linear_outside():
    q_taken = tensor([0.5, 3.0, -2.0])
    targets = tensor([0.0, 0.0, 0.0])
    # 0.5^2 / 2 = 0.125; 1 * (3 - 0.5) = 2.5; 1 * (2 - 0.5) = 1.5; mean = 4.125 / 3
    assert huber_td_loss(q_taken, targets).item() == pytest.approx(4.125 / 3)
    # delta = 2: 0.125; 2 * (3 - 1) = 4; 2^2 / 2 = 2; mean = 6.125 / 3
    assert huber_td_loss(q_taken, targets, delta=2.0).item() == pytest.approx(6.125 / 3)


def test_huber_loss_treats_targets_as_constants():
    q_taken, targets = tensor([1.0]).requires_grad_(), tensor([0.0]).requires_grad_()
    huber_td_loss(q_taken, targets).backward()
    assert q_taken.grad.item() == pytest.approx(1.0)
    assert targets.grad is None or targets.grad.item() == 0.0


# --- the agent: compute_targets (README 2.6) and update (README 2.7) --------------------------


def linear_agent(**config) -> DQNAgent:
    """A DQN agent whose Q-network is one linear layer Q(s, .) = W s + b, set by hand."""
    agent = DQNAgent(obs_shape=(2,), num_actions=2, config=DQNConfig(hidden_sizes=(), **config))
    layer = agent.q_network.net[0]
    with torch.no_grad():
        layer.weight.copy_(tensor([[1.0, 0.0], [0.0, 1.0]]))  # Q(s, 0) = s[0], Q(s, 1) = s[1]
        layer.bias.zero_()
    agent.target_network.load_state_dict(agent.q_network.state_dict())
    return agent


def one_transition(next_observation, terminated=False, truncated=False, reward=1.0) -> Transitions:
    return Transitions(observations=np.array([[1.0, 2.0]], dtype=np.float32), actions=np.array([1]),
                       rewards=np.array([reward], dtype=np.float32),
                       next_observations=np.array([next_observation], dtype=np.float32),
                       terminated=np.array([terminated]), truncated=np.array([truncated]))


def test_compute_targets_uses_the_target_network():
    agent = linear_agent(gamma=0.5)
    with torch.no_grad():
        agent.q_network.net[0].weight.mul_(100.0)  # only the online network changes
    y = agent.compute_targets(tensor([1.0]), tensor([[4.0, 6.0]]), tensor([False], dtype=torch.bool))
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.5 * 6.0])


def test_compute_targets_for_double_dqn_lets_the_online_network_choose():
    agent = linear_agent(gamma=0.5, double_q=True)
    with torch.no_grad():  # online: Q(s, 0) = s[1], Q(s, 1) = s[0], so it prefers action 0 at s' = (4, 6)
        agent.q_network.net[0].weight.copy_(tensor([[0.0, 1.0], [1.0, 0.0]]))
    y = agent.compute_targets(tensor([1.0]), tensor([[4.0, 6.0]]), tensor([False], dtype=torch.bool))
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.5 * 4.0])  # target network's Q(s', 0) = 4


def test_compute_targets_for_soft_q_learning_uses_the_soft_max():
    agent = linear_agent(gamma=0.5, alpha=2.0)
    y = agent.compute_targets(tensor([1.0]), tensor([[4.0, 6.0]]), tensor([False], dtype=torch.bool))
    soft_max = 2.0 * np.log(np.exp(4.0 / 2.0) + np.exp(6.0 / 2.0))
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.5 * soft_max], rtol=1e-6)


def test_update_masks_terminal_states_but_bootstraps_through_truncation():
    for terminated, truncated, expected_target in [(False, False, 1.0 + 0.5 * 6.0), (True, False, 1.0),
                                                   (False, True, 1.0 + 0.5 * 6.0), (True, True, 1.0)]:
        agent = linear_agent(gamma=0.5)
        metrics = agent.update(one_transition([4.0, 6.0], terminated, truncated))
        assert metrics["target_values"] == pytest.approx(expected_target), (terminated, truncated)
        assert metrics["q_values"] == pytest.approx(2.0)  # Q(s, a=1) = s[1] = 2 before the step


def test_update_takes_one_clipped_gradient_step_on_the_huber_loss():
    agent = linear_agent(gamma=0.5, learning_rate=0.1, max_grad_norm=0.5)
    before = agent.q_network.net[0].weight.detach().clone()
    metrics = agent.update(one_transition([0.0, 0.0], terminated=True, reward=10.0))
    # TD error Q - y = 2 - 10 = -8: Huber loss 1 * (8 - 0.5) = 7.5, gradient -1 * s for row 1 and -1 for its bias
    assert metrics["q_loss"] == pytest.approx(7.5)
    assert metrics["grad_norm"] == pytest.approx(np.sqrt(1.0 + 4.0 + 1.0), rel=1e-5)  # before clipping
    changed = (agent.q_network.net[0].weight - before).abs()
    assert changed[0].sum() == 0  # action 0 was not taken: its row gets no gradient
    assert changed[1].sum() > 0


def test_clipping_limits_the_gradient_norm():
    agent = linear_agent(max_grad_norm=0.5)
    agent.update(one_transition([0.0, 0.0], terminated=True, reward=10.0))
    # Adam normalises step sizes, so check the clipped gradient itself
    grads = [p.grad for p in agent.q_network.parameters()]
    assert torch.sqrt(sum((g ** 2).sum() for g in grads)).item() == pytest.approx(0.5, rel=1e-5)


def test_the_target_network_is_copied_every_target_update_period_gradient_steps():
    agent = linear_agent(target_update_period=3, learning_rate=0.1)
    target_before = agent.target_network.net[0].weight.detach().clone()
    for step in range(1, 7):
        agent.update(one_transition([0.0, 0.0], terminated=True, reward=10.0))
        target, online = agent.target_network.net[0].weight, agent.q_network.net[0].weight
        if step % 3 == 0:
            assert torch.equal(target, online), f"after {step} updates the target network must equal the online one"
        else:
            assert not torch.equal(target, online), f"after {step} updates the target network must not move yet"
        if step < 3:
            assert torch.equal(target, target_before)
    assert agent.num_updates == 6


def test_the_optimizer_does_not_train_the_target_network():
    agent = linear_agent()
    trained = {id(p) for group in agent.optimizer.param_groups for p in group["params"]}
    assert not trained & {id(p) for p in agent.target_network.parameters()}


def test_agent_acts_greedily_when_deterministic():
    agent = linear_agent()
    actions = agent.get_action(np.array([[1.0, 2.0], [3.0, -1.0]], dtype=np.float32), deterministic=True)
    np.testing.assert_array_equal(actions, [1, 0])
