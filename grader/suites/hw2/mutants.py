"""Proof that the hidden suite catches planted bugs, pays correct variants in full and cheats nothing
(instructor tool, not a test file).

    python -m grader.suites.hw2.mutants            # all of them, 5 to 30 s each on 2 cores
    python -m grader.suites.hw2.mutants rtg_off_by_one gae_reads_values_t_plus_1

Each entry is the reference (or, with `starter=True`, the starter) with one change planted: text
replacements in one student file and/or code appended to student files. It is graded like a
submission through the real harness (grader/mutants.py), on the suite files in `suite_files` only
(the tests that can see the change; grading the others would only cost CI time), and must behave as
its kind says:
    bug      every test in `must_fail` loses points
    correct  a legitimate reading of the handout: every graded test scores full marks
    cheat    points without the work: every test in `must_fail` scores 0 (`must_fail=("*",)`: all of them)
Exit status 1 when one of them does not.
"""
from __future__ import annotations

import sys
from pathlib import Path

from grader.mutants import HomeworkMutants, Mutant

FILE_SUITES = {"returns.py": ("test_returns.py",), "agent.py": ("test_agent.py",),
               "critics.py": ("test_agent.py",), "policies.py": ("test_policies.py",), "ppo.py": ("test_ppo.py",)}

RTG_LOOP = """        following = rewards[t] + gamma * following
        returns[t] = following"""

