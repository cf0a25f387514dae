"""Proof that the hw3 hidden suite catches planted bugs, pays correct variants in full and cheats nothing
(instructor tool, not a test file).

    python -m grader.suites.hw3.mutants                          # all of them
    python -m grader.suites.hw3.mutants dqn_no_target_network soft_q_max_not_logsumexp

Each entry is the reference (or, with `starter=True`, the starter) with one change planted, graded
through the real harness (grader/mutants.py) on the suite files that can see it, and must behave as
its kind says:
    bug      every test in `must_fail` loses points
    correct  a legitimate reading of the handout: every graded test scores full marks
    cheat    points without the work: every test in `must_fail` scores 0 (`must_fail=("*",)`: all of them)
Exit status 1 when one of them does not. The sac.py entries live in mutants_sac.py, the atari.py ones
in mutants_atari.py; this file holds those of schedules.py and dqn.py (parts dqn and soft_q).
"""
from __future__ import annotations

import sys
from pathlib import Path

from grader.mutants import HomeworkMutants, Mutant
from grader.suites.hw3.mutants_atari import ATARI_MUTANTS
from grader.suites.hw3.mutants_sac import SAC_MUTANTS, SAC_SNIPPETS

FILE_SUITES = {"schedules.py": ("test_dqn.py", "test_soft_q.py"), "dqn.py": ("test_dqn.py", "test_soft_q.py"),
               "sac.py": ("test_sac.py",), "atari.py": ("test_atari.py",)}

DQN = ("test_dqn.py",)
SOFT = ("test_soft_q.py",)
SCHEDULE_LINE = "    fraction = min(step / duration, 1.0)\n"
RANDOM_ACTIONS = "    random_actions = rng.integers(0, num_actions, size=num_rows)\n"
EXPLORE = "    explore = rng.random(num_rows) < epsilon\n"
EPSILON_GREEDY_DRAWS = (RANDOM_ACTIONS + EXPLORE
                        + "    return np.where(explore, random_actions, greedy).astype(np.int64)\n")
GATHER = "    return q_values.gather(1, actions.long().unsqueeze(1)).squeeze(1)\n"
DQN_TARGET = """    with torch.no_grad():
        if next_q_online is None:
            next_values = next_q_target.max(dim=1).values
        else:
            next_actions = next_q_online.argmax(dim=1)
            next_values = next_q_target.gather(1, next_actions.unsqueeze(1)).squeeze(1)
        not_terminal = 1.0 - terminated.float()
        return rewards.float() + gamma * not_terminal * next_values
"""
SOFT_TARGET = """    with torch.no_grad():
        next_values = alpha * torch.logsumexp(next_q_target / alpha, dim=1)
        return rewards.float() + gamma * (1.0 - terminated.float()) * next_values
"""
SOFT_VALUES = "        next_values = alpha * torch.logsumexp(next_q_target / alpha, dim=1)\n"
HUBER = '    return F.huber_loss(q_taken, targets.detach(), reduction="mean", delta=delta)\n'
BOLTZMANN = "    return torch.softmax(q_values / alpha, dim=-1)\n"
NEXT_Q_TARGET = "            next_q_target = self.target_network(next_observations)\n"
NEXT_Q_ONLINE = "            next_q_online = self.q_network(next_observations) if config.double_q else None\n"
TERMINATED = "        terminated = to_torch(batch.terminated, device)\n"
MAX_NORM = '        max_norm = config.max_grad_norm if config.max_grad_norm is not None else float("inf")\n'
STEP = """        self.optimizer.zero_grad()
        loss.backward()
        max_norm = config.max_grad_norm if config.max_grad_norm is not None else float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(self.q_network.parameters(), max_norm)
        self.optimizer.step()
"""
PERIOD = "        if self.num_updates % config.target_update_period == 0:\n"
COPY = "            self.target_network.load_state_dict(self.q_network.state_dict())\n"

