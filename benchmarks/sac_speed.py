"""Env steps per second of the reference SAC against a plain textbook SAC with the same architecture.

    nice -n 10 python -m benchmarks.sac_speed                      # HalfCheetah-v5, 256x256, batch 256
    python -m benchmarks.sac_speed --env Hopper-v5 --steps 300 --rounds 3

Both agents run the same loop: one env step, then one SAC update on a batch from a replay buffer
pre-filled with random transitions; the measured rate is env steps per second of that loop. The
two differ only in how the update is computed:

* reference (hw3_qlearning_ac.sac.SACAgent): the E = 2 critics are one EnsembleCritic (stacked
  weights, one batched matrix product per layer for both critics), the actor step uses the
  critics' weights as constants so that backpropagation computes no critic weight gradients, and
  Adam is fused (one kernel per network); it runs twice: on one thread ("reference") and with
  the actor's and the critics' gradients computed on two threads at once ("reference_overlap",
  SACConfig.overlap_actor_critic, as the HalfCheetah and Hopper configs run it);
* plain (PlainSAC below): two separate critic MLPs with separate forward passes, and the actor's
  backward pass computes (and throws away) the critics' weight gradients, as in most textbook code.

Same actor, same losses (the functions of hw3_qlearning_ac.sac), same batch size, learning rates
and network sizes. The two alternate in `--rounds` chunks of `--steps` env steps, so a change of
load on a shared machine hits all alike. The last line is `ratio <reference_overlap / plain>`
(env steps per wall-clock second).
"""
from __future__ import annotations

import argparse
import copy
from dataclasses import replace
import os
import time

import numpy as np
import torch
from torch import nn

from common.envs import make_env
from common.replay_buffer import ReplayBuffer
from common.rollouts import StepSampler, random_policy
from common.torch_utils import build_mlp, set_torch_threads, to_numpy, to_torch
from hw3_qlearning_ac.sac import (
    SACAgent,
    SACConfig,
    actor_loss_reparameterized,
    critic_backup,
    polyak_update,
    squashed_gaussian_sample_and_log_prob,
    temperature_loss,
)
from hw3_qlearning_ac.sac_networks import SquashedGaussianActor


class PlainSAC(nn.Module):
    """Textbook SAC: two critic networks, each called separately; the actor step backpropagates
    into the critics' weights. Clipped double-Q backup, reparameterized actor, auto temperature."""

    def __init__(self, obs_dim: int, act_dim: int, config: SACConfig):
        super().__init__()
        self.config = config
        self.target_entropy = -float(act_dim)
        hidden = config.hidden_sizes
        self.actor = SquashedGaussianActor(obs_dim, act_dim, hidden, config.activation)
        self.q1 = build_mlp(obs_dim + act_dim, 1, hidden, config.activation)
        self.q2 = build_mlp(obs_dim + act_dim, 1, hidden, config.activation)
        self.q1_target, self.q2_target = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        self.log_alpha = nn.Parameter(torch.zeros(()))
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_learning_rate)
        self.critic_optimizer = torch.optim.Adam([*self.q1.parameters(), *self.q2.parameters()],
                                                 lr=config.critic_learning_rate)
        self.alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=config.alpha_learning_rate)

    @torch.no_grad()
    def get_action(self, observations: np.ndarray) -> np.ndarray:
        mean, log_std = self.actor(to_torch(observations))
        actions, _ = squashed_gaussian_sample_and_log_prob(mean, log_std, torch.randn_like(mean))
        return to_numpy(actions)

    def update(self, observations, actions, rewards, next_observations, terminated) -> None:
        cfg = self.config
        obs, act, rew = to_torch(observations), to_torch(actions), to_torch(rewards)
        next_obs, term = to_torch(next_observations), to_torch(terminated)
        alpha = self.log_alpha.detach().exp().item()
        with torch.no_grad():
            next_mean, next_log_std = self.actor(next_obs)
            next_act, next_log_prob = squashed_gaussian_sample_and_log_prob(next_mean, next_log_std, torch.randn_like(next_mean))
            next_x = torch.cat([next_obs, next_act], dim=-1)
            next_q = torch.stack([self.q1_target(next_x).squeeze(-1), self.q2_target(next_x).squeeze(-1)])
            y = critic_backup(rew, term, next_q, next_log_prob, cfg.gamma, alpha, "min")
        x = torch.cat([obs, act], dim=-1)
        critic_loss = ((self.q1(x).squeeze(-1) - y) ** 2).mean() + ((self.q2(x).squeeze(-1) - y) ** 2).mean()
        self.critic_optimizer.zero_grad()
        critic_loss.backward()
        self.critic_optimizer.step()

        mean, log_std = self.actor(obs)
        new_act, log_prob = squashed_gaussian_sample_and_log_prob(mean, log_std, torch.randn_like(mean))
        new_x = torch.cat([obs, new_act], dim=-1)
        q = torch.min(self.q1(new_x).squeeze(-1), self.q2(new_x).squeeze(-1))
        actor_loss = actor_loss_reparameterized(log_prob, q, alpha)
        self.actor_optimizer.zero_grad()
        actor_loss.backward()  # also fills the critics' .grad, cleared by the next critic step
        self.actor_optimizer.step()

        loss = temperature_loss(self.log_alpha, log_prob.detach(), self.target_entropy)
        self.alpha_optimizer.zero_grad()
        loss.backward()
        self.alpha_optimizer.step()
        polyak_update(self.q1_target, self.q1, cfg.tau)
        polyak_update(self.q2_target, self.q2, cfg.tau)


