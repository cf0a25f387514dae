"""Proof that the hw4 hidden suite catches planted bugs, pays correct variants in full and cheats nothing
(instructor tool, not a test file).

    python -m grader.suites.hw4.mutants                      # all of them, a few seconds each
    python -m grader.suites.hw4.mutants cem_refits_on_all_samples mpc_executes_the_whole_plan

Each entry is the reference (or, with `starter=True`, the starter) with one change planted, graded
through the real harness (grader/mutants.py) on the suite file that can see it, and must behave as
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

DYNAMICS, PLANNING, MBPO = "test_dynamics.py", "test_planning.py", "test_mbpo.py"
FILE_SUITES = {"dynamics.py": (DYNAMICS,), "planning.py": (PLANNING,), "mbpo.py": (MBPO,)}

# ---- dynamics.py (README 3.1-3.5) ----
DELTAS = "    deltas = next_observations - observations\n"
OBS_STATS = ("        obs_mean=observations.mean(axis=0).astype(np.float32),\n"
             "        obs_std=(observations.std(axis=0) + eps).astype(np.float32),\n")
BOOTSTRAP = "    return rng.integers(0, num_samples, size=(num_members, num_samples))\n"
NORMALIZED_INPUTS = ("        inputs = torch.cat([(obs - self.obs_mean) / self.obs_std, "
                     "(actions - self.act_mean) / self.act_std], dim=-1)\n")
NEXT_OBS = "        return obs + self.predict_normalized_delta(obs, actions) * self.delta_std + self.delta_mean\n"
TARGET = "        target = ((next_obs - obs) - self.delta_mean) / self.delta_std\n"
LOSS = "        return ((self.predict_normalized_delta(obs, actions) - target) ** 2).mean()\n"
STATS_TESTS = ("test_normalization_stats_of_an_obstacles_run_match_reference",
               "test_normalization_stats_of_halfcheetah_data_with_a_constant_entry")
PREDICTION_TESTS = ("test_predict_next_obs_matches_reference", "test_predict_next_obs_on_the_obstacles_course")

# ---- planning.py (README 4.1-4.4) ----
MEMBER_MEAN = "    return total.mean(dim=0)\n"
NEXT_STATES = "        next_states = model.predict_next_obs(states, actions)\n"
UNIFORM = "    candidates = action_low + (action_high - action_low) * uniform\n"
BEST = "    return candidates[score(candidates).argmax()]\n"
ELITES = "        elites = candidates[torch.topk(score(candidates), num_elites).indices]\n"
REFIT = ("        mean = smoothing * mean + (1 - smoothing) * elites.mean(dim=0)\n"
         "        std = smoothing * std + (1 - smoothing) * elites.std(dim=0, unbiased=False)\n")
CLIP = "        candidates = torch.clamp(mean + std * noise, action_low, action_high)\n"
GET_ACTION = "        return to_numpy(self.plan(obs)[0])\n"
EVALUATE_TESTS = ("test_evaluate_action_sequences_on_halfcheetah_matches_reference",
                  "test_evaluate_action_sequences_with_terminations_matches_reference")
CEM_TESTS = ("test_cem_matches_reference", "test_cem_with_smoothing_matches_reference")
MPC_TESTS = ("test_mpc_get_action_replans_at_every_step_with_random_shooting",
             "test_mpc_get_action_replans_at_every_step_with_cem")

# ---- mbpo.py (README 5.1-5.2) ----
START = "    states = to_torch(real_buffer.sample(num_rollouts, rng).observations, device)\n"
STEPS = "    for t in range(horizon):\n"
TRUNCATED = "        truncated = torch.full_like(terminated, t == horizon - 1) & ~terminated\n"
PICK = "        next_states = predictions[members, torch.arange(count, device=device)]\n"
N_REAL = "    n_real = batch_size if len(model_buffer) == 0 else int(round(real_ratio * batch_size))\n"
ROLLOUT_TESTS = ("test_branched_rollouts_match_reference_with_terminations",
                 "test_branched_rollouts_start_from_states_of_the_real_buffer",
                 "test_branched_rollouts_stop_at_the_model_horizon")
MIXED_TESTS = ("test_sample_mixed_batch_matches_reference",)

MUTANTS = (
    # ---- the bugs named by the issue (12) ----
    Mutant("dynamics_predict_absolute_next_states", "dynamics.py",
           ((NEXT_OBS, "        return self.predict_normalized_delta(obs, actions) * self.delta_std + self.delta_mean\n"),
            (TARGET, "        target = (next_obs - self.delta_mean) / self.delta_std\n"),
            (DELTAS, "    deltas = next_observations\n")),
           STATS_TESTS + PREDICTION_TESTS + ("test_loss_matches_reference",)),
    Mutant("normalization_stats_of_next_states_for_the_deltas", "dynamics.py",
           ((DELTAS, "    deltas = next_observations\n"),), STATS_TESTS),
    Mutant("normalization_stats_of_the_observations_from_next_states", "dynamics.py",
           ((OBS_STATS, OBS_STATS.replace("observations.", "next_observations.")),), STATS_TESTS),
    Mutant("normalization_not_applied_at_prediction", "dynamics.py",
           ((NORMALIZED_INPUTS, "        inputs = torch.cat([obs, actions], dim=-1)\n"),),
           ("test_predict_normalized_delta_matches_reference", "test_loss_matches_reference") + PREDICTION_TESTS),
    Mutant("bootstrap_identical_batch_for_all_members", "dynamics.py",
           ((BOOTSTRAP, "    return np.tile(rng.integers(0, num_samples, size=num_samples), (num_members, 1))\n"),),
           ("test_bootstrap_indices_resample_with_replacement_per_member",)),
    Mutant("evaluation_sums_rewards_over_members", "planning.py",
           ((MEMBER_MEAN, "    return total.sum(dim=0)\n"),), EVALUATE_TESTS),
    Mutant("evaluation_averages_members_before_the_horizon_sum", "planning.py",
           ((NEXT_STATES, "        next_states = model.predict_next_obs(states, actions).mean(dim=0, keepdim=True)"
                          ".expand(members, -1, -1)\n"),), EVALUATE_TESTS),
    Mutant("cem_refits_on_all_samples", "planning.py",
           ((ELITES, "        score(candidates)\n        elites = candidates\n"),), CEM_TESTS),
    Mutant("mpc_executes_the_whole_plan", "planning.py",
           ((GET_ACTION, "        if not getattr(self, 'queue', None):\n"
                         "            self.queue = list(to_numpy(self.plan(obs)))\n"
                         "        return self.queue.pop(0)\n"),), MPC_TESTS),
    Mutant("mbpo_rollouts_start_from_model_states", "mbpo.py",
           ((START, START + "    first = to_torch(policy(to_numpy(states)), device)\n"
                            "    states = model.predict_next_obs(states.expand(model.num_members, *states.shape),\n"
                            "                                    first.expand(model.num_members, *first.shape))[0]\n"),),
           ROLLOUT_TESTS[:2]),
    Mutant("mbpo_rollouts_run_past_the_model_horizon", "mbpo.py",
           ((STEPS, "    for t in range(2 * horizon):\n"),
            (TRUNCATED, TRUNCATED.replace("t == horizon - 1", "t == 2 * horizon - 1"))), ROLLOUT_TESTS),
    Mutant("mbpo_rollouts_not_marked_truncated_at_the_model_horizon", "mbpo.py",
           ((TRUNCATED, "        truncated = torch.zeros_like(terminated)\n"),),
           (ROLLOUT_TESTS[0], ROLLOUT_TESTS[2])),
    # ---- more classic bugs ----
    Mutant("normalization_with_sample_std", "dynamics.py",
           ((OBS_STATS, OBS_STATS.replace("std(axis=0)", "std(axis=0, ddof=1)")),), STATS_TESTS),
    Mutant("bootstrap_without_replacement", "dynamics.py",
           ((BOOTSTRAP, "    return np.stack([rng.permutation(num_samples) for _ in range(num_members)])\n"),),
           ("test_bootstrap_indices_resample_with_replacement_per_member",)),
    Mutant("loss_on_unnormalized_deltas", "dynamics.py",
           ((TARGET, "        target = next_obs - obs\n"),), ("test_loss_matches_reference",)),
    Mutant("evaluation_ignores_terminations", "planning.py",
           (("        alive = alive * (~task.termination(next_states)).float()\n", ""),),
           ("test_evaluate_action_sequences_with_terminations_matches_reference",)),
    Mutant("random_shooting_returns_the_worst_sequence", "planning.py",
           ((BEST, "    return candidates[score(candidates).argmin()]\n"),), ("test_random_shooting_matches_reference",)),
    Mutant("cem_elites_are_the_worst", "planning.py",
           ((ELITES, "        elites = candidates[torch.topk(-score(candidates), num_elites).indices]\n"),), CEM_TESTS),
    Mutant("cem_smoothing_weights_swapped", "planning.py",
           ((REFIT, REFIT.replace("smoothing * mean + (1 - smoothing)", "(1 - smoothing) * mean + smoothing")
             .replace("smoothing * std + (1 - smoothing)", "(1 - smoothing) * std + smoothing")),),
           ("test_cem_with_smoothing_matches_reference",)),
    Mutant("mbpo_one_member_for_every_rollout", "mbpo.py",
           ((PICK, "        next_states = predictions[members[0]]\n"),), ROLLOUT_TESTS[:1]),
    Mutant("mixed_batch_model_part_first", "mbpo.py",
           (("    parts = [real_buffer.sample(n_real, rng)]\n    if n_real < batch_size:\n"
             "        parts.append(model_buffer.sample(batch_size - n_real, rng))\n",
             "    parts = [model_buffer.sample(batch_size - n_real, rng)] if n_real < batch_size else []\n"
             "    parts.append(real_buffer.sample(n_real, rng))\n"),), MIXED_TESTS),
    # ---- other correct readings of the handout: full marks ----
    Mutant("normalization_stats_by_hand", "dynamics.py",
           ((OBS_STATS, "        obs_mean=observations.sum(axis=0).astype(np.float32) / len(observations),\n"
                        "        obs_std=(np.sqrt(((observations - observations.mean(0)) ** 2).mean(0)) + eps)"
                        ".astype(np.float32),\n"),), kind="correct"),
    Mutant("bootstrap_with_choice", "dynamics.py",
           ((BOOTSTRAP, "    return rng.choice(num_samples, size=(num_members, num_samples), replace=True)\n"),),
           kind="correct"),
    Mutant("bootstrap_one_member_at_a_time", "dynamics.py",
           ((BOOTSTRAP, "    return np.stack([rng.integers(num_samples, size=num_samples) for _ in range(num_members)])\n"),),
           kind="correct"),
    Mutant("dynamics_written_with_mse_loss", "dynamics.py",
           ((NEXT_OBS, "        delta = self.delta_mean + self.delta_std * self.predict_normalized_delta(obs, actions)\n"
                       "        return obs + delta\n"),
            (LOSS, "        return torch.nn.functional.mse_loss(self.predict_normalized_delta(obs, actions), target)\n")),
           kind="correct"),
    Mutant("evaluation_with_a_cumulative_product_of_flags", "planning.py",
           (("    alive = torch.ones(members, num_sequences, device=action_sequences.device)\n", ""),
            ("        total = total + alive * task.reward(states, actions, next_states)\n"
             "        alive = alive * (~task.termination(next_states)).float()\n",
             "        rewards.append(task.reward(states, actions, next_states))\n"
             "        ends.append(task.termination(next_states).float())\n"),
            ("    for t in range(horizon):\n", "    rewards, ends = [], []\n    for t in range(horizon):\n"),
            (MEMBER_MEAN, "    ends = torch.stack(ends)                                   # (H, E, N)\n"
                          "    alive = torch.cumprod(torch.cat([torch.ones_like(ends[:1]), 1 - ends[:-1]]), dim=0)\n"
                          "    return (alive * torch.stack(rewards)).sum(dim=0).mean(dim=0)\n")), kind="correct"),
    Mutant("planners_written_differently", "planning.py",
           ((UNIFORM, "    candidates = uniform * (action_high - action_low) + action_low\n"),
            (BEST, "    scores = score(candidates)\n    return candidates[torch.argmax(scores)]\n"),
            (CLIP, "        candidates = torch.minimum(torch.maximum(mean + std * noise, action_low), action_high)\n"),
            (ELITES, "        elites = candidates[torch.argsort(score(candidates), descending=True)[:num_elites]]\n"),
            (REFIT, "        new_mean = elites.mean(dim=0)\n"
                    "        new_std = ((elites - new_mean) ** 2).mean(dim=0).sqrt()\n"
                    "        mean = mean + (1 - smoothing) * (new_mean - mean)\n"
                    "        std = std + (1 - smoothing) * (new_std - std)\n"),
            (GET_ACTION, "        plan = self.plan(obs)\n        return plan[0].cpu().numpy()\n")), kind="correct"),
    Mutant("mbpo_written_differently", "mbpo.py",
           ((PICK, "        next_states = predictions.transpose(0, 1)[torch.arange(count, device=device), members]\n"),
            (N_REAL, "    n_real = int(round(real_ratio * batch_size)) if len(model_buffer) > 0 else batch_size\n")),
           kind="correct"),
    # ---- cheats: points without the work ----
    Mutant("zero_stubs", "dynamics.py", (), ("*",), kind="cheat", starter=True, suite_files=(DYNAMICS, PLANNING, MBPO, "test_training.py"),
           appended=(("dynamics.py", "STUB_DYNAMICS"), ("planning.py", "STUB_PLANNING"), ("mbpo.py", "STUB_MBPO"))),
)

# Each TODO answers zeros (or the first/mean thing at hand) of the right shape and nothing else.
SNIPPETS = {
    "STUB_DYNAMICS": '''

def normalization_stats(observations, actions, next_observations, eps=NORMALIZATION_EPS):
    obs_dim, act_dim = np.shape(observations)[1], np.shape(actions)[1]
    zeros, ones = np.zeros(obs_dim, np.float32), np.ones(obs_dim, np.float32)
    return NormalizationStats(zeros, ones, np.zeros(act_dim, np.float32), np.ones(act_dim, np.float32), zeros, ones)


def bootstrap_indices(num_samples, num_members, rng):
    return np.zeros((num_members, num_samples), dtype=np.int64)


EnsembleDynamics.predict_normalized_delta = lambda self, obs, actions: torch.zeros_like(obs)
EnsembleDynamics.predict_next_obs = lambda self, obs, actions: obs.clone()
EnsembleDynamics.loss = lambda self, obs, actions, next_obs: torch.zeros(())
''',
    "STUB_PLANNING": '''

def evaluate_action_sequences(model, task, obs, action_sequences):
    return torch.zeros(action_sequences.shape[0])


def random_shooting(score, action_low, action_high, horizon, num_candidates, generator):
    return ((action_low + action_high) / 2).expand(horizon, action_low.shape[0]).clone()


def cem(score, action_low, action_high, horizon, num_candidates, num_elites, iterations, smoothing, generator):
    return ((action_low + action_high) / 2).expand(horizon, action_low.shape[0]).clone()


MPCAgent.get_action = lambda self, obs: np.zeros(self.action_low.shape[0], np.float32)
''',
    "STUB_MBPO": '''

def branched_rollouts(model, task, policy, real_buffer, num_rollouts, horizon, rng, generator):
    batch = real_buffer.sample(num_rollouts, rng)
    return Transitions(batch.observations, batch.actions, np.zeros(num_rollouts), batch.observations,
                       np.zeros(num_rollouts, bool), np.ones(num_rollouts, bool))


def sample_mixed_batch(real_buffer, model_buffer, batch_size, real_ratio, rng):
    return real_buffer.sample(batch_size, rng)
''',
}

HOMEWORK = HomeworkMutants("hw4", Path(__file__).resolve().parent, FILE_SUITES, MUTANTS, SNIPPETS)


def run(mutant: Mutant, seed: int | None = None) -> tuple[str | None, dict]:
    """Grade `mutant`; `seed` fixes the hidden inputs (None: fresh ones, as a real grading draws)."""
    return HOMEWORK.run(mutant, seed)


if __name__ == "__main__":
    sys.exit(HOMEWORK.main(sys.argv[1:]))
