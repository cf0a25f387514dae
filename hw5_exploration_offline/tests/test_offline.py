"""Public tests of the offline parts: CQL (cql.py), AWAC (awac.py), IQL (iql.py) and the start of
fine-tuning (offline_training.start_online_phase), on hand-computed cases."""
import math

import numpy as np
import pytest
import torch

from common.replay_buffer import ReplayBuffer
from hw3_qlearning_ac.dqn import DQNConfig
from hw5_exploration_offline.awac import (AWACAgent, AWACConfig, awac_advantages, awac_q_target, awac_weights,
                                          weighted_actor_loss)
from hw5_exploration_offline.cql import CQLAgent, OfflineDQNAgent, cql_loss, cql_regularizer
from hw5_exploration_offline.iql import IQLAgent, IQLConfig, expectile_loss, iql_q_target, iql_value_loss
from hw5_exploration_offline.offline_training import start_online_phase, train_offline

SMALL = DQNConfig(hidden_sizes=(16,), batch_size=8, target_update_period=2)


# --------------------------------------------------------------------------------------------- CQL


def test_cql_regularizer_is_logsumexp_minus_the_dataset_q():
    q_values = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    actions = torch.tensor([0, 1])
    # row 0: log(e^1 + e^2) - Q(s, a=0) = 2.3133 - 1; row 1: log 2 - 0 (equal Q-values give log A)
    expected = ((math.log(math.e + math.e**2) - 1.0) + math.log(2.0)) / 2
    assert cql_regularizer(q_values, actions).item() == pytest.approx(expected, rel=1e-6)


def test_cql_regularizer_pushes_the_largest_q_down_and_the_dataset_q_up():
    q_values = torch.tensor([[0.0, math.log(3.0)]], requires_grad=True)  # softmax (1/4, 3/4)
    cql_regularizer(q_values, torch.tensor([0])).backward()
    # d/dQ = softmax(Q) - onehot(a): the dataset action's Q goes up, the other (larger) one down
    np.testing.assert_allclose(q_values.grad.numpy(), [[0.25 - 1.0, 0.75]], rtol=1e-6)


def test_cql_regularizer_is_stable_for_large_q_values():
    q_values = torch.tensor([[1000.0, 1000.0, 1000.0]])
    assert cql_regularizer(q_values, torch.tensor([2])).item() == pytest.approx(math.log(3.0), abs=1e-3)  # float32 at 1000


def test_cql_loss_adds_alpha_times_the_regularizer_to_the_huber_td_loss():
    q_values = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    actions = torch.tensor([0, 1])
    targets = torch.tensor([0.5, 3.0])
    # TD errors 0.5 and -3: huber 0.125 and 2.5 (delta 1), mean 1.3125
    regularizer = ((math.log(math.e + math.e**2) - 1.0) + math.log(2.0)) / 2
    assert cql_loss(q_values, actions, targets, alpha=0.0).item() == pytest.approx(1.3125, rel=1e-6)
    assert cql_loss(q_values, actions, targets, alpha=2.0).item() == pytest.approx(1.3125 + 2 * regularizer, rel=1e-6)


def _batch(rng, n=8, terminal_every=4):
    from common.rollouts import Transitions

    terminated = np.arange(n) % terminal_every == terminal_every - 1
    return Transitions(rng.random((n, 2), dtype=np.float32), rng.integers(0, 4, n), np.where(terminated, 0.0, -1.0),
                       rng.random((n, 2), dtype=np.float32), terminated, np.zeros(n, dtype=bool))


