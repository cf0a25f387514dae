"""Part 5: proximal policy optimization with the clipped objective, PPO-clip (Schulman et al. 2017).

The policy gradient agent takes ONE gradient step per batch: after that the batch was sampled by
an older policy. PPO reuses the batch for several epochs by correcting with the importance ratio
(advanced policy gradients lecture)

    r_t(theta) = pi_theta(a_t|s_t) / pi_theta_old(a_t|s_t) = exp(log pi_theta - log pi_theta_old)

and keeps pi_theta near pi_theta_old by clipping the ratio in a pessimistic surrogate:

    L^CLIP(theta) = E_t[ min( r_t A_hat_t, clip(r_t, 1 - eps, 1 + eps) A_hat_t ) ]

Everything else (advantages, GAE, baseline, normalization) is the PGAgent's.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from hw2_policy_gradient.agent import PGAgent, PGAgentConfig


@dataclass
class PPOAgentConfig(PGAgentConfig):
    """PGAgentConfig plus the PPO settings."""

    clip_epsilon: float = 0.2       # eps: how far the ratio may move before the objective goes flat
    ppo_epochs: int = 10            # passes over the batch per iteration
    minibatch_size: int = 64
    max_grad_norm: float = 0.5      # clip the actor's gradient norm (0: no clipping)


def clipped_surrogate_loss(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    clip_epsilon: float,
) -> torch.Tensor:
    """The negated PPO-clip objective, to minimize.

        r_t    = exp(log pi_theta(a_t|s_t) - log pi_theta_old(a_t|s_t))
        L(theta) = -(1/N) sum_t min( r_t A_hat_t, clip(r_t, 1 - eps, 1 + eps) A_hat_t )

    old_log_probs and advantages are constants: no gradient may flow into them (detach them), so
    the gradient comes only through log pi_theta. Where the clipped term is the smaller one, the
    gradient is 0: a ratio already pushed past 1 + eps (A > 0) or below 1 - eps (A < 0) gets no
    further push.

    log_probs: (B,) with grad, old_log_probs: (B,), advantages: (B,)  ->  scalar tensor
    """
    # BEGIN SOLUTION (README 6.1)
    ratio = torch.exp(log_probs - old_log_probs.detach())
    advantages = advantages.detach()
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip_epsilon, 1.0 + clip_epsilon) * advantages
    return -torch.min(unclipped, clipped).mean()
    # END SOLUTION


class PPOAgent(PGAgent):
    """A PGAgent whose actor update is several epochs of minibatch steps on the clipped surrogate."""

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool, config: PPOAgentConfig | Mapping | None = None):
        if config is None:
            config = PPOAgentConfig()
        elif isinstance(config, Mapping):
            config = PPOAgentConfig.from_mapping(config)
        super().__init__(obs_dim, action_dim, discrete, config)

    def update_policy(self, observations: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor) -> dict:
        """`ppo_epochs` passes over the batch in shuffled minibatches of `minibatch_size`.

        log pi_theta_old = self.actor.log_prob(observations, actions) is computed ONCE, before the
        first step, without gradient, and stays fixed for all epochs. Every epoch visits each
        sample exactly once, in a new random order: one torch.randperm(N) call per epoch and no
        other draw from torch's generator (the grader seeds it and replays your order), in
        minibatches of minibatch_size (the last one smaller when it does not divide N):
        ppo_epochs * ceil(N / minibatch_size) Adam steps in all. The advantages arrive as update
        made them (normalized once over the whole batch when normalize_advantages): use them as they
        are, without normalizing each minibatch again. Each step, on minibatch b:

            loss_b = clipped_surrogate_loss(log pi_theta(b), log pi_theta_old(b), A_hat(b), clip_epsilon)
                     - entropy_coefficient * mean of self.actor.entropy over b

        backward, clip the actor's gradient norm to max_grad_norm (when > 0,
        nn.utils.clip_grad_norm_), then self.actor_optimizer.step().

        observations: (N, obs_dim), actions: (N,) or (N, act_dim), advantages: (N,)  (torch)
        Returns the metrics (floats), everything "before the step" measured on the minibatch just
        before its Adam step:
          "actor_loss":    mean over all steps of loss_b (entropy term included), before the step;
          "entropy":       mean over all steps of the minibatch's mean entropy, before the step;
          "clip_fraction": for each minibatch of the LAST epoch, the fraction of its samples whose
                           ratio r_t = exp(log pi_theta - log pi_theta_old), before the step, lies
                           outside [1 - eps, 1 + eps], i.e. |r_t - 1| > eps (whatever the sign of
                           A_hat); then the mean over those minibatches;
          "approx_kl":     mean over the whole batch of log pi_theta_old - log pi_theta, with
                           pi_theta the policy after the last step.
        """
        config = self.config
        # BEGIN PROMPT
        # Hint: torch.randperm(N).split(minibatch_size) gives shuffled minibatch indices.
        # END PROMPT
        # BEGIN SOLUTION (README 6.2)
        with torch.no_grad():
            old_log_probs = self.actor.log_prob(observations, actions)
        num_samples = len(observations)
        losses, entropies, clipped = [], [], []
        for _ in range(config.ppo_epochs):
            clipped = []
            for indices in torch.randperm(num_samples).split(config.minibatch_size):
                log_probs = self.actor.log_prob(observations[indices], actions[indices])
                entropy = self.actor.entropy(observations[indices]).mean()
                loss = clipped_surrogate_loss(log_probs, old_log_probs[indices], advantages[indices],
                                              config.clip_epsilon)
                loss = loss - config.entropy_coefficient * entropy
                self.actor_optimizer.zero_grad()
                loss.backward()
                if config.max_grad_norm > 0:
                    nn.utils.clip_grad_norm_(self.actor.parameters(), config.max_grad_norm)
                self.actor_optimizer.step()
                losses.append(loss.item())
                entropies.append(entropy.item())
                ratio = torch.exp(log_probs.detach() - old_log_probs[indices])
                clipped.append(((ratio - 1.0).abs() > config.clip_epsilon).float().mean().item())
        with torch.no_grad():
            approx_kl = (old_log_probs - self.actor.log_prob(observations, actions)).mean().item()
        return {
            "actor_loss": sum(losses) / len(losses),
            "entropy": sum(entropies) / len(entropies),
            "clip_fraction": sum(clipped) / len(clipped),
            "approx_kl": approx_kl,
        }
        # END SOLUTION
