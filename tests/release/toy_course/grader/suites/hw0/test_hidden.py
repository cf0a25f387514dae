"""HIDDEN toy suite: must never reach the release."""
from hw0_toy.returns import discounted_sum


def test_hidden_discounted_sum():
    assert discounted_sum([1.0, 2.0], 0.5) == 2.0
