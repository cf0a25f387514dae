"""Random inputs for the hw3 Q-learning hidden tests, shaped like what real training produces, and
the twin-agent helpers of the update tests.

Every input comes from the test's `rng` (new on every grading run). A mini-batch is what
common.replay_buffer samples: transitions from anywhere in the buffer, in no episode order, each with
the true next observation, and its two flags: most transitions neither, some terminated, some
truncated by a time limit, some both (a time limit on a terminal step; termination wins). Q-values
are network outputs: real numbers without ties, the online network's close to but not equal to the
target network's (it has moved on since the last copy), so that the two argmaxes differ on some rows.
"""
from __future__ import annotations

import numpy as np
import torch

from grader.harness import twins
from grader.harness.twins import (  # noqa: F401 (the tests import them from here)
    assert_same_parameters, remote_tensor, state_of)
from hw3_qlearning_ac.dqn import DQNAgent

AGENT = "hw3_qlearning_ac.dqn.DQNAgent"
KINDS = ("neither", "terminated", "truncated", "both")


def random_gamma(rng: np.random.Generator, low: float = 0.9, high: float = 0.999) -> float:
    return round(float(rng.uniform(low, high)), 3)


def replay_flags(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """terminated, truncated (n,) of a sampled mini-batch (n >= 8): every kind occurs at least twice."""
    kinds = np.concatenate([np.repeat(np.arange(4), 2), rng.choice(4, size=n - 8, p=[0.55, 0.2, 0.15, 0.1])])
    rng.shuffle(kinds)
    return np.isin(kinds, (1, 3)), np.isin(kinds, (2, 3))


def q_table(rng: np.random.Generator, n: int, num_actions: int, scale: float | None = None) -> np.ndarray:
    """(n, num_actions) float32 Q-values as a network outputs them: a value per state, spread over actions."""
    scale = float(rng.uniform(0.5, 5.0)) if scale is None else scale
    state_values = rng.normal(rng.uniform(-20, 20), scale, size=(n, 1))
    return (state_values + rng.normal(0.0, scale, size=(n, num_actions))).astype(np.float32)


def online_and_target_q(rng: np.random.Generator, n: int, num_actions: int) -> tuple[np.ndarray, np.ndarray]:
    """Q_phi(s', .) and Q_phi'(s', .) (n, A): close, but their argmaxes differ on at least a quarter of the rows."""
    while True:
        target = q_table(rng, n, num_actions)
        online = (target + rng.normal(0.0, float(np.std(target - target.mean(1, keepdims=True))), size=target.shape)
                  ).astype(np.float32)
        if np.mean(online.argmax(1) != target.argmax(1)) >= 0.25:
            return online, target


def replay_batch(rng: np.random.Generator, n: int, obs_dim: int, num_actions: int, reward_scale: float = 1.0) -> dict:
    """The fields of common.rollouts.Transitions for a mini-batch of n transitions."""
    terminated, truncated = replay_flags(rng, n)
    return dict(observations=rng.normal(size=(n, obs_dim)).astype(np.float32),
                actions=rng.integers(0, num_actions, size=n),
                rewards=rng.normal(0.0, reward_scale, size=n).astype(np.float32),
                next_observations=rng.normal(size=(n, obs_dim)).astype(np.float32),
                terminated=terminated, truncated=truncated)


def credit_for_cases(credit, cases) -> None:
    """Run each check of one test (a callable that raises AssertionError when the student is wrong):
    the test earns the share that passes and fails with the messages of the others."""
    messages = []
    for check in cases:
        try:
            check()
        except AssertionError as error:
            messages.append(str(error))
    credit.fraction = 1 - len(messages) / len(cases)
    assert not messages, "; ".join(messages)


# ----------------------------------------------------------------------------------- twin agents
def agent_settings(rng: np.random.Generator, **overrides) -> dict:
    """An agent config (the `agent:` section of a config file) with small networks, for fast tests."""
    hidden = int(rng.choice([16, 24, 32]))
    return {"gamma": random_gamma(rng), "learning_rate": round(float(rng.uniform(1e-3, 1e-2)), 4),
            "hidden_sizes": [hidden, hidden], "target_update_period": 1000, "max_grad_norm": 10.0, **overrides}


def twin_agents(submission, rng: np.random.Generator, settings: dict, obs_dim: int, num_actions: int):
    """A reference DQNAgent and the student's, with the same weights. The target network lags behind
    the online one, as between two copies during training: halfway to other random weights, drawn
    until the two networks' greedy actions differ on at least a quarter of random observations
    (double DQN's target differs from DQN's only where they do)."""
    torch.manual_seed(int(rng.integers(1 << 30)))
    local = DQNAgent((obs_dim,), num_actions, dict(settings))
    probe = rng.normal(size=(256, obs_dim)).astype(np.float32)
    for _ in range(100):
        lagging = DQNAgent((obs_dim,), num_actions, dict(settings))
        with torch.no_grad():
            for target, online, other in zip(local.target_network.parameters(), local.q_network.parameters(),
                                             lagging.q_network.parameters()):
                target.copy_(online + 0.5 * (other - online))
        if greedy_disagreement(local, probe) >= 0.25:
            break
    student = submission.new(AGENT, [obs_dim], num_actions, dict(settings))
    submission.set_state(student, state_of(local))
    return local, student


def greedy_disagreement(local, observations: np.ndarray) -> float:
    """The fraction of observations on which the online and the target network's greedy actions differ."""
    with torch.no_grad():
        obs = torch.as_tensor(observations)
        return float((local.q_network(obs).argmax(1) != local.target_network(obs).argmax(1)).float().mean())


def agent_batch(rng: np.random.Generator, local, n: int, obs_dim: int, num_actions: int,
                reward_scale: float = 1.0) -> dict:
    """A mini-batch for `local`'s twin. For a double-DQN agent, drawn until the greedy actions of the
    two networks differ on at least a fifth of its next observations, so that the double target is
    not the plain one by chance."""
    for _ in range(100):
        batch = replay_batch(rng, n, obs_dim, num_actions, reward_scale)
        if not local.config.double_q or greedy_disagreement(local, batch["next_observations"]) >= 0.2:
            break
    return batch


def student_parameters(submission, student, local, prefix: str, what: str) -> dict:
    """The student's parameters named `prefix...` as arrays, each checked against the reference's shape."""
    return twins.student_parameters(submission, student, local_parameters(local, prefix), what,
                                    keep="q_network and target_network as built")


def assert_online_network_matches(submission, student, local, what: str) -> None:
    """The student's online network has the reference's weights (up to float rounding)."""
    assert_same_parameters(student_parameters(submission, student, local, "q_network.", "the online network"),
                           local_parameters(local, "q_network."), what)


def same_parameters(got: dict, expected: dict) -> bool:
    try:
        assert_same_parameters(got, expected, "")
    except AssertionError:
        return False
    return True


def local_parameters(local, prefix: str) -> dict:
    return twins.with_prefix(state_of(local), prefix)
