"""How fast common.rollouts samples, compared with the simplest possible loop.

On HalfCheetah-v5 with a 2x64 tanh MLP policy (torch, one thread), measures environment steps
per second of
* a bare loop: policy on one observation, env.step, reset at episode end, nothing stored;
* sample_trajectories on one env, for the same number of steps;
* sample_trajectories on vector envs of 1 and 4 copies (SyncVectorEnv: the copies step one
  after another, so 4 copies gain only from evaluating the policy on 4 observations at once).

The bare loop and the sampler alternate, `--repeats` times each, and the best rate of each is
kept: on a shared machine other processes only ever slow a measurement down. The last line is
`ratio <sampler/bare>`, the best sampler rate over the best bare-loop rate (goal: >= 0.90).

    python -m benchmarks.sampler_speed [--steps 10000] [--repeats 5]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from common.envs import make_env, make_vector_env
from common.rollouts import sample_trajectories
from common.torch_utils import build_mlp, set_torch_threads, to_numpy, to_torch

ENV_ID = "HalfCheetah-v5"


def make_policy(obs_size: int, action_size: int):
    """A 2x64 tanh MLP as a numpy-in, numpy-out policy (the deterministic mean of a Gaussian policy)."""
    net = build_mlp(obs_size, action_size, (64, 64))

    @torch.no_grad()
    def policy(observations: np.ndarray) -> np.ndarray:
        return to_numpy(net(to_torch(observations)))

    return policy


def bare_loop(env, policy, num_steps: int) -> float:
    """Steps per second of the plainest loop: act, step, reset when the episode ends."""
    observation, _ = env.reset()
    start = time.perf_counter()
    for _ in range(num_steps):
        action = policy(observation[None])[0]
        observation, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            observation, _ = env.reset()
    return num_steps / (time.perf_counter() - start)


def sampler(env, policy, num_steps: int) -> tuple[float, int]:
    """Steps per second of sample_trajectories, and how many steps it took."""
    start = time.perf_counter()
    trajectories = sample_trajectories(env, policy, min_steps=num_steps)
    elapsed = time.perf_counter() - start
    steps = sum(len(t) for t in trajectories)
    return steps / elapsed, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="steps per measurement (episodes last 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="measurements of each kind (the best is kept)")
    args = parser.parse_args()

    set_torch_threads(1)
    torch.manual_seed(0)
    env = make_env(ENV_ID, seed=0)
    policy = make_policy(env.observation_space.shape[0], env.action_space.shape[0])
    vector_envs = {n: make_vector_env(ENV_ID, n, seed=0) for n in (1, 4)}

    names = ("bare loop", "sample_trajectories", "vector, 1 env", "vector, 4 envs")
    rates: dict[str, list[float]] = {name: [] for name in names}
    bare_loop(env, policy, 1000)  # warm-up: first torch calls and MuJoCo allocations are slow
    for _ in range(args.repeats):
        # Alternate, so that a burst of load elsewhere hits both kinds alike.
        rate, steps = sampler(env, policy, args.steps)
        rates["sample_trajectories"].append(rate)
        rates["bare loop"].append(bare_loop(env, policy, steps))
        rates["vector, 1 env"].append(sampler(vector_envs[1], policy, args.steps)[0])
        rates["vector, 4 envs"].append(sampler(vector_envs[4], policy, args.steps)[0])

    best = {name: max(values) for name, values in rates.items()}
    print(f"{ENV_ID}, 2x64 MLP policy, 1 torch thread, {args.steps} steps x {args.repeats} repeats")
    print(f"{'loop':<22} {'best steps/s':>12} {'median steps/s':>15}")
    for name, values in rates.items():
        print(f"{name:<22} {best[name]:>12.0f} {np.median(values):>15.0f}")
    vector_4 = best["vector, 4 envs"]
    print(f"speed-up, vector of 4 envs vs one env: {vector_4 / best['sample_trajectories']:.2f}")
    print(f"speed-up, vector of 4 envs vs vector of 1 env: {vector_4 / best['vector, 1 env']:.2f}")
    print(f"ratio {best['sample_trajectories'] / best['bare loop']:.3f}")


if __name__ == "__main__":
    main()