MUTANTS = (
    Mutant("rtg_off_by_one", "returns.py",
           ((RTG_LOOP, "        returns[t] = gamma * following\n        following = rewards[t] + gamma * following"),),
           ("test_reward_to_go_includes_the_reward_of_step_t", "test_reward_to_go_matches_reference")),
    Mutant("rtg_discounted_from_episode_start", "returns.py",
           (("    returns = np.zeros_like(rewards)\n    following = 0.0  # Q_hat_{t+1}",
             "    returns = np.zeros_like(rewards)\n    start = 0\n"
             "    for end in np.flatnonzero(terminated | truncated):\n"
             "        for t in range(start, end + 1):\n"
             "            returns[t] = sum(gamma ** (k - start) * rewards[k] for k in range(t, end + 1))\n"
             "        if not terminated[end]:\n"
             "            returns[start:end + 1] += gamma ** (end + 1 - start) * next_values[end]\n"
             "        start = end + 1\n"
             "    return returns.astype(np.float32)\n"
             "    following = 0.0  # Q_hat_{t+1}"),),
           ("test_reward_to_go_discounts_from_t", "test_reward_to_go_matches_reference")),
    Mutant("rtg_leaks_across_episodes", "returns.py",
           (("        if terminated[t]:\n            following = 0.0\n        elif truncated[t]:\n",
             "        if truncated[t]:\n"),),
           ("test_estimators_do_not_leak_across_episode_boundaries",)),
    Mutant("gae_leaks_across_episodes", "returns.py",
           (("        if episode_ends[t]:\n            following = 0.0\n", ""),),
           ("test_estimators_do_not_leak_across_episode_boundaries", "test_gae_matches_reference")),
    Mutant("truncation_as_termination", "returns.py",
           (("            following = next_values[t]\n", "            following = 0.0\n"),
            ("gamma * next_values * (~terminated)", "gamma * next_values * (~(terminated | truncated))"),
            ("        if not terminated[end]:  # truncated", "        if False:  # truncated")),
           ("test_truncation_bootstraps_and_termination_does_not",)),
    Mutant("normalization_missing", "agent.py",
           (("        if self.config.normalize_advantages:\n            advantages = returns.normalize(advantages)\n",
             ""),),
           ("test_update_normalizes_advantages_exactly_when_enabled",)),
    Mutant("actor_gradient_into_baseline", "agent.py",
           (("-(log_probs * advantages.detach()).mean()", "-(log_probs * advantages).mean()"),
            ("            to_torch(advantages, device=device),\n",
             "            to_torch(advantages, device=device) + (0.0 if self.critic is None else\n"
             "                self.critic(to_torch(observations)) - self.critic(to_torch(observations)).detach()),\n"),
            ),
           ("test_actor_loss_sends_no_gradient_into_the_baseline",),
           # the usual companion: zero_grad after the step, so the leaked gradient is applied
           also=(("critics.py",
                  "            self.optimizer.zero_grad()\n            loss.backward()\n            self.optimizer.step()\n",
                  "            loss.backward()\n            self.optimizer.step()\n            self.optimizer.zero_grad()\n"),)),
    Mutant("baseline_updated_before_the_actor", "agent.py",
           (("        values = self.values(observations)\n",
             "        if self.critic is not None:\n"
             "            q = returns.reward_to_go(rewards, terminated, truncated, self.config.gamma,\n"
             "                                     self.values(next_observations))\n"
             "            self.critic.update(observations, q, self.config.baseline_gradient_steps)\n"
             "        values = self.values(observations)\n"),),
           ("test_baseline_loss_sends_no_gradient_into_the_actor",)),
    Mutant("log_prob_not_summed", "policies.py",
           ((".log_prob(actions).sum(dim=-1)", ".log_prob(actions).mean(dim=-1)"),),
           ("test_gaussian_log_prob_is_summed_over_action_dimensions",)),
    Mutant("wrong_loss_sign", "agent.py",
           (("    loss = -(log_probs * advantages.detach()).mean()", "    loss = (log_probs * advantages.detach()).mean()"),),
           ("test_policy_gradient_loss_matches_reference", "test_policy_gradient_loss_gradient_matches_reference")),
    Mutant("ppo_ratio_through_old_log_probs", "ppo.py",
           (("torch.exp(log_probs - old_log_probs.detach())", "torch.exp(log_probs - old_log_probs)"),),
           ("test_no_gradient_flows_into_the_old_log_probs",)),
    Mutant("ppo_clip_wrong_side", "ppo.py",
           (("-torch.min(unclipped, clipped).mean()", "-torch.max(unclipped, clipped).mean()"),),
           ("test_clipping_flattens_the_right_side", "test_clipped_surrogate_loss_matches_reference")),
    # ---- issue 8: bugs behind a setting, a combination or a size the suite used to leave out
    Mutant("gae_lambda_zero_as_off", "agent.py",
           (("        if config.gae_lambda is not None:\n", "        if config.gae_lambda:\n"),),
           ("test_estimate_advantages_gae_lambda_zero",)),
    Mutant("baseline_ignores_full_returns", "agent.py",
           (("returns.reward_to_go if config.use_reward_to_go else",
             "returns.reward_to_go if config.use_reward_to_go or self.critic is not None else"),),
           ("test_estimate_advantages_full_return_with_baseline",)),
    Mutant("ppo_entropy_bonus_ignored", "ppo.py",
           (("                loss = loss - config.entropy_coefficient * entropy\n", ""),),
           ("test_ppo_update_entropy_bonus",)),
    Mutant("ppo_one_minibatch_per_epoch", "ppo.py",
           (("torch.randperm(num_samples).split(config.minibatch_size)", "[torch.randperm(num_samples)]"),),
           ("test_ppo_update_minibatches",)),
    Mutant("ppo_gradient_norm_not_clipped", "ppo.py",
           (("                if config.max_grad_norm > 0:\n", "                if False:\n"),),
           ("test_ppo_update_clips_the_gradient_norm",)),
    Mutant("critic_returns_per_sample_losses", "critics.py",
           (("            loss_value = loss.item()\n",
             "            loss_value = ((self(obs) - targets) ** 2).detach()\n"),),
           ("test_value_critic_update_matches_reference", "test_update_matches_reference_with_gae_and_entropy")),
    Mutant("ppo_metrics_off_the_handout", "ppo.py",
           (("                losses.append(loss.item())",
             "                losses.append(loss.item() + config.entropy_coefficient * entropy.item())"),
            ("(old_log_probs - self.actor.log_prob(observations, actions)).mean()",
             "(self.actor.log_prob(observations, actions) - old_log_probs).mean()")),
           ("test_ppo_update_policy_reports_the_metrics_of_the_handout",)),
    Mutant("ppo_new_optimizer_every_update", "ppo.py",
           (("        num_samples = len(observations)\n",
             "        num_samples = len(observations)\n"
             "        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.learning_rate)\n"),),
           ("test_ppo_update_epochs_on_the_full_batch",)),
    # ---- correct variants: a legitimate reading must score full marks
    Mutant("gae_reads_values_t_plus_1", "returns.py",
           (("    deltas = rewards + gamma * next_values * (~terminated) - values\n",
             "    # V(s_{t+1}) is values[t + 1] inside an episode; next_values only at an episode's end\n"
             "    following_values = np.append(values[1:], 0.0)\n"
             "    ends = terminated | truncated\n"
             "    following_values[ends] = next_values[ends]\n"
             "    deltas = rewards + gamma * following_values * (~terminated) - values\n"),),
           kind="correct", suite_files=("test_returns.py", "test_agent.py", "test_ppo.py")),
    Mutant("ppo_minibatches_by_slicing", "ppo.py",
           (("            for indices in torch.randperm(num_samples).split(config.minibatch_size):\n",
             "            permutation = torch.randperm(num_samples)\n"
             "            for start in range(0, num_samples, config.minibatch_size):\n"
             "                indices = permutation[start:start + config.minibatch_size]\n"),),
           kind="correct"),
    Mutant("ppo_detached_old_log_probs_and_metrics_written_otherwise", "ppo.py",
           (("        with torch.no_grad():\n            old_log_probs = self.actor.log_prob(observations, actions)\n",
             "        old_log_probs = self.actor.log_prob(observations, actions).detach()\n"),
            ("((ratio - 1.0).abs() > config.clip_epsilon)",
             "((ratio < 1.0 - config.clip_epsilon) | (ratio > 1.0 + config.clip_epsilon))"),
            ("                entropy = self.actor.entropy(observations[indices]).mean()\n",
             "                entropy = self.actor.distribution(observations[indices]).entropy().sum(-1).mean()\n")),
           kind="correct"),
    Mutant("critic_loss_written_out", "critics.py",
           (("nn.functional.mse_loss(self(obs), targets)", "((self(obs) - targets) ** 2).mean()"),),
           kind="correct"),
    # ---- issue 9: points without the work
    Mutant("controller_in_weights", "agent.py", (), ("test_cartpole_smoke_training_reaches_threshold",),
           kind="cheat", appended=(("agent.py", "CONTROLLER_CHEAT\n_CHEAT_AFTER = 0\n"),),
           suite_files=("test_training.py",)),
    Mutant("controller_in_weights_after_a_few_updates", "agent.py", (),
           ("test_cartpole_smoke_training_reaches_threshold",),
           kind="cheat", appended=(("agent.py", "CONTROLLER_CHEAT\n_CHEAT_AFTER = 3\n"),),
           suite_files=("test_training.py",)),
    Mutant("vacuous_stubs", "agent.py", (), ("*",), kind="cheat", starter=True,
           appended=(("critics.py", "STUB_CRITIC"), ("agent.py", "STUB_AGENT"), ("ppo.py", "STUB_PPO")),
           suite_files=("test_agent.py", "test_ppo.py", "test_training.py")),
)