def test_cql_agent_with_alpha_zero_takes_the_same_step_as_offline_dqn():
    batch = _batch(np.random.default_rng(0))
    agents = []
    for make in (lambda: CQLAgent((2,), 4, SMALL, alpha=0.0), lambda: OfflineDQNAgent((2,), 4, SMALL)):
        torch.manual_seed(0)
        agent = make()
        agent.update(batch)
        agents.append(agent)
    for (name, a), (_, b) in zip(agents[0].dqn.state_dict().items(), agents[1].dqn.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


# --------------------------------------------------------------------------------------------- AWAC


def test_awac_q_target_takes_the_actor_expectation_and_stops_at_terminals():
    rewards = torch.tensor([-1.0, 0.0])
    terminated = torch.tensor([False, True])
    next_q = torch.tensor([[-2.0, -4.0], [5.0, 5.0]])
    probs = torch.tensor([[0.25, 0.75], [0.5, 0.5]])
    # row 0: -1 + 0.5 * (0.25 * -2 + 0.75 * -4) = -1 + 0.5 * -3.5 = -2.75; row 1: terminal, 0
    targets = awac_q_target(rewards, terminated, next_q, probs, gamma=0.5)
    np.testing.assert_allclose(targets.numpy(), [-2.75, 0.0])


def test_awac_advantages_subtract_the_actors_value():
    q_values = torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    probs = torch.tensor([[0.5, 0.5], [0.9, 0.1]])
    # V = (2, 2); A = Q(s, a) - V: row 0 action 1: 3 - 2; row 1 action 0: 0
    np.testing.assert_allclose(awac_advantages(q_values, torch.tensor([1, 0]), probs).numpy(), [1.0, 0.0])


def test_awac_weights_exponentiate_then_clip():
    advantages = torch.tensor([0.0, -2.0, 1.0, 10.0, 1e6])
    weights = awac_weights(advantages, temperature=2.0, max_weight=20.0)
    # exp(A / 2): 1, e^-1, e^0.5, e^5 = 148 -> 20, inf -> 20
    np.testing.assert_allclose(weights.numpy(), [1.0, math.exp(-1.0), math.exp(0.5), 20.0, 20.0], rtol=1e-6)


def test_weighted_actor_loss_is_the_mean_weighted_negative_log_likelihood():
    logits = torch.zeros(2, 2, requires_grad=True)  # pi = (1/2, 1/2): log pi(a|s) = -log 2
    loss = weighted_actor_loss(logits, torch.tensor([0, 1]), torch.tensor([1.0, 3.0]))
    assert loss.item() == pytest.approx((1.0 + 3.0) / 2 * math.log(2.0), rel=1e-6)
    loss.backward()
    # d/dlogits of -w log softmax(a) / B = w (softmax - onehot) / B
    np.testing.assert_allclose(logits.grad.numpy(), [[-0.25, 0.25], [0.75, -0.75]], rtol=1e-6)


# --------------------------------------------------------------------------------------------- IQL


def test_expectile_loss_weights_positive_differences_by_tau():
    diff = torch.tensor([2.0, -1.0, 0.0])
    # tau = 0.8: 0.8 * 4 (Q above V) + 0.2 * 1 (V above Q) + 0, mean over 3
    assert expectile_loss(diff, 0.8).item() == pytest.approx((3.2 + 0.2) / 3, rel=1e-6)
    assert expectile_loss(diff, 0.5).item() == pytest.approx(0.5 * (4 + 1) / 3, rel=1e-6)


def test_iql_value_loss_uses_the_dataset_action_and_trains_only_v():
    values = torch.tensor([1.0, 0.0], requires_grad=True)
    target_q = torch.tensor([[3.0, 10.0], [-1.0, 7.0]], requires_grad=True)
    # dataset actions (0, 0): u = (3 - 1, -1 - 0) = (2, -1); tau 0.9: (0.9 * 4 + 0.1 * 1) / 2
    loss = iql_value_loss(values, target_q, torch.tensor([0, 0]), tau=0.9)
    assert loss.item() == pytest.approx((3.6 + 0.1) / 2, rel=1e-6)
    loss.backward()
    assert target_q.grad is None or torch.all(target_q.grad == 0)
    # dL/dV = -2 |tau - 1(u<0)| u / B = (-2 * 0.9 * 2 / 2, -2 * 0.1 * -1 / 2)
    np.testing.assert_allclose(values.grad.numpy(), [-1.8, 0.1], rtol=1e-6)


def test_iql_q_target_bootstraps_from_v_except_at_terminals():
    targets = iql_q_target(torch.tensor([-1.0, 0.0]), torch.tensor([0.0, 1.0]), torch.tensor([-4.0, -4.0]), gamma=0.9)
    np.testing.assert_allclose(targets.numpy(), [-1.0 + 0.9 * -4.0, 0.0])
    assert not targets.requires_grad


@pytest.mark.parametrize("make", [
    lambda: AWACAgent((2,), 4, SMALL, AWACConfig(actor_hidden_sizes=(16,))),
    lambda: IQLAgent((2,), 4, SMALL, IQLConfig(actor_hidden_sizes=(16,), value_hidden_sizes=(16,))),
], ids=["awac", "iql"])
def test_actor_critic_agents_update_and_act(make):
    torch.manual_seed(0)
    agent = make()
    before = {k: v.clone() for k, v in agent.actor.state_dict().items()}
    metrics = agent.update(_batch(np.random.default_rng(0)))
    assert all(np.isfinite(v) for v in metrics.values())
    assert any(not torch.equal(v, before[k]) for k, v in agent.actor.state_dict().items())
    actions = agent.get_action(np.zeros((3, 2), dtype=np.float32), rng=np.random.default_rng(0))
    assert actions.shape == (3,) and actions.dtype == np.int64 and np.all((0 <= actions) & (actions < 4))


# --------------------------------------------------------------------------------------------- fine-tuning


def test_start_online_phase_keeps_the_agent_and_the_data():
    rng = np.random.default_rng(0)
    dataset = ReplayBuffer(8, (2,), (), action_dtype=np.int64)
    dataset.add_batch(_batch(rng))
    torch.manual_seed(0)
    agent = CQLAgent((2,), 4, SMALL)
    agent.update(_batch(rng))
    weights = {k: v.clone() for k, v in agent.state_dict().items()}
    same_agent, buffer = start_online_phase(agent, dataset, online_env_steps=5)
    assert same_agent is agent and agent.dqn.num_updates == 1
    for name, value in agent.state_dict().items():
        torch.testing.assert_close(value, weights[name], rtol=0, atol=0)
    assert buffer.capacity == 13 and len(buffer) == 8
    for name in ("observations", "actions", "rewards", "next_observations", "terminated", "truncated"):
        np.testing.assert_array_equal(getattr(buffer, name)[:8], getattr(dataset, name)[:8], err_msg=name)
    assert buffer.actions.dtype == np.int64


def test_offline_then_online_run_end_to_end(tmp_path):
    from common.logger import Logger

    config = {"algorithm": "cql", "env_id": "hw5/PointMassEasy-v0",
              "dataset": "hw5_exploration_offline/datasets/pointmass_easy_rnd_20k.npz", "dataset_size": 500,
              "offline_steps": 20, "online_env_steps": 10, "eval_every": 10, "eval_episodes": 1,
              "progress_bar": False, "agent": {"hidden_sizes": [16], "batch_size": 8}}
    with Logger("hw5", "test", "easy", 0, config, root=tmp_path, tensorboard=False) as logger:
        train_offline(config, logger)
        rows = logger.metrics_path.read_text().splitlines()
    header = rows[0].split(",")
    assert {"gradient_steps", "env_steps", "eval_return", "eval_q_estimate", "q_loss"} <= set(header)
    assert [row.split(",")[header.index("gradient_steps")] for row in rows[1:]] == ["0", "10", "20", "30"]


def test_offline_results_average_the_last_evaluations_and_group_by_a_config_key(tmp_path):
    from hw5_exploration_offline import offline_results

    for seed, last_returns in ((0, (-40.0, -30.0, -20.0)), (1, (-100.0, -50.0, -50.0))):
        run = tmp_path / f"cql_medium_hw5-PointMassMedium-v0_{seed}_20261201-120000"
        run.mkdir()
        rows = ["gradient_steps,env_steps,eval_return,eval_success,eval_q_estimate,eval_discounted_return"]
        rows += [f"{i * 10},0,{r},1.0,-5.0,-6.0" for i, r in enumerate((-100.0, *last_returns))]
        (run / "metrics.csv").write_text("\n".join(rows) + "\n")
        (run / "config.yaml").write_text("cql_alpha: 0.1\n")
    results = [offline_results.run_result(run, last=3) for run in sorted(tmp_path.iterdir())]
    assert [r.final["eval_return"] for r in results] == [-30.0, pytest.approx(-200.0 / 3)]
    groups = offline_results.group(results, "cql_alpha")
    assert list(groups) == [0.1] and len(groups[0.1]) == 2
    assert "| 0.1 | 2 | 30 | 0 | -48.3 ± 18.3 |" in offline_results.table(groups, "cql_alpha")
