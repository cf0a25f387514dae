"""Smoke-training tests: training points only for weights the student's learning produced.

A hidden suite's smoke training (docs/GRADER.md, "Smoke training tests") has four steps, and this
module holds what every homework's version shares (a bundle ships one suite, so suites cannot
import each other; they import this, which ships with the grader):

  1. the update gate: the student's update at the smoke config's settings must match the
     reference's (the suite's own code; `check_same_parameters` compares the weights after it);
  2. the worker trains with the course's loop for a budget in env steps, never wall time;
  3. `train_and_load`: the harness reads the trained weights back through `check_array`, rebuilds
     the seeded initial network (the suite gives it) and bounds how far each tensor moved from its
     seeded value by what the run's Adam steps can move it (`adam_max_travel`);
  4. the harness plays its own episodes with the trained weights in the course's own network
     (`play_episodes`) and pays by the mean return (`pay_for_return`; `better_of_two_seeds` where the
     reference's slowest seeds reach what no learning scores).

The suite's `smoke_config.py` holds the config, the evaluation and the command that measured the
thresholds over >= 10 reference seeds (`measure_reference` prints the per-seed lines).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import numpy as np

from grader.harness.api import check_array
from grader.harness.twins import assert_same_parameters

ADAM_BETAS = (0.9, 0.999)   # torch's defaults, which the course's agents use


def adam_max_travel(learning_rate: float, steps: int, betas: tuple[float, float] = ADAM_BETAS) -> float:
    """The furthest `steps` Adam steps can move one parameter, whatever the gradients.

    At step t, |m_hat / sqrt(v_hat)| <= sqrt(sum_i a_i^2 / b_i) sqrt(1 - b2^t) / (1 - b1^t) by
    Cauchy-Schwarz, with a_i = (1 - b1) b1^(t-i) and b_i = (1 - b2) b2^(t-i) the weights of gradient i
    in m_t and v_t (1 at t = 1: Adam's first step is lr * sign(g)). The inner sum is a geometric
    series of ratio b1^2 / b2; the sum over t is the bound (weight decay and eps only shorten a step).
    """
    b1, b2 = betas
    ratio = b1 ** 2 / b2
    total = 0.0
    for t in range(1, steps + 1):
        weight = (1 - b1) ** 2 / (1 - b2) * (1 - ratio ** t) / (1 - ratio)
        total += math.sqrt(weight) * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return learning_rate * total


def check_reachable_by_training(name: str, trained: np.ndarray, start: np.ndarray, learning_rate: float,
                                steps: int, keep: str) -> float:
    """Fail unless parameter `name` stayed within what `steps` Adam steps of `learning_rate` can move it
    from its seeded initial value `start`; return how far it moved (its largest entry's distance).
    keep: what the student must leave as given (the message says)."""
    bound = adam_max_travel(learning_rate, steps) * 1.001 + 1e-6
    moved = float(np.max(np.abs(trained.astype(np.float64) - start))) if start.size else 0.0
    assert moved <= bound, (
        f"the trained parameter {name} is {moved:.3g} away from its seeded initial value; {steps} Adam steps "
        f"of learning rate {learning_rate:g} move it at most {bound:.3g}. Only weights that training produced "
        f"earn the training points (keep {keep} as given, and change the weights only through the optimizer)")
    return moved


def train_and_load(submission, train: str, config: dict, initial, adam_steps: Callable[[str], tuple[float, int] | None],
                   keep: str, budget_s: float, min_travel: float = 0.0):
    """Train in the sandbox, check the trained weights against the seeded initial ones, return them loaded.

    train: the dotted path of the course's training function, called in the worker with `config`
        (budget_s is only the hang guard: the config's budget is in env steps).
    initial: the harness's own network (a torch.nn.Module) as the training loop builds it before its
        first update (the loop's seeding, then its constructor); it is returned holding the trained weights.
    adam_steps(name) -> (learning rate, number of Adam steps) that can have moved the tensor `name`
        during the run, or None for a tensor no optimizer trains (a statistic of the data).
    keep: what the student must leave as given for the weights to fit, e.g. "PGAgent.__init__".
    min_travel: some trained tensor must have moved at least this far from its seeded value: learning
        that stopped after a few updates (weights still at their initial scale) earns nothing, whatever
        return an untrained network happens to play. Set it far below the reference's (measured) travel.
    """
    import torch

    trained = submission.train(train, config, budget_s=budget_s)
    state = submission.get_state(trained)
    expected = initial.state_dict()
    assert isinstance(state, dict) and set(expected) <= set(state), (
        f"the trained agent's parameters do not fit the course's networks (keep {keep} as given)")
    state = {name: check_array(state[name], f"trained parameter {name}", shape=tuple(value.shape))
             for name, value in expected.items()}
    travel = 0.0
    for name, start in expected.items():
        steps = adam_steps(name)
        if steps is not None:
            moved = check_reachable_by_training(name, state[name], start.detach().cpu().numpy(), *steps, keep=keep)
            travel = max(travel, moved)
    assert travel >= min_travel, (
        f"after the smoke training no parameter is further than {travel:.3g} from its seeded initial value, where "
        f"training moves some by more than {min_travel:g}: the weights barely learned (does update() stop "
        "changing them after a few calls?)")
    initial.load_state_dict({name: torch.as_tensor(value) for name, value in state.items()})
    return initial


def check_same_parameters(got: dict, local, what: str, after: str, rtol: float, atol: float,
                          forgiven_fraction: float = 0.0) -> None:
    """The update gate: the student's parameters `got` (get_state) against the reference module `local`
    after the same update(s). what: the update ("PGAgent.update"); after: which ("after one update on a
    CartPole batch"). forgiven_fraction: entries of a tensor that float rounding may move through Adam's
    per-entry scaling (a gradient near 0 can flip Adam's first step) and are not counted."""
    for name, value in local.state_dict().items():
        if name not in got:
            raise AssertionError(f"training points need a correct {what}: the agent's state lacks {name}")
        expected = value.detach().cpu().numpy()
        actual = check_array(got[name], f"parameter {name}", shape=tuple(expected.shape))
        assert_same_parameters({name: actual}, {name: expected}, f"training points need a correct {what}; {after}",
                               rtol=rtol, atol=atol, forgiven_fraction=forgiven_fraction)


def play_episodes(env_id: str, act, episodes: int, seed: int, per_episode: bool = False) -> np.ndarray:
    """Undiscounted returns (episodes,) of the harness's own episodes in fresh environments seeded seed,
    seed + 1, ... (common.envs.make_env).

    act: observations (1, *obs_shape) float32 -> actions (1, *action_shape); with per_episode=True,
        act(env, episode_seed) returns that function for one episode (e.g. a planner seeded per episode).
    """
    from common.envs import make_env

    returns = np.zeros(episodes)
    for i in range(episodes):
        env = make_env(env_id, seed=seed + i)
        policy = act(env, seed + i) if per_episode else act
        obs, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            action = policy(np.asarray(obs, dtype=np.float32)[None])[0]
            obs, reward, terminated, truncated, _ = env.step(action)
            returns[i] += reward
            done = terminated or truncated
        env.close()
    return returns


def better_of_two_seeds(train_and_evaluate: Callable[[int], float], rng, threshold: float) -> float:
    """The mean return of train_and_evaluate(seed) for a seed drawn from `rng`; when it misses
    `threshold`, a second training with a new seed, and the better of the two counts.

    For smoke runs whose reference has a tail of slow seeds reaching down to what no learning scores
    (docs/GRADER.md): a correct submission misses twice about as rarely as the reference's tail squared,
    a wrong one misses both times."""
    mean = train_and_evaluate(int(rng.integers(0, 100_000)))
    if mean < threshold:
        mean = max(mean, train_and_evaluate(int(rng.integers(0, 100_000))))
    return mean


def pay_for_return(credit, mean: float, threshold: float, half_credit: float, message: str) -> None:
    """Full points at `threshold` or above, half at `half_credit` or above, else none; `message` on a miss."""
    if mean < threshold:
        credit.fraction = 0.5 if mean >= half_credit else 0.0
    assert mean >= threshold, message


def seed_range(text: str) -> range:
    """"0-19" -> range(0, 20); "7" -> range(7, 8) (the --seeds argument of a smoke_config measurement)."""
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def measure_reference(label: str, seeds: Iterable[int], train: Callable[[int], object],
                      evaluate: Callable[[int, object], np.ndarray]) -> list[float]:
    """Measure a threshold: for each seed train(seed) (the reference with the smoke config at that seed,
    its CPU time counted), then evaluate(seed, trained) -> the returns of the evaluation episodes in the
    harness's own network. Prints one line per seed and the spread; returns the per-seed means."""
    means, times = [], []
    for seed in seeds:
        start = time.process_time()
        trained = train(seed)
        times.append(time.process_time() - start)
        returns = np.asarray(evaluate(seed, trained), dtype=np.float64)
        means.append(float(returns.mean()))
        print(f"seed {seed}: mean return {means[-1]:.1f} (min {returns.min():.0f}), train CPU {times[-1]:.1f} s",
              flush=True)
    print(f"{label}: mean return over seeds: {' '.join(f'{m:.1f}' for m in means)}; min {min(means):.1f} "
          f"median {np.median(means):.1f} max {max(means):.1f}; train CPU s: max {max(times):.1f}")
    return means