# A hand-made CartPole controller (push towards the side the pole falls to) written into the actor's
# own parameters by update, after the real update, whenever the agent has CartPole's shapes.
CONTROLLER_CHEAT = """

_real_update = PGAgent.update


def _update_and_write_a_controller(self, *args, **kwargs):
    metrics = _real_update(self, *args, **kwargs)
    self._cheat_calls = getattr(self, "_cheat_calls", 0) + 1
    layers = [m for m in self.actor.modules() if isinstance(m, nn.Linear)]
    if (self.discrete and layers[0].in_features == 4 and layers[-1].out_features == 2
            and self._cheat_calls > _CHEAT_AFTER):
        with torch.no_grad():
            for layer in layers:
                layer.weight.zero_()
                layer.bias.zero_()
            layers[0].weight[0, 2:] = 5.0                 # h = tanh(5 (angle + angular velocity))
            for layer in layers[1:-1]:
                layer.weight[0, 0] = 3.0
            layers[-1].weight[0, 0], layers[-1].weight[1, 0] = -5.0, 5.0
    return metrics


PGAgent.update = _update_and_write_a_controller
"""
# Stubs that satisfied the old property-only tests with no math implemented (issue 9).
STUBS = {
    "STUB_CRITIC": """

def _nudge_and_report(self, observations, targets, num_steps):
    with torch.no_grad():
        for parameter in self.parameters():
            parameter.add_(1e-3 * num_steps)
    return 1.0 / max(num_steps, 1)


ValueCritic.update = _nudge_and_report
""",
    "STUB_AGENT": """

def policy_gradient_loss(log_probs, advantages, entropies=None, entropy_coefficient=0.0):
    return 0 * log_probs.sum()


def _nudge(self, *args, **kwargs):
    with torch.no_grad():
        for parameter in self.parameters():
            parameter.add_(1e-3)
    return {"actor_loss": 0.1, "entropy": 0.5, "baseline_loss": 0.1}


PGAgent.update = _nudge
""",
    "STUB_PPO": """

def clipped_surrogate_loss(log_probs, old_log_probs, advantages, clip_epsilon):
    return 0 * log_probs.sum()
""",
}

HOMEWORK = HomeworkMutants("hw2", Path(__file__).resolve().parent, FILE_SUITES, MUTANTS,
                           {"CONTROLLER_CHEAT": CONTROLLER_CHEAT, **STUBS})


def run(mutant: Mutant, seed: int | None = None) -> tuple[str | None, dict]:
    """Grade `mutant`; `seed` fixes the hidden inputs (None: fresh ones, as a real grading draws)."""
    return HOMEWORK.run(mutant, seed)


if __name__ == "__main__":
    sys.exit(HOMEWORK.main(sys.argv[1:]))