def run_steps(agent, sampler: StepSampler, buffer: ReplayBuffer, rng, steps: int, batch_size: int) -> tuple[float, float]:
    """`steps` iterations of (one env step, one update); returns (wall-clock, CPU) seconds taken."""
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(steps):
        batch = sampler.sample(agent.get_action, num_steps=1)
        buffer.add_batch(batch)
        sample = buffer.sample(batch_size, rng)
        agent.update(sample.observations, sample.actions, sample.rewards, sample.next_observations, sample.terminated)
    return time.perf_counter() - start, time.process_time() - cpu_start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--steps", type=int, default=300, help="env steps per chunk")
    parser.add_argument("--rounds", type=int, default=5, help="chunks per agent, alternating")
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=50, help="untimed update steps per agent first")
    args = parser.parse_args(argv)

    set_torch_threads()
    torch.manual_seed(0)
    config = SACConfig(hidden_sizes=tuple(args.hidden), batch_size=args.batch_size)
    agents = {}
    for name in ("reference", "reference_overlap", "plain"):
        env = make_env(args.env, seed=0)
        obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
        if name == "plain":
            agent = PlainSAC(obs_dim, act_dim, config)
        else:
            agent = SACAgent(obs_dim, act_dim, replace(config, overlap_actor_critic=name == "reference_overlap"))
        buffer = ReplayBuffer(100_000, env.observation_space.shape, env.action_space.shape)
        sampler = StepSampler(env)
        buffer.add_batch(sampler.sample(random_policy(env), num_steps=2_000))
        rng = np.random.default_rng(0)
        run_steps(agent, sampler, buffer, rng, args.warmup, args.batch_size)
        agents[name] = (agent, sampler, buffer, rng)

    wall, cpu = {name: 0.0 for name in agents}, {name: 0.0 for name in agents}
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, (agent, sampler, buffer, rng) in agents.items():
            wall_s, cpu_s = run_steps(agent, sampler, buffer, rng, args.steps, args.batch_size)
            wall[name] += wall_s
            cpu[name] += cpu_s
    total = args.steps * args.rounds
    print(f"{args.env}, hidden {args.hidden}, batch {args.batch_size}, {total} env steps + updates each, "
          f"torch threads {torch.get_num_threads()}, load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}")
    # On a shared machine the wall-clock rate depends on the other processes; the rate per CPU
    # second of this process does much less (but counts both threads' time with --overlap).
    for name in agents:
        print(f"{name:17s} {total / wall[name]:7.1f} env steps/s   ({total / cpu[name]:.1f} per CPU second)")
    print(f"ratio reference (one thread) / plain: {wall['plain'] / wall['reference']:.2f} wall-clock, "
          f"{cpu['plain'] / cpu['reference']:.2f} CPU time")
    # The last line: the reference as the HalfCheetah and Hopper configs run it (overlap_actor_critic).
    print(f"ratio {wall['plain'] / wall['reference_overlap']:.2f}")


if __name__ == "__main__":
    main()
