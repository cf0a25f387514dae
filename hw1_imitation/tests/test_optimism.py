"""Public tests of the variational backup and the optimism problem on the lottery MDP."""
import numpy as np
import pytest

from hw1_imitation import brute_force
from hw1_imitation.lottery_mdp import LOTTERY, START, WORK, lottery_rewards, make_lottery_mdp
from hw1_imitation.optimism import brute_force_check, solve_lottery
from hw1_imitation.soft_value_iteration import backward_messages, exact_backup, soft_optimal_policy, variational_backup
from hw1_imitation.tabular_mdp import TabularMDP, random_mdp

LOG2, LOG3 = np.log(2.0), np.log(3.0)


# --- variational_backup (README 8.1) -----------------------------------------------------------

def test_variational_backup_of_a_hand_computed_case():
    transitions = np.full((2, 1, 2), 0.5)
    q_values = variational_backup(np.array([[1.0], [0.0]]), transitions, np.array([0.0, LOG3]))
    np.testing.assert_allclose(q_values, [[1.0 + 0.5 * LOG3], [0.5 * LOG3]])  # r + E[V'], not log E[exp V']


def test_variational_backup_of_every_state_action_pair():
    rng = np.random.default_rng(0)
    mdp = random_mdp(4, 3, 2, rng)
    rewards, next_values = rng.normal(size=(4, 3)), rng.normal(size=4) * 3
    expected = [[rewards[s, a] + mdp.transitions[s, a] @ next_values for a in range(3)] for s in range(4)]
    np.testing.assert_allclose(variational_backup(rewards, mdp.transitions, next_values), expected)


def test_the_two_backups_agree_on_deterministic_dynamics_only():
    rng = np.random.default_rng(1)
    rewards, next_values = rng.normal(size=(5, 2)), rng.normal(size=5) * 3
    deterministic = random_mdp(5, 2, 2, rng, deterministic=True)
    np.testing.assert_allclose(variational_backup(rewards, deterministic.transitions, next_values),
                               exact_backup(rewards, deterministic.transitions, next_values))
    stochastic = random_mdp(5, 2, 2, rng)
    # Jensen: E[V'] < log E[exp V'] whenever the next value is uncertain
    assert np.all(variational_backup(rewards, stochastic.transitions, next_values)
                  < exact_backup(rewards, stochastic.transitions, next_values))


def test_variational_values_are_the_best_reward_plus_entropy_any_policy_gets():
    # V_0(s) = max over policies q of E_q[sum_t r - log q] in the real dynamics, attained by exp(Q - V)
    rng = np.random.default_rng(2)
    mdp = random_mdp(3, 2, 3, rng)
    rewards = rng.normal(size=(3, 2)) * 2
    q_values, values = backward_messages(rewards, mdp.transitions, mdp.horizon, backup="variational")
    policy = soft_optimal_policy(q_values, values)
    for start in range(3):
        from_start = TabularMDP(mdp.transitions, np.eye(3)[start], mdp.horizon)
        np.testing.assert_allclose(brute_force.soft_objective(policy, rewards, from_start), values[0, start])
        for _ in range(20):
            other = rng.dirichlet(np.ones(2), size=(3, 3))
            assert brute_force.soft_objective(other, rewards, from_start) <= values[0, start] + 1e-12


# --- the lottery (README 8.2) ------------------------------------------------------------------

def test_lottery_values_of_both_backups_by_hand():
    p, rewards = 0.05, lottery_rewards(safe_reward=1.0, jackpot_reward=10.0, bust_reward=-1.0)
    q_values = {b: backward_messages(rewards, make_lottery_mdp(p).transitions, 2, backup=b)[0] for b in ("exact", "variational")}
    # at t = 1 both actions pay the same: V_1(s) = r(s) + log 2
    np.testing.assert_allclose(q_values["exact"][0, START, WORK], 1.0 + LOG2)
    np.testing.assert_allclose(q_values["exact"][0, START, LOTTERY], LOG2 + np.log(p * np.exp(10.0) + (1 - p) * np.exp(-1.0)))
    np.testing.assert_allclose(q_values["variational"][0, START, LOTTERY], LOG2 + p * 10.0 + (1 - p) * -1.0)


def test_exact_inference_buys_the_ticket_and_variational_inference_does_not():
    rewards = lottery_rewards()
    exact, _ = solve_lottery(0.05, rewards, "exact")
    variational, _ = solve_lottery(0.05, rewards, "variational")
    assert exact.lottery_probability > 0.99
    assert variational.lottery_probability < 0.25
    # in the real dynamics the gambler does worse, on reward and on reward + entropy
    assert exact.expected_return < 0 < variational.expected_return
    assert exact.soft_objective < variational.soft_objective


@pytest.mark.parametrize("win_probability", [0.01, 0.05, 0.3])
def test_lottery_values_match_brute_force(win_probability):
    check = brute_force_check(win_probability, lottery_rewards())
    np.testing.assert_allclose(check.exact_value, check.log_partition, rtol=1e-10)
    np.testing.assert_allclose(check.variational_value, check.best_soft_objective, atol=1e-5)
