"""Hidden smoke training: the student's agent, trained by the course's run.train, balances CartPole.

Points are paid only for weights the student's learning produced:
  1. first, one PGAgent.update at the smoke config and CartPole's shapes, on a real CartPole batch the
     harness samples, must match the reference's (a wrong or faked update earns no training points);
  2. the worker trains for a fixed number of env steps (no wall-clock cut: a loaded machine trains
     exactly as far as an idle one); the harness reads the trained weights back as arrays;
  3. the harness rebuilds the seeded initial weights (run.train's seeding) and checks that no
     parameter moved further than the given number of Adam steps can move it (weights written by
     hand, e.g. a CartPole controller, are far outside that bound);
  4. the harness loads the weights into the course's own network and plays its own CartPole episodes.
The training and evaluation seeds are drawn from `rng`, new every grading run.
"""
import math

import torch

from common.envs import make_vector_env
from common.rollouts import concatenate, sample_trajectories
from common.torch_utils import seed_everything
from grader.harness.api import points, time_limit
from grader.harness.smoke import better_of_two_seeds, check_same_parameters, pay_for_return, train_and_load
from hw2_policy_gradient.agent import PGAgent
from hw2_policy_gradient.run import config_from_mapping, make_agent
from smoke_config import EVAL_EPISODES, SMOKE_CONFIG, evaluate

# Threshold, measured with `nice -n 10 python -m grader.suites.hw2.smoke_config --seeds 0-19` (2026-12-01,
# 2 cores shared with six other helpers' jobs, load average 6 to 7): the reference's mean return over
# 10 evaluation episodes, for training seeds 0..19 with SMOKE_CONFIG (40 000 env steps, no wall-clock
# budget), was 95.9 199.9 345.4 449.8 330.9 462.9 209.8 500 500 500 470.0 354.8 450.7 345.8 354.1
# 407.4 500 445.0 338.7 493.9 (min 95.9, median 426.2), in 4.3..5.6 s of training CPU; seeds 20..59
# (`--seeds 20-59`, same load): min 95.1, median 301.6, max 500, at most 7.2 s of CPU. Seeds 100..122,
# each evaluated with five random evaluation seeds as the test draws them (session 5, load 5 to 6):
# lowest 75.3 (seed 118; its five 10-episode means 75 to 96, so the spread is the training seed's, not
# the evaluation's), median about 255, at most 13.8 s of CPU. A clean-clone CI run once drew a seed
# between 40 and 60: the tail reaches below every threshold that still tells learning from a random
# policy (about 22; 10-episode means 15..30), hence the second training seed in the test. 60 000 env
# steps do not shorten the tail (seeds 0 and 9 scored 141 and 106 there, 96 and 500 at 40 000).
THRESHOLD = 60.0
HALF_CREDIT = 40.0


@points(10, part="training")
@time_limit(100)  # two trainings of at most 45 s each (the reference: 5 to 14 s of CPU)
def test_cartpole_smoke_training_reaches_threshold(submission, rng, credit):
    """CartPole-v1 smoke training (40 000 env steps): mean return of 10 evaluation episodes"""
    check_update_on_a_cartpole_batch(submission, rng, SMOKE_CONFIG)
    # Policy gradients are noisy: about one training seed in a hundred of the reference learns slowly
    # (see the measurements above), so a second seed when the first misses.
    mean = better_of_two_seeds(lambda seed: train_and_evaluate(submission, rng, {**SMOKE_CONFIG, "seed": seed}),
                               rng, THRESHOLD)
    pay_for_return(credit, mean, THRESHOLD, HALF_CREDIT,
                   f"after smoke training the mean return over {EVAL_EPISODES} CartPole episodes is {mean:.1f} "
                   f"(the better of two training seeds); full credit needs {THRESHOLD:g} (half credit "
                   f"{HALF_CREDIT:g}); the reference reaches 75 to 500 (median about 300), a random policy about 22")


def train_and_evaluate(submission, rng, config) -> float:
    """Train the student's agent with `config` in the worker; the mean return of the harness's own episodes."""
    max_updates = math.ceil(config["total_env_steps"] / config["batch_size"])  # each batch has >= batch_size steps
    agent = train_and_load(submission, "hw2_policy_gradient.run.train", config, seeded_initial_agent(config),
                           lambda name: (config["agent"]["learning_rate"], max_updates),
                           "PGAgent.__init__ and the policies' constructors", budget_s=45)
    eval_seed = int(rng.integers(0, 100_000))
    torch.manual_seed(eval_seed)  # the evaluation samples actions
    return float(evaluate(agent, seed=eval_seed).mean())


def check_update_on_a_cartpole_batch(submission, rng, config):
    """Training points need an update that is the reference's: one update at the smoke settings."""
    settings = config["agent"]
    env = make_vector_env("CartPole-v1", 1, seed=int(rng.integers(0, 100_000)))
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = PGAgent(4, 2, True, settings)
    try:
        batch = concatenate(sample_trajectories(env, local.get_action, min_steps=int(rng.integers(150, 300))))
    finally:
        env.close()
    student = submission.new("hw2_policy_gradient.agent.PGAgent", 4, 2, True, settings)
    expected = {name: value.detach().numpy().copy() for name, value in local.state_dict().items()}
    submission.set_state(student, expected)
    arrays = (batch.observations, batch.actions, batch.rewards, batch.next_observations, batch.terminated,
              batch.truncated)
    student.update(*arrays)
    local.update(*arrays)
    check_same_parameters(submission.get_state(student), local, "PGAgent.update",
                          "after one update on a CartPole batch", rtol=1e-4, atol=1e-5)


def seeded_initial_agent(config) -> PGAgent:
    """The agent run.train builds for `config` before its first update (its seeding, then make_agent)."""
    run_config = config_from_mapping(config)
    seed_everything(run_config.seed)
    env = make_vector_env(run_config.env_id, 1, seed=run_config.seed)
    try:
        return make_agent(run_config, env)
    finally:
        env.close()
