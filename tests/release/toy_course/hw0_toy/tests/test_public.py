"""Public tests of the toy homework (shipped to students)."""
import numpy as np

from hw0_toy.agent import ToyAgent
from hw0_toy.returns import discounted_sum, reward_to_go
from hw0_toy.tabs import double_all


def test_discounted_sum_hand_computed():
    assert discounted_sum([1.0, 2.0, 4.0], 0.5) == 1.0 + 1.0 + 1.0


def test_reward_to_go_hand_computed():
    np.testing.assert_allclose(reward_to_go([1.0, 2.0], 0.5), [2.0, 2.0])


def test_agent_moves_half_way():
    assert ToyAgent(0.5).update(1.0) == 0.5


def test_schedule_decays():
    assert ToyAgent.make_schedule(1.0)(1) == 0.5


def test_double_all():
    assert double_all([1, 2]) == [2, 4]
