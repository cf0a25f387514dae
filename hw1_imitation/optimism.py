"""The optimism problem on the lottery MDP: exact-inference against variational soft value iteration.

For each backup, `solve_lottery` runs `backward_messages` on the lottery, reads off how likely the
soft-optimal policy is to buy the ticket at the start, and scores that policy in the REAL dynamics
(its expected return, and the variational objective E[sum_t r + entropy]). `brute_force_check`
recomputes the values by enumerating every trajectory:

    exact:        V_0(start) = log sum_tau p(tau) exp(sum_t r)          (log Z)
    variational:  V_0(start) = max_q E_q[sum_t r - log q]                (over a fine grid of policies)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from hw1_imitation import brute_force
from hw1_imitation.lottery_mdp import LOTTERY, START, WORK, make_lottery_mdp
from hw1_imitation.soft_value_iteration import backward_messages, soft_optimal_policy

GRID_POINTS = 2001  # policies q(lottery | start) = 0, 1/2000, ..., 1 tried by the brute force


@dataclass
class LotteryOutcome:
    """One backup's answer on the lottery; returns and objectives are measured in the real dynamics."""

    backup: str
    win_probability: float
    q_work: float                 # Q_0(start, work)
    q_lottery: float              # Q_0(start, lottery)
    start_value: float            # V_0(start)
    lottery_probability: float    # pi_0(lottery | start) = exp(Q_0(start, lottery) - V_0(start))
    expected_return: float        # E[sum_t r] of the policy, real dynamics
    soft_objective: float         # E[sum_t r - log pi], real dynamics

    def as_row(self, prefix: str) -> dict[str, float]:
        return {f"{prefix}_{key}": value for key, value in asdict(self).items() if key not in ("backup", "win_probability")}


def solve_lottery(win_probability: float, rewards: np.ndarray, backup: str) -> tuple[LotteryOutcome, np.ndarray]:
    """The soft-optimal policy of `backup` on the lottery: its outcome and the policy (T, S, A)."""
    mdp = make_lottery_mdp(win_probability)
    q_values, values = backward_messages(rewards, mdp.transitions, mdp.horizon, backup=backup)
    policy = soft_optimal_policy(q_values, values)
    outcome = LotteryOutcome(
        backup=backup,
        win_probability=win_probability,
        q_work=float(q_values[0, START, WORK]),
        q_lottery=float(q_values[0, START, LOTTERY]),
        start_value=float(values[0, START]),
        lottery_probability=float(policy[0, START, LOTTERY]),
        expected_return=brute_force.expected_return(policy, rewards, mdp),
        soft_objective=brute_force.soft_objective(policy, rewards, mdp),
    )
    return outcome, policy


@dataclass
class BruteForceCheck:
    """Each backup's V_0(start) next to its brute-force value, and the best policy the grid found."""

    exact_value: float
    log_partition: float                   # log Z by enumeration: the exact backup's V_0(start)
    variational_value: float
    best_soft_objective: float             # max over the grid of policies: the variational V_0(start)
    best_lottery_probability: float        # the grid policy that attains it

    @property
    def largest_error(self) -> float:
        """How far either backup is from its brute-force value (the grid's resolution aside)."""
        return max(abs(self.exact_value - self.log_partition), abs(self.variational_value - self.best_soft_objective))


def brute_force_check(win_probability: float, rewards: np.ndarray) -> BruteForceCheck:
    """Enumerate trajectories and a grid of policies to recompute both backups' V_0(start)."""
    mdp = make_lottery_mdp(win_probability)
    exact, _ = solve_lottery(win_probability, rewards, "exact")
    variational, _ = solve_lottery(win_probability, rewards, "variational")
    objectives = []
    grid = np.linspace(0.0, 1.0, GRID_POINTS)
    for lottery_probability in grid:
        policy = np.full((mdp.horizon, mdp.num_states, mdp.num_actions), 0.5)  # at t = 1 the actions are alike
        policy[0, START] = [1.0 - lottery_probability, lottery_probability]
        objectives.append(brute_force.soft_objective(policy, rewards, mdp))
    best = int(np.argmax(objectives))
    return BruteForceCheck(
        exact_value=exact.start_value,
        log_partition=brute_force.log_partition(rewards, mdp),
        variational_value=variational.start_value,
        best_soft_objective=float(objectives[best]),
        best_lottery_probability=float(grid[best]),
    )
