"""Public tests of the given tabular code: the gridworld, the lottery MDP, demonstrations, brute force."""
import numpy as np
import pytest

from hw1_imitation import brute_force
from hw1_imitation.demonstrations import sample_demonstrations
from hw1_imitation.gridworld import ACTIONS, DEFAULT_TERRAIN_REWARDS, TERRAINS, make_gridworld
from hw1_imitation.lottery_mdp import BUST, JACKPOT, LOTTERY, PAID, START, WORK, make_lottery_mdp
from hw1_imitation.tabular_mdp import TabularMDP, random_mdp


def test_gridworld_moves_are_deterministic_and_stop_at_the_border():
    grid = make_gridworld(("S..", "..G"), horizon=3)
    mdp = grid.mdp
    assert mdp.deterministic and mdp.num_states == 6 and mdp.num_actions == len(ACTIONS)
    moves = mdp.transitions.argmax(axis=2)
    up, down, left, right = (ACTIONS.index(name) for name in ("up", "down", "left", "right"))
    assert moves[0, up] == 0 and moves[0, left] == 0  # the top-left corner
    assert moves[0, right] == 1 and moves[0, down] == 3 and moves[5, ACTIONS.index("stay")] == 5
    np.testing.assert_allclose(mdp.initial_distribution, [1, 0, 0, 0, 0, 0])


def test_gridworld_reward_is_linear_in_terrain_features():
    grid = make_gridworld()
    features = grid.terrain_features()
    assert features.shape == (grid.mdp.num_states, len(ACTIONS), len(TERRAINS))
    psi = np.array([DEFAULT_TERRAIN_REWARDS[name] for name in TERRAINS])
    np.testing.assert_allclose(grid.rewards(DEFAULT_TERRAIN_REWARDS), features @ psi)
    goal = "".join(grid.layout).index("G")
    assert grid.rewards(DEFAULT_TERRAIN_REWARDS)[goal, 0] == DEFAULT_TERRAIN_REWARDS["goal"]
    assert grid.state_features().shape == (grid.mdp.num_states, len(ACTIONS), grid.mdp.num_states)


def test_gridworld_needs_exactly_one_start():
    with pytest.raises(ValueError, match="exactly one start"):
        make_gridworld(("S.S",))


def test_lottery_dynamics():
    mdp = make_lottery_mdp(0.1)
    assert mdp.transitions[START, WORK, PAID] == 1.0
    np.testing.assert_allclose(mdp.transitions[START, LOTTERY, [JACKPOT, BUST]], [0.1, 0.9])
    assert all(mdp.transitions[s, a, s] == 1.0 for s in (PAID, JACKPOT, BUST) for a in (WORK, LOTTERY))


def test_demonstrations_follow_a_deterministic_policy_exactly():
    grid = make_gridworld(("S..",), horizon=4)
    always_right = np.zeros((4, 3, len(ACTIONS)))
    always_right[:, :, ACTIONS.index("right")] = 1.0
    demonstrations = sample_demonstrations(grid.mdp, always_right, 5, np.random.default_rng(0))
    np.testing.assert_array_equal(demonstrations.states, np.tile([0, 1, 2, 2], (5, 1)))


def test_demonstrations_sample_actions_and_transitions_with_the_right_frequencies():
    mdp = make_lottery_mdp(0.3)
    policy = np.full((2, 4, 2), 0.5)
    policy[0, START] = [0.2, 0.8]
    demonstrations = sample_demonstrations(mdp, policy, 20_000, np.random.default_rng(1))
    assert abs((demonstrations.actions[:, 0] == LOTTERY).mean() - 0.8) < 0.02
    assert abs((demonstrations.states[:, 1] == JACKPOT).mean() - 0.8 * 0.3) < 0.02


def test_brute_force_enumerates_a_distribution_over_trajectories():
    mdp = random_mdp(3, 2, 3, np.random.default_rng(2))
    states, actions, probability = brute_force.enumerate_trajectories(mdp)
    assert states.shape == actions.shape == (len(probability), 3)
    # every action sequence is listed once per state path: total weight = A^T
    np.testing.assert_allclose(probability.sum(), 2 ** 3)
    np.testing.assert_allclose(brute_force.log_partition(np.zeros((3, 2)), mdp), 3 * np.log(2))


def test_mdp_checks_say_what_is_wrong():
    with pytest.raises(ValueError, match="probability distribution over next states"):
        TabularMDP(np.ones((2, 1, 2)), np.array([1.0, 0.0]), 2)
    with pytest.raises(ValueError, match="initial_distribution must have shape"):
        TabularMDP(np.full((2, 1, 2), 0.5), np.array([1.0]), 2)
