"""Hidden smoke training: the student's CQL learns to reach the Hard maze's goal from the shipped RND dataset
(README 4): the reference does on every measured seed, offline DQN on the same data loses it on some.

The CQL agent is trained by the course's own loop (offline_training.train_offline) in the sandbox with the
student's cql.py, and points are paid only for weights the student's learning produced:
  1. first, two CQLAgent updates in a row at the smoke config's settings, on batches the harness samples
     from the smoke dataset, must match the reference's (a wrong or faked loss earns no training points);
  2. the worker trains for a fixed number of gradient steps (no wall-clock cut: a loaded machine trains
     exactly as far as an idle one); the harness reads the trained weights back as arrays;
  3. the harness rebuilds the seeded initial weights (the loop's seeding) and checks that no parameter
     moved further than the run's number of Adam steps can move it;
  4. the harness loads the weights into the course's own CQLAgent and plays its own greedy episodes
     (argmax_a Q(s, a)) in the maze; the student's get_action is never used.
The training and evaluation seeds are drawn from `rng`, new every grading run.
"""
import copy

import numpy as np
import torch

from common.rollouts import Transitions
from grader.harness.api import points, time_limit
from grader.harness.smoke import better_of_two_seeds, check_same_parameters, pay_for_return, train_and_load
from grader.harness.twins import FORGIVEN_FRACTION  # entries of a tensor float rounding may move through Adam
from hw5_exploration_offline.cql import CQLAgent
from hw5_exploration_offline.offline_training import dataset_path
from common.replay_buffer import ReplayBuffer
from smoke_config import EVAL_EPISODES, SMOKE_CONFIG, evaluate, seeded_initial_agent

# Thresholds, measured on 2026-12-01 (2 cores shared with other helpers' jobs, load average 14 to 19) with
# `nice -n 10 python -m grader.suites.hw5.smoke_config cql --seeds 0-9` (and `dqn` for offline DQN on the same
# data and settings): the reference's mean return over 10 greedy evaluation episodes for training seeds 0..9
#   CQL (alpha 0.1, 10 000 gradient steps): -26.0 -53.6 -24.9 -19.7 -64.9 -15.8 -18.6 -21.6 -26.2 -17.3
#       (min -64.9, median -23.2, mean -28.9), 10.2..12.4 s of training CPU;
#   offline DQN (the same run with alpha 0): -22.5 -87.0 -16.0 -71.6 -78.3 -17.3 -17.0 -25.2 -19.0 -59.3
#       (min -87.0, median -23.9, mean -41.3): as good as CQL on its good seeds, but below -55 on 4 of 10 seeds
#       where CQL is on 1 (the lesson of README 4.4 in small: CQL is the steadier one, not better on every seed);
#   a greedy network that never learned plays -100 (the goal is never reached).
# The test draws its training and evaluation seeds at random, so the threshold sits 10 below the worst measured
# CQL seed (room for other evaluation seeds; that spread is not measured) and the half credit above -100.
# A clean-clone CI run (2026-12-02) drew a reference seed at -95.4: the tail reaches no learning, hence the
# test's second training seed.
THRESHOLD, HALF_CREDIT = -75.0, -92.0
REFERENCE_SPREAD = ("the reference CQL reaches -65 to -16 (median -23) over 10 training seeds, offline DQN -87 to -16 "
                    "(mean -41 against CQL's -29), a network that never learned -100")


@points(20, part="training")
@time_limit(150)  # two trainings of at most 70 s each (the reference: 10 to 12 s of CPU)
def test_cql_smoke_training_reaches_the_goal(submission, rng, credit):
    """CQL on the smoke dataset: mean return of 10 greedy episodes in the grader's own maze"""
    check_cql_updates_on_dataset_batches(submission, rng, SMOKE_CONFIG)
    # The reference's tail reaches what no learning scores (a clean-clone CI run drew a seed at -95.4),
    # so a second training seed when the first misses.
    mean = better_of_two_seeds(
        lambda seed: train_and_evaluate(submission, rng, {**copy.deepcopy(SMOKE_CONFIG), "seed": seed}), rng, THRESHOLD)
    pay_for_return(credit, mean, THRESHOLD, HALF_CREDIT,
        f"after smoke training the mean return of the greedy policy over {EVAL_EPISODES} episodes of "
        f"{SMOKE_CONFIG['env_id']} is {mean:.1f} (the better of two training seeds); full credit needs {THRESHOLD:g} "
        f"(half credit {HALF_CREDIT:g}); {REFERENCE_SPREAD}")


def train_and_evaluate(submission, rng, config) -> float:
    """Train the student's CQL with `config` in the worker; the mean return of the harness's own greedy episodes."""
    learning_rate, steps = config["agent"]["learning_rate"], config["offline_steps"]
    agent = train_and_load(submission, "hw5_exploration_offline.offline_training.train_offline", config,
                           seeded_initial_agent(config), lambda name: (learning_rate, steps),
                           "CQLAgent.__init__ and offline_training.make_agent", budget_s=70)
    return float(evaluate(agent, config["env_id"], seed=int(rng.integers(0, 100_000))).mean())


def check_cql_updates_on_dataset_batches(submission, rng, config) -> None:
    """Training points need the reference's CQLAgent.update (cql_loss at the smoke settings): two in a row."""
    settings = config["agent"]
    data = ReplayBuffer.load(dataset_path(config["dataset"]))
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = CQLAgent((2,), 4, settings, alpha=config["cql_alpha"], q_input_scale=config["q_input_scale"])
    student = submission.new("hw5_exploration_offline.cql.CQLAgent", [2], 4,
                             submission.new("hw3_qlearning_ac.dqn.DQNConfig", **settings),
                             alpha=config["cql_alpha"], q_input_scale=config["q_input_scale"])
    submission.set_state(student, {name: value.detach().numpy().copy() for name, value in local.state_dict().items()})
    for _ in range(2):  # twice: the optimizer keeps its moments between updates
        index = rng.integers(0, len(data), size=settings["batch_size"])
        batch = {name: np.ascontiguousarray(getattr(data, name)[index]) for name in
                 ("observations", "actions", "rewards", "next_observations", "terminated", "truncated")}
        student.update(submission.new("common.rollouts.Transitions", **batch))
        local.update(Transitions(**batch))
    check_same_parameters(submission.get_state(student), local, "CQLAgent.update (cql_loss)",
                          "after two updates on batches of the smoke dataset", rtol=1e-3, atol=1e-5,
                          forgiven_fraction=FORGIVEN_FRACTION)
