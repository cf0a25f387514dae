"""The lottery MDP: the smallest world where exact inference is optimistic (section 8 of the handout).

At t = 0 the agent stands at "start" and chooses:

    work:    go to "paid" for sure                                   (reward safe_reward at t = 1)
    lottery: go to "jackpot" with probability win_probability        (reward jackpot_reward at t = 1)
             or to "bust" otherwise                                  (reward bust_reward at t = 1)

Horizon T = 2: the decision at t = 0 earns nothing, the state reached at t = 1 pays its reward
(both actions there pay the same, so the choice at t = 1 does not matter). With the default numbers
a ticket is worth 0.05 * 10 + 0.95 * (-1) = -0.45 on average against 1 for working, yet the exact
inference backup log E[exp V'] values it at about log(0.05 e^10) = 7: it plans as if it could choose
to win.
"""
from __future__ import annotations

import numpy as np

from hw1_imitation.tabular_mdp import TabularMDP

STATES = ("start", "paid", "jackpot", "bust")
ACTIONS = ("work", "lottery")
START, PAID, JACKPOT, BUST = range(len(STATES))
WORK, LOTTERY = range(len(ACTIONS))


def make_lottery_mdp(win_probability: float = 0.05) -> TabularMDP:
    """The lottery's dynamics (4 states, 2 actions, horizon 2); paid, jackpot and bust are absorbing."""
    if not 0.0 <= win_probability <= 1.0:
        raise ValueError(f"win_probability must be in [0, 1], got {win_probability}")
    transitions = np.zeros((len(STATES), len(ACTIONS), len(STATES)))
    transitions[START, WORK, PAID] = 1.0
    transitions[START, LOTTERY, JACKPOT] = win_probability
    transitions[START, LOTTERY, BUST] = 1.0 - win_probability
    for absorbing in (PAID, JACKPOT, BUST):
        transitions[absorbing, :, absorbing] = 1.0
    initial = np.eye(len(STATES))[START]
    return TabularMDP(transitions, initial, horizon=2, state_names=STATES, action_names=ACTIONS)


def lottery_rewards(safe_reward: float = 1.0, jackpot_reward: float = 10.0, bust_reward: float = -1.0) -> np.ndarray:
    """r(s, a): (4, 2); 0 at start, the state's payoff elsewhere (whatever the action)."""
    rewards = np.zeros((len(STATES), len(ACTIONS)))
    rewards[PAID], rewards[JACKPOT], rewards[BUST] = safe_reward, jackpot_reward, bust_reward
    return rewards
