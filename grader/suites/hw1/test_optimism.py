"""Hidden tests of the variational backup (README 8.1-8.2): values against the reference, and the lottery.

Inputs come from `rng` (tabular_inputs.py); the lottery's odds and payoffs are drawn so that the
ticket is a bad bet on average but its jackpot is large.
"""
from grader.harness.api import assert_close, check_array, points
from hw1_imitation import soft_value_iteration as reference
from hw1_imitation.lottery_mdp import LOTTERY, START, WORK, lottery_rewards, make_lottery_mdp
from tabular_inputs import (Problem, assert_backward_messages_match, random_next_values, random_problem,
                            remote_backward_messages)

MODULE = "hw1_imitation.soft_value_iteration"
PART = "optimism"


@points(2, part=PART)
def test_variational_backup_matches_reference(submission, rng):
    """variational_backup: Q = r + E_{s'}[V'] for every (s, a) of a random stochastic MDP"""
    problem = random_problem(rng)
    next_values = random_next_values(rng, problem, backup="variational")
    got = check_array(submission.call(f"{MODULE}.variational_backup", problem.rewards, problem.transitions, next_values),
                      "variational_backup", shape=problem.shape)
    assert_close(got, reference.variational_backup(problem.rewards, problem.transitions, next_values),
                 "variational_backup", rtol=1e-7, atol=1e-9)


@points(2, part=PART)
def test_variational_soft_value_iteration_matches_reference(submission, rng):
    """backward_messages(backup="variational") on a random stochastic MDP"""
    assert_backward_messages_match(submission, random_problem(rng), "variational", "variational backup")


@points(1, part=PART)
def test_variational_soft_value_iteration_does_not_buy_a_bad_lottery_ticket(submission, rng):
    """on a lottery whose ticket is worth less than work on average, the variational Q prefers work"""
    win_probability = float(rng.uniform(0.01, 0.08))
    jackpot, bust = float(rng.uniform(8, 15)), float(rng.uniform(-2, -0.5))
    safe = win_probability * jackpot + (1 - win_probability) * bust + float(rng.uniform(0.5, 2.0))
    mdp = make_lottery_mdp(win_probability)
    problem = Problem(mdp.transitions, mdp.initial_distribution, lottery_rewards(safe, jackpot, bust), mdp.horizon)
    q_values, _ = remote_backward_messages(submission, problem, "variational")
    expected_q, _ = reference.backward_messages(problem.rewards, problem.transitions, problem.horizon, "variational")
    assert q_values[0, START, LOTTERY] < q_values[0, START, WORK], (
        f"with a {win_probability:.3f} chance of winning the ticket is a bad bet, yet the variational "
        "Q(start, lottery) is above Q(start, work): the backup is still optimistic about the transition")
    assert_close(q_values[0, START], expected_q[0, START], "variational Q(start, .) on the lottery",
                 rtol=1e-7, atol=1e-9)
