"""DAgger: dataset aggregation (part 2, lecture 2).

Behavior cloning trains on the expert's states, but the learner, once it errs, visits states the
expert never showed it, and its errors compound. DAgger asks the expert what it would have done
THERE. Each iteration (imitation_training.run_dagger):

    1. run the learner pi_theta in the env: trajectories of the LEARNER's states    (given: common.rollouts)
    2. label each visited state s with the EXPERT's action a* = pi*(s)              relabel_with_expert
    3. aggregate: D <- D u {(s, a*)}  (the old pairs stay)                           aggregate
    4. train pi_theta on all of D (behavior cloning, train_bc)                      (part 1)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from common.rollouts import Trajectory
from hw1_imitation.experts import Dataset


def relabel_with_expert(trajectories: Sequence[Trajectory], expert) -> Dataset:
    """The learner's visited states, each labeled with the expert's action.

    trajectories: episodes the LEARNER played (each `Trajectory` has observations (T_k, obs_dim) and the
        learner's own actions (T_k, act_dim), which DAgger does not keep);
    expert: has `expert.act(observations (N, obs_dim) numpy) -> actions (N, act_dim) numpy`.
    ->  Dataset(observations, actions): observations (N, obs_dim) = every trajectory's observations in
        order (N = sum_k T_k), actions (N, act_dim) = the expert's actions at those observations.
    """
    # BEGIN SOLUTION (README 4.1)
    observations = np.concatenate([trajectory.observations for trajectory in trajectories])
    return Dataset(observations, expert.act(observations))
    # END SOLUTION


def aggregate(dataset: Dataset, new_data: Dataset) -> Dataset:
    """D u D_new: the old pairs first, then the new ones (no pair dropped, none duplicated).

    dataset: (N, ...) pairs; new_data: (M, ...) pairs  ->  Dataset of N + M pairs (observations
    (N + M, obs_dim), actions (N + M, act_dim)), dataset's first. The inputs are left unchanged.
    """
    # BEGIN SOLUTION (README 4.2)
    return Dataset(np.concatenate([dataset.observations, new_data.observations]),
                   np.concatenate([dataset.actions, new_data.actions]))
    # END SOLUTION
