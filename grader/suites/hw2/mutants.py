"""Proof that the hidden suite catches each classic bug of issue 5 (instructor tool, not a test file).

    python -m grader.suites.hw2.mutants            # all mutants, about a minute each on 2 cores
    python -m grader.suites.hw2.mutants rtg_off_by_one ppo_clip_wrong_side

Each mutant is the reference with one bug planted (a text replacement in one student file). It is
graded like a submission, and the tests named in `must_fail` must lose points. Exit status 1 when
one of them does not.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.harness.grade import grade
from grader.manifest import find_homework

PACKAGE = "hw2_policy_gradient"


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    replacements: tuple[tuple[str, str], ...]
    must_fail: tuple[str, ...]


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
            # the usual companion: zero_grad after the step, so the leaked gradient is applied
            ),
           ("test_actor_loss_sends_no_gradient_into_the_baseline",)),
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
           ("test_policy_gradient_loss_matches_reference", "test_policy_gradient_loss_descends_toward_positive_advantages")),
    Mutant("ppo_ratio_through_old_log_probs", "ppo.py",
           (("torch.exp(log_probs - old_log_probs.detach())", "torch.exp(log_probs - old_log_probs)"),),
           ("test_no_gradient_flows_into_the_old_log_probs",)),
    Mutant("ppo_clip_wrong_side", "ppo.py",
           (("-torch.min(unclipped, clipped).mean()", "-torch.max(unclipped, clipped).mean()"),),
           ("test_clipping_flattens_the_right_side", "test_clipped_surrogate_loss_matches_reference")),
)

# the critic companion of actor_gradient_into_baseline: zero the gradients after the step
CRITIC_ZERO_GRAD_AFTER_STEP = (
    "            self.optimizer.zero_grad()\n            loss.backward()\n            self.optimizer.step()\n",
    "            loss.backward()\n            self.optimizer.step()\n            self.optimizer.zero_grad()\n",
)


def write_mutant(mutant: Mutant, out: Path) -> None:
    homework = find_homework("hw2")
    for file in homework.files:
        (out / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(homework.root / file, out / file)
    replacements = list(mutant.replacements)
    path = out / PACKAGE / mutant.file
    text = path.read_text()
    for old, new in replacements:
        if old not in text:
            raise SystemExit(f"mutant {mutant.name}: {old!r} not found in {mutant.file}; update the mutant")
        text = text.replace(old, new)
    path.write_text(text)
    if mutant.name == "actor_gradient_into_baseline":
        critic = out / PACKAGE / "critics.py"
        critic.write_text(critic.read_text().replace(*CRITIC_ZERO_GRAD_AFTER_STEP))


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    failures = 0
    for mutant in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            write_mutant(mutant, Path(tmp))
            results = grade(find_homework("hw2"), submission=tmp)
        scores = {t["name"].split(":")[0]: (t["score"], t["max_score"]) for t in results["tests"]}
        lost = sorted(name for name, (score, top) in scores.items() if score < top)
        missed = [name for name in mutant.must_fail if name not in lost]
        failures += bool(missed)
        verdict = "CAUGHT" if not missed else f"NOT CAUGHT by {missed}"
        print(f"{mutant.name}: {verdict}; score {results['score']:g}; tests losing points: {', '.join(lost)}",
              flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