TARGET_TESTS = ("test_dqn_target_matches_reference", "test_double_dqn_target_matches_reference")
HUBER_TESTS = ("test_huber_td_loss_matches_reference", "test_huber_td_loss_gradient_is_the_clipped_td_error")
PERIOD_TEST = "test_update_copies_the_target_network_every_period"

DQN_MUTANTS = (
    # ---- issue 10's list: the hidden suite must catch each
    Mutant("dqn_no_target_network", "dqn.py",
           ((NEXT_Q_TARGET, "            next_q_target = self.q_network(next_observations)\n"),),
           ("test_compute_targets_dqn", "test_compute_targets_double_dqn", "test_update_one_step_matches_reference",
            "test_compute_targets_soft_q")),
    Mutant("dqn_target_updated_every_step", "dqn.py", ((PERIOD, "        if True:\n"),),
           (PERIOD_TEST, "test_update_clips_the_gradient_norm", "test_update_double_dqn"), suite_files=DQN),
    Mutant("dqn_bootstraps_through_terminal_states", "dqn.py",
           (("        not_terminal = 1.0 - terminated.float()\n",
             "        not_terminal = torch.ones_like(rewards.float())\n"),),
           TARGET_TESTS + ("test_dqn_target_does_not_bootstrap_from_terminal_states",
                           "test_update_one_step_matches_reference"), suite_files=DQN),
    Mutant("dqn_truncation_as_termination", "dqn.py",
           ((TERMINATED, "        terminated = to_torch(batch.terminated | batch.truncated, device)\n"),),
           ("test_update_masks_terminated_but_not_truncated", "test_update_one_step_matches_reference"),
           suite_files=DQN),
    Mutant("dqn_gather_on_the_batch_axis", "dqn.py",
           ((GATHER, "    return q_values.gather(0, actions.long().unsqueeze(0)).squeeze(0)\n"),),
           ("test_q_values_of_actions_matches_reference",
            "test_q_values_of_actions_sends_gradient_to_the_taken_entries", "test_update_one_step_matches_reference"),
           suite_files=DQN),
    Mutant("double_dqn_selects_with_the_target_network", "dqn.py",
           (("            next_actions = next_q_online.argmax(dim=1)\n",
             "            next_actions = next_q_target.argmax(dim=1)\n"),),
           ("test_double_dqn_target_matches_reference", "test_compute_targets_double_dqn", "test_update_double_dqn"),
           suite_files=DQN),
    Mutant("soft_q_max_instead_of_logsumexp", "dqn.py",
           ((SOFT_VALUES, "        next_values = next_q_target.max(dim=1).values\n"),),
           ("test_soft_q_target_matches_reference", "test_compute_targets_soft_q", "test_update_soft_q"),
           suite_files=SOFT),
    Mutant("soft_q_temperature_outside_only", "dqn.py",
           ((SOFT_VALUES, "        next_values = alpha * torch.logsumexp(next_q_target, dim=1)\n"),),
           ("test_soft_q_target_matches_reference", "test_compute_targets_soft_q"), suite_files=SOFT),
    # ---- other classic mistakes of README 2.1-2.7 and 2.10-2.11
    Mutant("schedule_off_by_one", "schedules.py",
           ((SCHEDULE_LINE, "    fraction = min((step + 1) / duration, 1.0)\n"),),
           ("test_linear_schedule_on_the_way_down",), suite_files=DQN),
    Mutant("schedule_never_reaches_the_end", "schedules.py",
           ((SCHEDULE_LINE, "    fraction = min(step / (duration + 1), 1.0)\n"),),
           ("test_linear_schedule_on_the_way_down", "test_linear_schedule_reaches_the_end_value_and_stays"),
           suite_files=DQN),
    Mutant("epsilon_greedy_ignores_epsilon", "dqn.py", ((EXPLORE, "    explore = np.zeros(num_rows, dtype=bool)\n"),),
           ("test_epsilon_greedy_explores_with_probability_epsilon",
            "test_epsilon_greedy_draws_every_random_number_from_the_given_rng"), suite_files=DQN),
    Mutant("epsilon_greedy_explores_only_the_other_actions", "dqn.py",
           ((RANDOM_ACTIONS,
             "    random_actions = (greedy + rng.integers(1, num_actions, size=num_rows)) % num_actions\n"),),
           ("test_epsilon_greedy_explores_with_probability_epsilon",), suite_files=DQN),
    Mutant("epsilon_greedy_one_coin_for_the_batch", "dqn.py",
           ((EXPLORE, "    explore = np.full(num_rows, rng.random() < epsilon)\n"),),
           ("test_epsilon_greedy_explores_with_probability_epsilon",), suite_files=DQN),
    Mutant("epsilon_greedy_global_numpy_rng", "dqn.py",
           ((RANDOM_ACTIONS + EXPLORE, "    random_actions = np.random.randint(0, num_actions, size=num_rows)\n"
                                       "    explore = np.random.random(num_rows) < epsilon\n"),),
           ("test_epsilon_greedy_draws_every_random_number_from_the_given_rng",), suite_files=DQN),
    Mutant("dqn_target_not_detached", "dqn.py",
           (("    with torch.no_grad():\n        if next_q_online is None:",
             "    if True:\n        if next_q_online is None:"),),
           ("test_dqn_target_carries_no_gradient",), suite_files=DQN),
    Mutant("huber_delta_ignored", "dqn.py", ((HUBER, HUBER.replace("delta=delta", "delta=1.0")),),
           HUBER_TESTS + ("test_update_one_step_matches_reference",), suite_files=DQN),
    Mutant("huber_as_smooth_l1", "dqn.py",
           ((HUBER, '    return F.smooth_l1_loss(q_taken, targets.detach(), reduction="mean", beta=delta)\n'),),
           HUBER_TESTS, suite_files=DQN),
    Mutant("huber_summed_not_averaged", "dqn.py", ((HUBER, HUBER.replace('"mean"', '"sum"')),),
           HUBER_TESTS, suite_files=DQN),
    Mutant("huber_gradient_into_the_targets", "dqn.py", ((HUBER, HUBER.replace("targets.detach()", "targets")),),
           ("test_huber_td_loss_gradient_is_the_clipped_td_error",), suite_files=DQN),
    Mutant("compute_targets_ignores_double_q", "dqn.py", ((NEXT_Q_ONLINE, "            next_q_online = None\n"),),
           ("test_compute_targets_double_dqn", "test_update_double_dqn"), suite_files=DQN),
    Mutant("compute_targets_ignores_alpha", "dqn.py",
           (("            if config.alpha is not None:\n", "            if False:\n"),),
           ("test_compute_targets_soft_q", "test_update_soft_q"), suite_files=SOFT),
    Mutant("update_without_gradient_clipping", "dqn.py", ((MAX_NORM, '        max_norm = float("inf")\n'),),
           ("test_update_clips_the_gradient_norm",), suite_files=DQN),
    Mutant("update_reports_the_clipped_gradient_norm", "dqn.py",
           (('"grad_norm": float(grad_norm)}', '"grad_norm": min(float(grad_norm), max_norm)}'),),
           ("test_update_clips_the_gradient_norm",), suite_files=DQN),
    Mutant("update_new_optimizer_every_call", "dqn.py",
           (("        device = self.device\n",
             "        device = self.device\n"
             "        self.optimizer = torch.optim.Adam(self.q_network.parameters(), lr=config.learning_rate)\n"),),
           ("test_update_clips_the_gradient_norm", "test_update_without_clipping", "test_update_double_dqn"),
           suite_files=DQN),
    Mutant("target_copied_the_wrong_way", "dqn.py",
           ((COPY, "            self.q_network.load_state_dict(self.target_network.state_dict())\n"),),
           (PERIOD_TEST,), suite_files=DQN),
    Mutant("target_copied_before_counting", "dqn.py",
           (("        self.num_updates += 1\n" + PERIOD + COPY, PERIOD + COPY + "        self.num_updates += 1\n"),),
           (PERIOD_TEST,), suite_files=DQN),
    Mutant("soft_q_bootstraps_through_terminal_states", "dqn.py",
           (("        return rewards.float() + gamma * (1.0 - terminated.float()) * next_values\n",
             "        return rewards.float() + gamma * next_values\n"),),
           ("test_soft_q_target_matches_reference", "test_soft_q_target_masks_terminal_states_and_carries_no_gradient"),
           suite_files=SOFT),
    Mutant("soft_q_logsumexp_overflows", "dqn.py",
           ((SOFT_VALUES, "        next_values = alpha * torch.log(torch.exp(next_q_target / alpha).sum(dim=1))\n"),),
           ("test_soft_q_target_is_stable_for_large_q_over_alpha",), suite_files=SOFT),
    Mutant("soft_q_target_not_detached", "dqn.py",
           (("    with torch.no_grad():\n        next_values = alpha", "    if True:\n        next_values = alpha"),),
           ("test_soft_q_target_masks_terminal_states_and_carries_no_gradient",), suite_files=SOFT),
    Mutant("boltzmann_without_temperature", "dqn.py", ((BOLTZMANN, "    return torch.softmax(q_values, dim=-1)\n"),),
           ("test_boltzmann_policy_matches_reference", "test_boltzmann_policy_is_stable_for_large_q_over_alpha"),
           suite_files=SOFT),
    Mutant("boltzmann_overflows", "dqn.py",
           ((BOLTZMANN, "    weights = torch.exp(q_values / alpha)\n"
                        "    return weights / weights.sum(dim=-1, keepdim=True)\n"),),
           ("test_boltzmann_policy_is_stable_for_large_q_over_alpha",), suite_files=SOFT),
    Mutant("boltzmann_over_the_batch_axis", "dqn.py",
           ((BOLTZMANN, "    return torch.softmax(q_values / alpha, dim=0)\n"),),
           ("test_boltzmann_policy_matches_reference",), suite_files=SOFT),
    # ---- correct variants: other legitimate readings of the handout score full marks
    Mutant("schedule_written_with_a_branch", "schedules.py",
           ((SCHEDULE_LINE + "    return start + (end - start) * fraction\n",
             "    if step >= duration:\n        return float(end)\n"
             "    return start + (end - start) * step / duration\n"),),
           kind="correct", suite_files=DQN),
    Mutant("epsilon_greedy_draws_only_for_exploring_rows", "dqn.py",
           ((EPSILON_GREEDY_DRAWS,
             "    actions = greedy.astype(np.int64)\n"
             "    explore = rng.random(num_rows) < epsilon\n"
             "    actions[explore] = rng.integers(0, num_actions, size=int(explore.sum()))\n"
             "    return actions\n"),),
           kind="correct", suite_files=DQN),
    Mutant("epsilon_greedy_row_by_row", "dqn.py",
           ((EPSILON_GREEDY_DRAWS,
             "    actions = np.empty(num_rows, dtype=np.int64)\n"
             "    for i in range(num_rows):\n"
             "        actions[i] = rng.integers(num_actions) if rng.random() < epsilon else greedy[i]\n"
             "    return actions\n"),),
           kind="correct", suite_files=DQN),
    Mutant("targets_written_otherwise", "dqn.py",
           ((GATHER, "    return q_values[torch.arange(q_values.shape[0]), actions.long()]\n"),
            (DQN_TARGET,
             "    if next_q_online is None:\n"
             "        next_values = next_q_target.detach().max(dim=1).values\n"
             "    else:\n"
             "        next_actions = torch.argmax(next_q_online, dim=1, keepdim=True)\n"
             "        next_values = torch.gather(next_q_target, 1, next_actions).squeeze(1).detach()\n"
             "    return torch.where(terminated.bool(), rewards.float(), rewards.float() + gamma * next_values)\n"),
            (SOFT_TARGET,
             "    top = next_q_target.max(dim=1, keepdim=True).values\n"
             "    soft_max = top.squeeze(1) + alpha * torch.log(torch.exp((next_q_target - top) / alpha).sum(dim=1))\n"
             "    not_done = (~terminated.bool()).float()\n"
             "    return (rewards.float() + gamma * not_done * soft_max).detach()\n")),
           kind="correct"),
    Mutant("losses_and_policy_written_out", "dqn.py",
           ((HUBER,
             "    errors = q_taken - targets.detach()\n"
             "    size = errors.abs()\n"
             "    return torch.where(size <= delta, 0.5 * errors ** 2, delta * (size - 0.5 * delta)).mean()\n"),
            (BOLTZMANN,
             "    weights = torch.exp((q_values - q_values.max(dim=-1, keepdim=True).values) / alpha)\n"
             "    return weights / weights.sum(dim=-1, keepdim=True)\n")),
           kind="correct"),
    Mutant("update_written_otherwise", "dqn.py",
           ((TERMINATED, "        terminated = torch.as_tensor(batch.terminated, dtype=torch.bool, device=device)\n"),
            (STEP,
             "        loss.backward()\n"
             "        gradients = [p.grad for p in self.q_network.parameters() if p.grad is not None]\n"
             "        grad_norm = torch.sqrt(sum((g ** 2).sum() for g in gradients))\n"
             "        if config.max_grad_norm is not None and grad_norm > config.max_grad_norm:\n"
             "            for g in gradients:\n"
             "                g.mul_(config.max_grad_norm / grad_norm)\n"
             "        self.optimizer.step()\n"
             "        self.optimizer.zero_grad(set_to_none=True)\n"),
            (COPY, "            self.target_network = copy.deepcopy(self.q_network)\n")),
           kind="correct"),
    # ---- points without the work
    Mutant("vacuous_stubs", "dqn.py", (), ("*",), kind="cheat", starter=True,
           appended=(("schedules.py", "STUB_SCHEDULE"), ("dqn.py", "STUB_DQN"))),
)

