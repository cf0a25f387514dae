"""Public tests of planning.py on tiny models whose predicted returns you can add up by hand."""
import numpy as np
import pytest
import torch

from hw4_model_based.dynamics import EnsembleDynamics
from hw4_model_based.planning import (
    MPCAgent, PlannerConfig, cem, evaluate_action_sequences, random_shooting,
)
from hw4_model_based.rewards import PlanningTask

torch.set_num_threads(1)


class GainEnsemble:
    """Member i moves a 1-D state by (i + 1) * a per step: s' = s + (i + 1) a. Counts its calls."""

    def __init__(self, num_members=2):
        self.num_members = num_members
        self.calls = 0
        self.obs_mean = torch.zeros(1)

    def predict_next_obs(self, obs, actions):
        assert obs.shape[0] == self.num_members and actions.shape[0] == self.num_members
        self.calls += 1
        gains = torch.arange(1, self.num_members + 1, dtype=torch.float32).view(-1, 1, 1)
        return obs + gains * actions


def _reward_next_state(obs, actions, next_obs):
    return next_obs[..., 0]


def _never(next_obs):
    return torch.zeros(next_obs.shape[:-1], dtype=torch.bool)


# --- evaluate_action_sequences ------------------------------------------------------------------


def test_evaluate_sums_over_the_horizon_and_averages_over_members():
    # sequence [1, 1] from s = 0: member 1 visits 1, 2 (return 3), member 2 visits 2, 4 (return 6) -> 4.5
    # sequence [1, -1]: member 1 visits 1, 0 (1), member 2 visits 2, 0 (2) -> 1.5
    model = GainEnsemble()
    sequences = torch.tensor([[[1.0], [1.0]], [[1.0], [-1.0]]])
    returns = evaluate_action_sequences(model, PlanningTask(_reward_next_state, _never), torch.zeros(1), sequences)
    torch.testing.assert_close(returns, torch.tensor([4.5, 1.5]))


def test_evaluate_calls_the_model_once_per_step_for_all_members_and_candidates():
    model = GainEnsemble(num_members=3)
    evaluate_action_sequences(model, PlanningTask(_reward_next_state, _never), torch.zeros(1), torch.rand(50, 4, 1))
    assert model.calls == 4


def test_evaluate_counts_the_terminating_step_and_nothing_after_it():
    # terminate when s' > 1.5. Sequence [1, 1]: member 1 gets 1 + 2 (terminates at step 2) = 3;
    # member 2 gets 2 (terminates at step 1) and step 2 does not count -> (3 + 2) / 2
    def terminate_above(next_obs):
        return next_obs[..., 0] > 1.5

    returns = evaluate_action_sequences(GainEnsemble(), PlanningTask(_reward_next_state, terminate_above),
                                        torch.zeros(1), torch.tensor([[[1.0], [1.0]]]))
    torch.testing.assert_close(returns, torch.tensor([2.5]))


def test_evaluate_passes_state_action_and_next_state_to_the_reward():
    # r = s_t * a_t + s_{t+1}: from s = 1 with [2]: member 1: 1*2 + 3 = 5, member 2: 1*2 + 5 = 7 -> 6
    def reward(obs, actions, next_obs):
        return obs[..., 0] * actions[..., 0] + next_obs[..., 0]

    returns = evaluate_action_sequences(GainEnsemble(), PlanningTask(reward, _never), torch.ones(1),
                                        torch.tensor([[[2.0]]]))
    torch.testing.assert_close(returns, torch.tensor([6.0]))


def test_evaluate_works_with_the_real_ensemble():
    model = EnsembleDynamics(3, 2, num_members=4, hidden_sizes=(8,))
    returns = evaluate_action_sequences(model, PlanningTask(_reward_next_state, _never), torch.zeros(3),
                                        torch.rand(10, 5, 2))
    assert returns.shape == (10,)


# --- random shooting and CEM --------------------------------------------------------------------

LOW, HIGH = torch.tensor([-1.0, -2.0]), torch.tensor([1.0, 2.0])
TARGET = torch.tensor([0.3, -0.8])


def _closeness_to_target(sequences):
    """Score (N, H, 2) sequences: the closer every action is to TARGET, the higher."""
    return -((sequences - TARGET) ** 2).sum(dim=(1, 2))


def test_random_shooting_returns_the_best_of_its_uniform_candidates():
    plan = random_shooting(_closeness_to_target, LOW, HIGH, horizon=3, num_candidates=64,
                           generator=torch.Generator().manual_seed(0))
    uniform = torch.rand((64, 3, 2), generator=torch.Generator().manual_seed(0))
    candidates = LOW + (HIGH - LOW) * uniform
    torch.testing.assert_close(plan, candidates[_closeness_to_target(candidates).argmax()])


def test_random_shooting_stays_in_the_action_box():
    plan = random_shooting(lambda a: a.sum(dim=(1, 2)), LOW, HIGH, horizon=4, num_candidates=2000,
                           generator=torch.Generator().manual_seed(1))
    assert plan.shape == (4, 2)
    assert torch.all(plan >= LOW) and torch.all(plan <= HIGH)
    # the sum of 8 uniform actions has mean 0 and std 2.6: the best of 2000 is near 3 std
    assert plan.sum() > 5.0


