"""Public tests of mbpo.py: branched model rollouts and mixed batches, on data you can trace by hand."""
import numpy as np
import torch

from common.replay_buffer import ReplayBuffer
from common.rollouts import Transitions
from hw4_model_based.mbpo import branched_rollouts, sample_mixed_batch
from hw4_model_based.rewards import PlanningTask

torch.set_num_threads(1)


class GainEnsemble:
    """Member i moves a 1-D state by (i + 1) * a: s' = s + (i + 1) a."""

    def __init__(self, num_members=3):
        self.num_members = num_members
        self.obs_mean = torch.zeros(1)

    def predict_next_obs(self, obs, actions):
        gains = torch.arange(1, self.num_members + 1, dtype=torch.float32).view(-1, 1, 1)
        return obs + gains * actions


def _buffer(observations):
    """A replay buffer holding one transition per given 1-D observation (action 0, reward 0)."""
    observations = np.asarray(observations, dtype=np.float32).reshape(-1, 1)
    n = len(observations)
    buffer = ReplayBuffer(n, (1,), (1,))
    buffer.add_batch(Transitions(observations, np.zeros((n, 1), np.float32), np.zeros(n), observations,
                                 np.zeros(n, bool), np.zeros(n, bool)))
    return buffer


def _ones_policy(observations):
    return np.ones((len(observations), 1), dtype=np.float32)


REWARD_NEXT_STATE = PlanningTask(lambda obs, actions, next_obs: next_obs[..., 0],
                                 lambda next_obs: torch.zeros(next_obs.shape[:-1], dtype=torch.bool))


def test_rollouts_start_from_real_states_and_use_one_random_member_per_rollout_and_step():
    real = _buffer(np.arange(10.0) * 100)       # real states 0, 100, ..., 900
    rollouts = branched_rollouts(GainEnsemble(), REWARD_NEXT_STATE, _ones_policy, real, num_rollouts=6, horizon=2,
                                 rng=np.random.default_rng(0), generator=torch.Generator().manual_seed(0))
    assert len(rollouts) == 12                  # 6 rollouts x 2 steps, step by step
    starts = real.sample(6, np.random.default_rng(0)).observations
    np.testing.assert_allclose(rollouts.observations[:6], starts)
    np.testing.assert_allclose(rollouts.observations[6:], rollouts.next_observations[:6])  # step 1 continues step 0
    generator = torch.Generator().manual_seed(0)
    for step in range(2):
        members = torch.randint(3, (6,), generator=generator).numpy()
        moved = rollouts.next_observations[6 * step: 6 * (step + 1), 0] - rollouts.observations[6 * step: 6 * (step + 1), 0]
        np.testing.assert_allclose(moved, members + 1.0)   # member m moves by (m + 1) * a, a = 1
    np.testing.assert_allclose(rollouts.rewards, rollouts.next_observations[:, 0])


def test_rollouts_stop_at_the_model_horizon_with_truncated_last_steps():
    rollouts = branched_rollouts(GainEnsemble(), REWARD_NEXT_STATE, _ones_policy, _buffer([0.0, 1.0]), num_rollouts=4,
                                 horizon=3, rng=np.random.default_rng(1), generator=torch.Generator().manual_seed(1))
    assert len(rollouts) == 12
    np.testing.assert_array_equal(rollouts.truncated, [False] * 8 + [True] * 4)
    assert not rollouts.terminated.any()


def test_a_terminated_rollout_contributes_its_last_step_and_stops():
    # terminate once s' > 2.5: from s = 0 with gains 1..3 and a = 1, rollouts end at different steps
    task = PlanningTask(REWARD_NEXT_STATE.reward, lambda next_obs: next_obs[..., 0] > 2.5)
    rollouts = branched_rollouts(GainEnsemble(), task, _ones_policy, _buffer([0.0]), num_rollouts=5, horizon=4,
                                 rng=np.random.default_rng(2), generator=torch.Generator().manual_seed(2))
    np.testing.assert_array_equal(rollouts.terminated, rollouts.next_observations[:, 0] > 2.5)
    assert rollouts.terminated.sum() == 5         # every rollout crosses 2.5 within 3 steps, then stops
    assert not (rollouts.terminated & rollouts.truncated).any()
    assert np.all(rollouts.observations[:, 0] <= 2.5)   # no step starts from a terminal state


def test_mixed_batch_takes_the_real_share_first_then_model_transitions():
    real, model = _buffer(np.zeros(50)), _buffer(np.ones(50))
    batch = sample_mixed_batch(real, model, batch_size=20, real_ratio=0.25, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(batch.observations[:, 0], [0.0] * 5 + [1.0] * 15)
    real_ids, model_ids = _buffer(np.arange(50.0)), _buffer(100 + np.arange(50.0))
    batch = sample_mixed_batch(real_ids, model_ids, batch_size=20, real_ratio=0.25, rng=np.random.default_rng(3))
    rng = np.random.default_rng(3)
    expected = np.concatenate([real_ids.sample(5, rng).observations, model_ids.sample(15, rng).observations])
    np.testing.assert_array_equal(batch.observations, expected)


def test_mixed_batch_is_all_real_while_the_model_buffer_is_empty():
    batch = sample_mixed_batch(_buffer(np.zeros(10)), ReplayBuffer(10, (1,), (1,)), batch_size=8, real_ratio=0.05,
                               rng=np.random.default_rng(0))
    assert len(batch) == 8 and np.all(batch.observations == 0.0)


def test_a_tiny_mbpo_run_fills_the_model_buffer_and_trains_sac():
    from hw4_model_based.mbpo_training import train_mbpo

    config = {"env_id": "hw4/Obstacles-v0", "total_env_steps": 300, "learning_starts": 100, "model_train_every": 100,
              "num_rollouts": 50, "rollout_horizon": 2, "gradient_steps": 1, "log_every": 100, "eval_every": 300,
              "eval_episodes": 1, "progress_bar": False, "max_episode_steps": 50,
              "agent": {"hidden_sizes": [32, 32], "batch_size": 32},
              "dynamics": {"num_members": 2, "hidden_sizes": [16, 16], "num_epochs": 1}}
    agent = train_mbpo(config)
    assert agent.get_action(np.zeros((3, 2), np.float32)).shape == (3, 2)


def test_run_main_dispatches_mbpo_configs(tmp_path, capsys):
    from pathlib import Path

    from hw4_model_based.run import main

    config = Path(__file__).parents[1] / "configs" / "mbpo_halfcheetah.yaml"
    main(["--config", str(config), "--set", f"log_root={tmp_path}", "progress_bar=false", "env_id=hw4/Obstacles-v0",
          "total_env_steps=120", "learning_starts=60", "model_train_every=60", "num_rollouts=20", "gradient_steps=1",
          "log_every=60", "eval_every=120", "eval_episodes=1", "max_episode_steps=30", "agent.batch_size=16",
          "agent.hidden_sizes=[16,16]", "dynamics.hidden_sizes=[16,16]", "dynamics.num_epochs=1"])
    (metrics,) = tmp_path.glob("hw4/mbpo_halfcheetah_*/metrics.csv")
    header = metrics.read_text().splitlines()[0].split(",")
    assert {"env_steps", "model_buffer", "dynamics_loss", "critic_loss", "eval_return"} <= set(header)
