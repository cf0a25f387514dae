"""Proof that the hw5 hidden suite catches planted bugs, pays correct variants in full and cheats nothing
(instructor tool, not a test file).

    python -m grader.suites.hw5.mutants                          # all of them
    python -m grader.suites.hw5.mutants rnd_target_trained bonus_not_normalized

Each entry is the reference (or, with `starter=True`, the starter) with one change planted, graded
through the real harness (grader/mutants.py) on the suite files that can see it, and must behave as
its kind says:
    bug      every test in `must_fail` loses points
    correct  a legitimate reading of the handout: every graded test scores full marks
    cheat    points without the work: every test in `must_fail` scores 0 (`must_fail=("*",)`: all of them)
Exit status 1 when one of them does not. The entries of cql.py, awac.py, iql.py and offline_training.py
live in mutants_offline.py; this file holds those of rnd.py (part rnd).
"""
from __future__ import annotations

import sys
from pathlib import Path

from grader.mutants import HomeworkMutants, Mutant
from grader.suites.hw5.mutants_offline import OFFLINE_FILE_SUITES, OFFLINE_MUTANTS, OFFLINE_STUBS

RND = "test_rnd.py"
FILE_SUITES = {"rnd.py": (RND,), **OFFLINE_FILE_SUITES}

# ---- rnd.py (README 3.1-3.4) ----
ERROR = "    return ((predicted - target.detach()) ** 2).sum(dim=1)\n"
NORMALIZE = ("    errors = errors.detach()\n"
             "    return (errors - errors.mean()) / (errors.std(correction=0) + eps)\n")
TARGET_FEATURES = ("        with torch.no_grad():\n"
                   "            target_features = self.target(obs)\n")
LOSS = "        loss = rnd_prediction_error(self.predictor(obs), target_features).mean()\n"
STEP = ("        self.optimizer.zero_grad()\n"
        "        loss.backward()\n"
        "        self.optimizer.step()\n")
RETURN_LOSS = '        return {"rnd_loss": loss.item()}\n'
BONUS = "        bonus = self.rnd.bonus(batch.next_observations)\n"
MIXED = "        mixed = (batch.rewards + self.rnd.config.bonus_weight * bonus).astype(np.float32)\n"
DQN_UPDATE = "        metrics = self.dqn.update(dataclasses.replace(batch, rewards=mixed))\n"
PREDICTOR_UPDATE = "        metrics.update(self.rnd.update(batch.next_observations))\n"

ERROR_TESTS = ("test_prediction_error_matches_reference", "test_rnd_update_matches_reference_twice_in_a_row")
NORMALIZE_TESTS = ("test_normalize_bonus_matches_reference", "test_normalize_bonus_is_a_constant_and_zero_for_equal_errors")
UPDATE_TESTS = ("test_rnd_update_matches_reference_twice_in_a_row", "test_rnd_update_never_changes_the_target")
MIXED_TEST = "test_agent_update_gives_dqn_the_mixed_reward_of_the_next_state"
AGENT_PREDICTOR_TEST = "test_agent_update_trains_the_predictor_on_the_next_states_after_the_bonus"