# Stubs of the right types and shapes with no Q-learning in them: constants, the rewards as targets,
# a zero loss, an update that nudges the weights and keeps the target period.
STUBS = {
    "STUB_SCHEDULE": """

def linear_schedule(step, start, end, duration):
    return end
""",
    "STUB_DQN": """

def epsilon_greedy(q_values, epsilon, rng):
    return np.zeros(len(q_values), dtype=np.int64)


def boltzmann_policy(q_values, alpha):
    return torch.full_like(q_values, 1.0 / q_values.shape[-1])


def q_values_of_actions(q_values, actions):
    return q_values[:, 0]


def dqn_target(rewards, terminated, next_q_target, gamma, next_q_online=None):
    return rewards.float()


def soft_q_target(rewards, terminated, next_q_target, gamma, alpha):
    return rewards.float()


def huber_td_loss(q_taken, targets, delta=1.0):
    return 0 * q_taken.sum()


def _rewards_as_targets(self, rewards, next_observations, terminated):
    return rewards.float()


def _nudge(self, batch):
    with torch.no_grad():
        for parameter in self.q_network.parameters():
            parameter.add_(1e-3)
    self.num_updates += 1
    if self.num_updates % self.config.target_update_period == 0:
        self.target_network.load_state_dict(self.q_network.state_dict())
    return {"q_loss": 0.1, "q_values": 0.0, "target_values": float(np.mean(batch.rewards)), "grad_norm": 1.0}


DQNAgent.compute_targets = _rewards_as_targets
DQNAgent.update = _nudge
""",
}

MUTANTS = DQN_MUTANTS + tuple(SAC_MUTANTS) + tuple(ATARI_MUTANTS)

SNIPPETS: dict[str, str] = {**STUBS, **SAC_SNIPPETS}

HOMEWORK = HomeworkMutants("hw3", Path(__file__).resolve().parent, FILE_SUITES, MUTANTS, SNIPPETS)


def run(mutant: Mutant, seed: int | None = None) -> tuple[str | None, dict]:
    """Grade `mutant`; `seed` fixes the hidden inputs (None: fresh ones, as a real grading draws)."""
    return HOMEWORK.run(mutant, seed)


if __name__ == "__main__":
    sys.exit(HOMEWORK.main(sys.argv[1:]))
