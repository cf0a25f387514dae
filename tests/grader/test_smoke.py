"""The shared smoke-training helpers of hidden suites (grader/harness/smoke.py), without a grading run."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from grader.harness.smoke import (adam_max_travel, check_reachable_by_training, pay_for_return, play_episodes,
                                  seed_range)


def adam_travel(gradients, learning_rate: float) -> float:
    """How far torch's Adam moves one parameter fed `gradients` in turn."""
    parameter = torch.nn.Parameter(torch.zeros(()))
    optimizer = torch.optim.Adam([parameter], lr=learning_rate)
    for gradient in gradients:
        optimizer.zero_grad()
        parameter.grad = torch.tensor(float(gradient))
        optimizer.step()
    return abs(parameter.item())


def test_adam_first_step_is_the_learning_rate_and_the_bound_holds_for_any_gradients():
    assert adam_max_travel(0.01, 1) == pytest.approx(0.01)      # Adam's first step is lr * sign(g)
    assert adam_max_travel(0.01, 0) == 0.0
    rng = np.random.default_rng(0)
    for steps in (5, 40, 300):
        bound = adam_max_travel(1e-3, steps)
        sequences = [np.ones(steps), np.geomspace(1e-4, 1e4, steps),                  # growing gradients
                     rng.normal(size=steps) * 10 ** rng.uniform(-3, 3, size=steps)]   # any magnitudes
        for gradients in sequences:
            travel = adam_travel(gradients, 1e-3)
            assert travel <= bound * 1.0001, (steps, travel, bound)
        assert adam_travel(np.ones(steps), 1e-3) > 0.9 * steps * 1e-3   # steady gradients go nearly lr a step
        assert bound < 3 * steps * 1e-3                                 # and the bound is not far above that


def test_weights_written_by_hand_fail_the_bound_and_trained_ones_pass():
    start = np.zeros(5)
    moved = check_reachable_by_training("w", start + 0.039, start, learning_rate=0.01, steps=4, keep="Net.__init__")
    assert moved == pytest.approx(0.039)   # train_and_load's min_travel check uses the returned distance
    with pytest.raises(AssertionError, match=r"trained parameter w is 1 away .*4 Adam steps .*keep Net.__init__"):
        check_reachable_by_training("w", start + 1.0, start, learning_rate=0.01, steps=4, keep="Net.__init__")
    assert check_reachable_by_training("empty", np.zeros(0), np.zeros(0), 0.01, 0, keep="Net.__init__") == 0.0


@pytest.mark.parametrize("mean, fraction, passed", [(60.0, 0.0, True), (59.9, 0.5, False), (40.0, 0.5, False),
                                                    (39.9, 0.0, False)])
def test_pay_for_return_gives_full_half_or_no_credit(mean, fraction, passed):
    credit = SimpleNamespace(fraction=0.0)
    if passed:
        pay_for_return(credit, mean, 60.0, 40.0, "message")
    else:
        with pytest.raises(AssertionError, match="message"):
            pay_for_return(credit, mean, 60.0, 40.0, "message")
    assert credit.fraction == fraction


def test_seed_range_and_episodes_in_seeded_environments():
    assert seed_range("0-19") == range(20) and seed_range("7") == range(7, 8)
    always_left = lambda obs: np.zeros(len(obs), dtype=np.int64)  # noqa: E731
    returns = play_episodes("CartPole-v1", always_left, episodes=3, seed=5)
    assert returns.shape == (3,) and np.all(returns > 0) and np.all(returns < 20)
    seen = []

    def per_episode(env, episode_seed):
        seen.append(episode_seed)
        return always_left

    assert np.array_equal(play_episodes("CartPole-v1", per_episode, 3, seed=5, per_episode=True), returns)
    assert seen == [5, 6, 7]
