"""Milliseconds per planned action: the reference MPC planner against a plain one that loops in Python.

    nice -n 10 python -m benchmarks.mpc_speed        # 1000 candidates, horizon 15, 5 members, HalfCheetah
    python -m benchmarks.mpc_speed --candidates 500 --rounds 3

One planned action of random shooting = score N candidate sequences of H actions under E models
(hw4_model_based.planning), here on hw4/HalfCheetah-v5 (obs 18, actions 6) with the reference's
dynamics network (200x200, SiLU). The variants compute the same scores (checked before timing):

* reference: MPCAgent.plan as the homework runs it. All E members and N candidates go through one
  batched model call per horizon step (stacked weights, one batched matrix product per layer), in
  torch.inference_mode.
* reference_bf16: the same with the matrix products in bfloat16 (PlannerConfig.matmul_dtype);
  states, deltas and rewards stay float32.
* plain: what the lecture's pseudo-code gives when written directly: for each member, for each
  horizon step, normalize, run that member's own MLP (nn.Linear layers holding the same weights),
  unnormalize, add the reward. Same number of floating-point operations as the reference, E times
  as many (smaller) operations, and no autograd either.

`--device` (default: CUDA when present, else CPU) places the model and every tensor of all three
variants; on a GPU each figure waits for the device to finish (torch.cuda.synchronize). On one CPU
thread both run the same matrix products at the same speed, so the ratio stays near 1 (README 8 of
homework 4); on a GPU the loop's E*H times as many small launches are what batching should save (not
yet measured: no GPU was lent to the sessions so far).

The variants alternate in `--rounds` rounds of `--repeats` planned actions each, so a change of load
on a shared machine hits all alike; each figure is the median over rounds of the mean per action.
The last line is `ratio <plain / reference>`.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
from torch import nn

from common.torch_utils import build_mlp, get_device, keep_freed_memory, set_torch_threads
from hw4_model_based.dynamics import EnsembleDynamics
from hw4_model_based.envs import HALFCHEETAH_ID
from hw4_model_based.planning import MPCAgent, PlannerConfig
from hw4_model_based.rewards import planning_task

OBS_DIM, ACT_DIM = 18, 6


def member_mlps(model: EnsembleDynamics) -> list[nn.Sequential]:
    """One ordinary MLP per member, holding that member's slice of the stacked weights."""
    hidden = [layer.weight.shape[2] for layer in model.layers[:-1]]
    networks = []
    for i in range(model.num_members):
        network = build_mlp(OBS_DIM + ACT_DIM, OBS_DIM, hidden, "silu")
        linears = [module for module in network if isinstance(module, nn.Linear)]
        with torch.no_grad():
            for linear, layer in zip(linears, model.layers):
                linear.weight.copy_(layer.weight[i].T)
                linear.bias.copy_(layer.bias[i, 0])
        networks.append(network)
    return networks


@torch.inference_mode()
def plain_scores(model: EnsembleDynamics, networks: list[nn.Sequential], task, obs: torch.Tensor,
                 action_sequences: torch.Tensor) -> torch.Tensor:
    """J(A) for (N, H, d_a) sequences, one member and one step at a time (HalfCheetah never terminates)."""
    num_sequences, horizon, _ = action_sequences.shape
    total = torch.zeros(num_sequences, device=action_sequences.device)
    for network in networks:
        states = obs.expand(num_sequences, -1)
        for t in range(horizon):
            actions = action_sequences[:, t]
            inputs = torch.cat([(states - model.obs_mean) / model.obs_std,
                                (actions - model.act_mean) / model.act_std], dim=-1)
            next_states = states + network(inputs) * model.delta_std + model.delta_mean
            total += task.reward(states, actions, next_states)
            states = next_states
    return total / len(networks)


def plain_random_shooting(model, networks, task, obs, config: PlannerConfig, generator) -> torch.Tensor:
    candidates = -1.0 + 2.0 * torch.rand((config.num_candidates, config.horizon, ACT_DIM), generator=generator,
                                         device=obs.device)
    return candidates[plain_scores(model, networks, task, obs, candidates).argmax()]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--horizon", type=int, default=15)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    parser.add_argument("--repeats", type=int, default=5, help="planned actions per round and variant")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--default-malloc", action="store_true",
                        help="leave glibc's allocator settings alone (see common.torch_utils.keep_freed_memory)")
    args = parser.parse_args(argv)
    set_torch_threads()
    if not args.default_malloc:
        keep_freed_memory()   # as hw4_model_based.run does; for every variant alike
    torch.manual_seed(0)
    device = get_device(args.device)

    task = planning_task(HALFCHEETAH_ID)
    model = EnsembleDynamics(OBS_DIM, ACT_DIM, args.members, args.hidden)
    networks = [network.to(device) for network in member_mlps(model)]
    model.to(device)
    low, high = -np.ones(ACT_DIM, np.float32), np.ones(ACT_DIM, np.float32)
    obs = np.random.default_rng(0).normal(size=OBS_DIM).astype(np.float32)
    config = PlannerConfig(method="random_shooting", horizon=args.horizon, num_candidates=args.candidates)
    agents = {name: MPCAgent(model, task, low, high, PlannerConfig(**{**vars(config), "matmul_dtype": dtype}))
              for name, dtype in (("reference", "float32"), ("reference_bf16", "bfloat16"))}
    generator = torch.Generator(device=device).manual_seed(0)
    obs_tensor = torch.as_tensor(obs, device=device)

    # The same plan from the same random numbers, before any timing.
    reference_plan = MPCAgent(model, task, low, high, config, seed=1).plan(obs)
    plain_plan = plain_random_shooting(model, networks, task, obs_tensor, config,
                                       torch.Generator(device=device).manual_seed(1))
    torch.testing.assert_close(reference_plan, plain_plan, rtol=1e-4, atol=1e-4)

    variants = {
        "reference": lambda: agents["reference"].plan(obs),
        "reference_bf16": lambda: agents["reference_bf16"].plan(obs),
        "plain": lambda: plain_random_shooting(model, networks, task, obs_tensor, config, generator),
    }
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for function in variants.values():
        function()  # warm-up
    for _ in range(args.rounds):
        for name, function in variants.items():
            synchronize()
            start = time.perf_counter()
            for _ in range(args.repeats):
                function()
            synchronize()
            times[name].append((time.perf_counter() - start) / args.repeats * 1000)

    print(f"{HALFCHEETAH_ID}: {args.candidates} candidates x horizon {args.horizon} x {args.members} members, "
          f"hidden {args.hidden}, device {device}, torch threads {torch.get_num_threads()}, "
          f"{'default malloc' if args.default_malloc else 'keep_freed_memory'}, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for name, values in times.items():
        print(f"{name:15s} {statistics.median(values):8.1f} ms per planned action "
              f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")
    reference, plain = statistics.median(times["reference"]), statistics.median(times["plain"])
    print(f"ratio plain / reference_bf16: {plain / statistics.median(times['reference_bf16']):.2f}")
    print(f"ratio {plain / reference:.2f}")


if __name__ == "__main__":
    main()