RND_MUTANTS = (
    # ---- issue 13's list: the hidden suite must catch each
    Mutant("rnd_target_trained", "rnd.py",
           ((TARGET_FEATURES, "        self.target.requires_grad_(True)\n"
                              "        if len(self.optimizer.param_groups) == 1:\n"
                              "            self.optimizer.add_param_group({'params': list(self.target.parameters())})\n"
                              "        target_features = self.target(obs)\n"),
            (ERROR, "    return ((predicted - target) ** 2).sum(dim=1)\n")),
           UPDATE_TESTS + ("test_prediction_error_sends_gradient_into_the_predictor_only",)),
    Mutant("rnd_target_reinitialized_every_update", "rnd.py",
           ((TARGET_FEATURES, "        self.target = build_mlp(obs.shape[1], self.config.output_size, self.config.hidden_sizes,\n"
                              "                                activation='relu').requires_grad_(False)\n"
                              + TARGET_FEATURES),),
           UPDATE_TESTS + (AGENT_PREDICTOR_TEST,)),
    Mutant("bonus_not_normalized", "rnd.py",
           ((NORMALIZE, "    return errors.detach()\n"),), NORMALIZE_TESTS + (MIXED_TEST,)),
    # ---- other classic mistakes of README 3.1-3.4
    Mutant("prediction_error_mean_over_features", "rnd.py",
           ((ERROR, "    return ((predicted - target.detach()) ** 2).mean(dim=1)\n"),), ERROR_TESTS),
    Mutant("prediction_error_not_squared", "rnd.py",
           ((ERROR, "    return (predicted - target.detach()).abs().sum(dim=1)\n"),),
           ERROR_TESTS + ("test_prediction_error_sends_gradient_into_the_predictor_only",)),
    Mutant("prediction_error_gradient_into_the_target", "rnd.py",
           ((ERROR, "    return ((predicted - target) ** 2).sum(dim=1)\n"),),
           ("test_prediction_error_sends_gradient_into_the_predictor_only",)),
    Mutant("bonus_with_the_sample_std", "rnd.py",
           ((NORMALIZE, NORMALIZE.replace("correction=0", "correction=1")),), ("test_normalize_bonus_matches_reference",)),
    Mutant("bonus_divided_by_the_std_only", "rnd.py",
           ((NORMALIZE, "    errors = errors.detach()\n    return errors / (errors.std(correction=0) + eps)\n"),),
           NORMALIZE_TESTS + (MIXED_TEST,)),
    Mutant("bonus_not_detached", "rnd.py",
           ((NORMALIZE, "    return (errors - errors.mean()) / (errors.std(correction=0) + eps)\n"),),
           ("test_normalize_bonus_is_a_constant_and_zero_for_equal_errors",)),
    Mutant("bonus_nan_for_equal_errors", "rnd.py",
           ((NORMALIZE, "    errors = errors.detach()\n    return (errors - errors.mean()) / errors.std(correction=0)\n"),),
           ("test_normalize_bonus_is_a_constant_and_zero_for_equal_errors",)),
    Mutant("rnd_loss_summed_over_the_batch", "rnd.py", ((LOSS, LOSS.replace(".mean()", ".sum()")),),
           ("test_rnd_update_matches_reference_twice_in_a_row",)),
    Mutant("rnd_new_optimizer_every_update", "rnd.py",
           ((TARGET_FEATURES, "        self.optimizer = torch.optim.Adam(self.predictor.parameters(), "
                              "lr=self.config.learning_rate)\n" + TARGET_FEATURES),),
           ("test_rnd_update_matches_reference_twice_in_a_row",)),
    Mutant("rnd_loss_reported_after_the_step", "rnd.py",
           ((RETURN_LOSS, '        return {"rnd_loss": float(self.prediction_errors(observations).mean())}\n'),),
           ("test_rnd_update_matches_reference_twice_in_a_row", AGENT_PREDICTOR_TEST)),
    Mutant("rnd_update_without_zero_grad", "rnd.py", ((STEP, STEP.replace("        self.optimizer.zero_grad()\n", "")),),
           ("test_rnd_update_matches_reference_twice_in_a_row",)),
    Mutant("agent_bonus_of_the_current_state", "rnd.py",
           ((BONUS, "        bonus = self.rnd.bonus(batch.observations)\n"),), (MIXED_TEST,)),
    Mutant("agent_bonus_after_the_predictor_step", "rnd.py",
           ((BONUS, ""), (MIXED, ""), (PREDICTOR_UPDATE, "        metrics.update(rnd_metrics)\n"),
            (DQN_UPDATE, "        rnd_metrics = self.rnd.update(batch.next_observations)\n" + BONUS + MIXED + DQN_UPDATE)),
           (MIXED_TEST,)),
    Mutant("agent_bonus_weight_ignored", "rnd.py", ((MIXED, MIXED.replace("self.rnd.config.bonus_weight * ", "")),),
           (MIXED_TEST,)),
    Mutant("agent_bonus_replaces_the_reward", "rnd.py",
           ((MIXED, "        mixed = (self.rnd.config.bonus_weight * bonus).astype(np.float32)\n"),), (MIXED_TEST,)),
    Mutant("agent_predictor_trained_on_the_current_states", "rnd.py",
           ((PREDICTOR_UPDATE, "        metrics.update(self.rnd.update(batch.observations))\n"),), (AGENT_PREDICTOR_TEST,)),
    Mutant("agent_never_trains_the_predictor", "rnd.py",
           ((PREDICTOR_UPDATE, '        metrics["rnd_loss"] = float(self.rnd.prediction_errors(batch.next_observations).mean())\n'),),
           (AGENT_PREDICTOR_TEST,)),
    # ---- correct variants: other legitimate readings of the handout score full marks
    Mutant("rnd_written_otherwise", "rnd.py",
           ((ERROR, "    return torch.nn.functional.mse_loss(predicted, target.detach(), reduction='none').sum(dim=-1)\n"),
            (NORMALIZE, "    with torch.no_grad():\n"
                        "        centred = errors - errors.mean()\n"
                        "        std = torch.sqrt((centred ** 2).mean())\n"
                        "        return centred / (std + eps)\n"),
            (TARGET_FEATURES + LOSS, "        loss = rnd_prediction_error(self.predictor(obs), self.target(obs)).mean()\n"),
            (STEP, "        self.optimizer.zero_grad(set_to_none=True)\n"
                   "        loss.backward()\n"
                   "        self.optimizer.step()\n"),
            (RETURN_LOSS, '        return {"rnd_loss": float(loss.detach())}\n')),
           kind="correct"),
    Mutant("agent_update_written_otherwise", "rnd.py",
           ((MIXED, "        mixed = np.asarray(batch.rewards, dtype=np.float32) + np.float32(self.rnd.config.bonus_weight) * bonus\n"),
            (DQN_UPDATE, "        mixed_batch = Transitions(batch.observations, batch.actions, mixed, batch.next_observations,\n"
                         "                                  batch.terminated, batch.truncated)\n"
                         "        metrics = dict(self.dqn.update(batch=mixed_batch))\n"),
            (PREDICTOR_UPDATE, '        metrics["rnd_loss"] = self.rnd.update(batch.next_observations)["rnd_loss"]\n')),
           kind="correct"),
    # ---- points without the work
    Mutant("rnd_vacuous_stubs", "rnd.py", (), ("*",), kind="cheat", starter=True, appended=(("rnd.py", "STUB_RND"),)),
)