def test_one_cem_iteration_refits_to_the_elites_by_hand():
    # 1-D, horizon 1, 4 candidates, 2 elites, from mean 0 and std 1 (the box [-1, 1])
    low, high = torch.tensor([-1.0]), torch.tensor([1.0])
    noise = torch.randn((4, 1, 1), generator=torch.Generator().manual_seed(3))
    candidates = torch.clamp(noise, -1.0, 1.0)
    best_two = candidates[torch.argsort(candidates.flatten(), descending=True)[:2]]    # score = the action itself
    mean = cem(lambda a: a[:, 0, 0], low, high, horizon=1, num_candidates=4, num_elites=2, iterations=1,
               smoothing=0.0, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(mean, best_two.mean(dim=0))
    # smoothing 0.5 keeps half of the initial mean 0
    smoothed = cem(lambda a: a[:, 0, 0], low, high, horizon=1, num_candidates=4, num_elites=2, iterations=1,
                   smoothing=0.5, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(smoothed, 0.5 * best_two.mean(dim=0))


def test_cem_refits_the_std_to_the_elites():
    # Two CEM iterations: the second samples with the std of the first iteration's elites (population std).
    low, high = torch.tensor([-1.0]), torch.tensor([1.0])
    generator = torch.Generator().manual_seed(5)
    candidates = torch.clamp(torch.randn((6, 1, 1), generator=generator), -1.0, 1.0)
    elites = candidates[torch.topk(candidates[:, 0, 0], 3).indices]
    mean, std = elites.mean(dim=0), elites.std(dim=0, unbiased=False)
    candidates = torch.clamp(mean + std * torch.randn((6, 1, 1), generator=generator), -1.0, 1.0)
    expected = candidates[torch.topk(candidates[:, 0, 0], 3).indices].mean(dim=0)
    result = cem(lambda a: a[:, 0, 0], low, high, horizon=1, num_candidates=6, num_elites=3, iterations=2,
                 smoothing=0.0, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(result, expected)


def test_cem_converges_to_the_best_sequence():
    plan = cem(_closeness_to_target, LOW, HIGH, horizon=3, num_candidates=200, num_elites=20, iterations=8,
               smoothing=0.1, generator=torch.Generator().manual_seed(0))
    assert plan.shape == (3, 2)
    torch.testing.assert_close(plan, TARGET.expand(3, 2), atol=0.05, rtol=0)


# --- MPC ----------------------------------------------------------------------------------------


def _one_dimensional_agent(method="random_shooting", seed=0, horizon=3):
    """Drive a 1-D state to 0 with a model s' = s + a (both members), reward -s'^2."""
    model = GainEnsemble(num_members=1)
    task = PlanningTask(lambda obs, actions, next_obs: -next_obs[..., 0] ** 2, _never)
    config = PlannerConfig(method=method, horizon=horizon, num_candidates=300, cem_iterations=3, num_elites=30)
    return MPCAgent(model, task, np.array([-1.0]), np.array([1.0]), config, seed=seed)


@pytest.mark.parametrize("method", ["random_shooting", "cem"])
def test_mpc_acts_the_first_action_of_a_fresh_plan_at_every_step(method):
    agent, twin = _one_dimensional_agent(method), _one_dimensional_agent(method)
    for obs in (np.array([0.6]), np.array([-0.4]), np.array([0.2])):
        action = agent.get_action(obs)
        assert action.shape == (1,) and isinstance(action, np.ndarray)
        np.testing.assert_allclose(action, twin.plan(obs)[0].numpy())


def test_mpc_moves_the_state_towards_the_best_place():
    agent = _one_dimensional_agent(horizon=1)    # one step ahead: the best action lands on 0
    assert agent.get_action(np.array([0.5]))[0] == pytest.approx(-0.5, abs=0.1)
    assert agent.get_action(np.array([-0.5]))[0] == pytest.approx(0.5, abs=0.1)


def test_planning_with_bfloat16_matrix_products_scores_like_float32():
    torch.manual_seed(0)
    model = EnsembleDynamics(3, 2, num_members=2, hidden_sizes=(16,))
    task = PlanningTask(_reward_next_state, _never)
    sequences = torch.rand(64, 3, 2) * 2 - 1
    with torch.inference_mode():
        exact = evaluate_action_sequences(model, task, torch.zeros(3), sequences)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            rounded = evaluate_action_sequences(model, task, torch.zeros(3), sequences)
    assert rounded.dtype == torch.float32            # states and rewards stay float32
    torch.testing.assert_close(rounded, exact, atol=0.05, rtol=0.02)
    low, high = -np.ones(2, np.float32), np.ones(2, np.float32)
    plan = MPCAgent(model, task, low, high, PlannerConfig(horizon=3, num_candidates=64, matmul_dtype="bfloat16")).plan(np.zeros(3))
    assert plan.dtype == torch.float32 and plan.shape == (3, 2)