# Stubs of the right types and shapes with no RND in them: zeros, a nudge of the predictor, the
# rewards passed through.
STUBS = {
    "STUB_RND": """

def rnd_prediction_error(predicted, target):
    return 0 * predicted.sum(dim=1)


def normalize_bonus(errors, eps=1e-8):
    return torch.zeros_like(errors).detach()


def _nudge(self, observations):
    with torch.no_grad():
        for parameter in self.predictor.parameters():
            parameter.add_(1e-3)
    self.num_updates += 1
    return {"rnd_loss": 0.0}


def _pass_through(self, batch):
    metrics = dict(self.dqn.update(batch))
    metrics.update(self.rnd.update(batch.next_observations))
    metrics["mixed_reward"] = float(np.mean(batch.rewards))
    return metrics


RNDModel.update = _nudge
RNDDQNAgent.update = _pass_through
""",
}

MUTANTS = RND_MUTANTS + OFFLINE_MUTANTS

SNIPPETS: dict[str, str] = {**STUBS, **OFFLINE_STUBS}

HOMEWORK = HomeworkMutants("hw5", Path(__file__).resolve().parent, FILE_SUITES, MUTANTS, SNIPPETS)


def run(mutant: Mutant, seed: int | None = None) -> tuple[str | None, dict]:
    """Grade `mutant`; `seed` fixes the hidden inputs (None: fresh ones, as a real grading draws)."""
    return HOMEWORK.run(mutant, seed)


if __name__ == "__main__":
    sys.exit(HOMEWORK.main(sys.argv[1:]))
