"""Proof that the hw1 hidden suite catches planted bugs, pays correct variants in full and cheats nothing
(instructor tool, not a test file). So far the tabular parts (README 6-8).

    python -m grader.suites.hw1.mutants                      # all of them, a few seconds each
    python -m grader.suites.hw1.mutants soft_vi_max_instead_of_logsumexp irl_gradient_sign_flipped

Each entry is the reference (or, with `starter=True`, the starter) with one change planted, graded
through the real harness (grader/mutants.py) on the suite files that can see it, and must behave as
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

TABULAR = ("test_soft_value_iteration.py", "test_forward_messages.py", "test_maxent_irl.py", "test_optimism.py")
FILE_SUITES = {"soft_value_iteration.py": TABULAR, "forward_messages.py": TABULAR, "maxent_irl.py": TABULAR,
               "expressive_policies.py": ("test_expressive_policies.py",),
               "behavior_cloning.py": ("test_behavior_cloning.py", "test_training.py"),
               "dagger.py": ("test_behavior_cloning.py",)}
BC_UNITS = ("test_behavior_cloning.py",)
SVI, FORWARD, IRL, OPTIMISM = ((name,) for name in TABULAR)

SOFT_MAX = """    largest = q_values.max(axis=-1, keepdims=True)
    return np.log(np.exp(q_values - largest).sum(axis=-1)) + largest[..., 0]
"""
EXACT = """    largest = next_values.max()
    return rewards + largest + np.log(transitions @ np.exp(next_values - largest))
"""
VARIATIONAL = "    return rewards + transitions @ next_values\n"
BACKUP_STEP = "        q_values[t] = backup_step(rewards, transitions, values[t + 1])\n"
LAST_STEP = "    q_values[-1] = rewards\n"
POLICY = "    return np.exp(q_values - values[..., None])\n"
NORMALIZE_ALPHA = "        alpha[t + 1] = unnormalized / unnormalized.sum()\n"
OPTIMALITY = "    optimality = np.exp(rewards - rewards.max())  # p(O_t | s, a) up to a constant that Z_t removes\n"
VISITATION = """    with np.errstate(divide="ignore"):  # log 0 = -inf: an unreachable state gets weight 0
        log_weights = np.log(alpha)[:, :, None] + q_values
    log_weights -= log_weights.max(axis=(1, 2), keepdims=True)
    weights = np.exp(log_weights)
    return weights / weights.sum(axis=(1, 2), keepdims=True)
"""
COUNTS = "    return features[states, actions].sum(axis=1).mean(axis=0)\n"
GRADIENT = "    return expert_counts - expected_counts\n"

# ---- part 3, expressive_policies.py (README 5) ----
GAUSSIAN = """    squared = ((actions - means) * torch.exp(-log_stds)) ** 2
    return (-0.5 * squared - log_stds - 0.5 * math.log(2 * math.pi)).sum(dim=-1)
"""
BC_LOSS = "    return -policy.log_prob(observations, actions).mean()\n"
MEAN_ACTION = "        return to_numpy(self(to_torch(observations)))\n        # END SOLUTION\n"
MIXTURE = "    return torch.logsumexp(log_weights + component_log_probs, dim=-1)\n"
LOG_WEIGHTS = "    log_weights = torch.log_softmax(logits, dim=-1)\n"
INTERPOLATION = "    points = (1 - tau) * noise + tau * actions\n"
TARGET = "    target_velocity = actions - noise\n"
FLOW_ERROR = "    return ((velocity - target_velocity) ** 2).sum(dim=-1).mean()\n"
EULER_TAUS = "        taus = torch.full((noise.shape[0],), k / num_steps, dtype=noise.dtype, device=noise.device)\n"
EULER_STEP = "        x = x + policy.velocity(observations, x, taus) / num_steps\n"
MIXTURE_TESTS = ("test_mixture_log_prob_matches_reference", "test_mixture_policy_log_prob_matches_reference",
                 "test_behavior_cloning_loss_of_a_mixture_policy_matches_reference")
FLOW_LOSS_TESTS = ("test_flow_matching_loss_matches_reference", "test_flow_matching_loss_at_the_ends_of_the_flow")
EULER_TESTS = ("test_euler_sample_matches_reference", "test_euler_sample_with_one_step")

EXPRESSIVE_MUTANTS = (
    # ---- the bugs named by the issue (11) ----
    Mutant("bc_loss_on_sampled_actions", "expressive_policies.py",
           ((BC_LOSS, "    return ((policy.sample(observations) - actions) ** 2).sum(dim=-1).mean()\n"),),
           ("test_behavior_cloning_loss_of_a_gaussian_policy_matches_reference",
            "test_behavior_cloning_loss_of_a_mixture_policy_matches_reference")),
    Mutant("gaussian_evaluation_samples_instead_of_the_mean", "expressive_policies.py",
           ((MEAN_ACTION, "        return to_numpy(self.sample(to_torch(observations)))\n        # END SOLUTION\n"),),
           ("test_gaussian_policy_acts_with_its_mean",)),
    Mutant("mixture_without_the_weights", "expressive_policies.py",
           ((MIXTURE, "    return torch.logsumexp(component_log_probs, dim=-1)\n"),), MIXTURE_TESTS),
    Mutant("mixture_without_logsumexp", "expressive_policies.py",
           ((MIXTURE, "    return torch.log((log_weights.exp() * component_log_probs.exp()).sum(dim=-1))\n"),),
           ("test_mixture_log_prob_stays_finite_far_from_every_component",)),
    Mutant("mixture_weighted_mean_of_log_likelihoods", "expressive_policies.py",
           ((MIXTURE, "    return (log_weights.exp() * component_log_probs).sum(dim=-1)\n"),), MIXTURE_TESTS),
    Mutant("flow_target_velocity_wrong_sign", "expressive_policies.py",
           ((TARGET, "    target_velocity = noise - actions\n"),), FLOW_LOSS_TESTS),
    Mutant("flow_interpolation_time_reversed", "expressive_policies.py",
           ((INTERPOLATION, "    points = tau * noise + (1 - tau) * actions\n"),), FLOW_LOSS_TESTS),
    Mutant("flow_time_reversed_in_loss_and_sampling", "expressive_policies.py",
           ((INTERPOLATION, "    points = tau * noise + (1 - tau) * actions\n"),
            (TARGET, "    target_velocity = noise - actions\n"),
            (EULER_TAUS, EULER_TAUS.replace("k / num_steps", "1 - k / num_steps")),
            (EULER_STEP, "        x = x - policy.velocity(observations, x, taus) / num_steps\n")),
           FLOW_LOSS_TESTS + EULER_TESTS),
    Mutant("euler_integrates_tau_from_one_down", "expressive_policies.py",
           ((EULER_TAUS, EULER_TAUS.replace("k / num_steps", "1 - k / num_steps")),), EULER_TESTS),
    # ---- more classic bugs ----
    Mutant("gaussian_log_prob_averaged_over_dimensions", "expressive_policies.py",
           ((GAUSSIAN, GAUSSIAN.replace(".sum(dim=-1)", ".mean(dim=-1)")),),
           ("test_gaussian_log_prob_matches_reference", "test_gaussian_log_prob_broadcasts_over_mixture_components",
            "test_behavior_cloning_loss_of_a_gaussian_policy_matches_reference")),
    Mutant("gaussian_log_prob_with_variance_for_std", "expressive_policies.py",
           ((GAUSSIAN, GAUSSIAN.replace("torch.exp(-log_stds)", "torch.exp(-2 * log_stds)")),),
           ("test_gaussian_log_prob_matches_reference", "test_behavior_cloning_loss_of_a_gaussian_policy_matches_reference")),
    Mutant("bc_loss_sign_flipped", "expressive_policies.py",
           ((BC_LOSS, "    return policy.log_prob(observations, actions).mean()\n"),),
           ("test_behavior_cloning_loss_of_a_gaussian_policy_matches_reference",)),
    Mutant("mixture_weights_from_raw_logits", "expressive_policies.py",
           ((LOG_WEIGHTS, "    log_weights = logits\n"),), MIXTURE_TESTS),
    Mutant("flow_loss_averaged_over_action_dimensions", "expressive_policies.py",
           ((FLOW_ERROR, "    return ((velocity - target_velocity) ** 2).mean()\n"),), FLOW_LOSS_TESTS),
    Mutant("euler_velocity_at_the_end_of_each_step", "expressive_policies.py",
           ((EULER_TAUS, EULER_TAUS.replace("k / num_steps", "(k + 1) / num_steps")),), EULER_TESTS),
    Mutant("euler_without_the_step_size", "expressive_policies.py",
           ((EULER_STEP, "        x = x + policy.velocity(observations, x, taus)\n"),), ("test_euler_sample_matches_reference",)),
    # ---- other correct readings of the handout: full marks ----
    Mutant("gaussian_log_prob_with_torch_distributions", "expressive_policies.py",
           ((GAUSSIAN, "    return torch.distributions.Normal(means, log_stds.exp()).log_prob(actions).sum(dim=-1)\n"),),
           kind="correct"),
    Mutant("bc_loss_as_a_sum_over_n", "expressive_policies.py",
           ((BC_LOSS, "    log_probs = policy.log_prob(observations, actions)\n    return -log_probs.sum() / len(actions)\n"),
            (MEAN_ACTION, "        return self.mean_net(torch.as_tensor(observations, dtype=torch.float32)).numpy()\n"
                          "        # END SOLUTION\n")), kind="correct"),
    Mutant("mixture_same_family", "expressive_policies.py",
           ((LOG_WEIGHTS + "    component_log_probs = gaussian_log_prob(means, log_stds, actions[:, None, :])   # (N, K)\n" + MIXTURE,
             "    components = torch.distributions.Independent(torch.distributions.Normal(means, log_stds.exp()), 1)\n"
             "    mixture = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(logits=logits), components)\n"
             "    return mixture.log_prob(actions)\n"),), kind="correct"),
    Mutant("mixture_weights_normalized_by_hand", "expressive_policies.py",
           ((LOG_WEIGHTS, "    log_weights = logits - torch.logsumexp(logits, dim=-1, keepdim=True)\n"),), kind="correct"),
    Mutant("flow_written_as_noise_plus_tau_times_difference", "expressive_policies.py",
           ((INTERPOLATION, "    points = noise + tau * (actions - noise)\n"),
            (FLOW_ERROR, "    return torch.nn.functional.mse_loss(velocity, target_velocity, reduction='sum') / len(actions)\n")),
           kind="correct"),
    Mutant("euler_with_linspace_times", "expressive_policies.py",
           ((EULER_TAUS + EULER_STEP,
             "        tau = torch.linspace(0, 1, num_steps + 1)[k]\n"
             "        x = x + (1 / num_steps) * policy.velocity(observations, x, tau.expand(len(x)))\n"),), kind="correct"),
    # ---- cheats ----
    Mutant("expressive_zero_stubs", "expressive_policies.py", (), ("*",), kind="cheat", starter=True,
           appended=(("expressive_policies.py", "STUB_EXPRESSIVE"),)),
)

# ---- parts 1-2, behavior_cloning.py and dagger.py (README 3-4) ----
MUJOCO_BC_LOSS = "    return -policy.distribution(observations).log_prob(actions).sum(dim=-1).mean()\n"
MUJOCO_ACT = "        return to_numpy(self(to_torch(observations)))\n        # END SOLUTION\n"
TRAIN_STEP = "        loss = bc_loss(policy, observations[index], actions[index])\n"
RELABEL = "    return Dataset(observations, expert.act(observations))\n"
AGGREGATE = """    return Dataset(np.concatenate([dataset.observations, new_data.observations]),
                   np.concatenate([dataset.actions, new_data.actions]))
"""
MUJOCO_LOSS_TESTS = ("test_mujoco_bc_loss_matches_reference", "test_mujoco_bc_loss_gradient_step_matches_reference",
                     "test_train_bc_with_sgd_matches_reference", "test_train_bc_with_adam_twice_in_a_row_matches_reference")
RELABEL_TESTS = ("test_relabel_with_expert_matches_reference", "test_relabel_with_expert_on_many_short_episodes")
AGGREGATE_TESTS = ("test_aggregate_matches_reference", "test_aggregate_three_iterations_keeps_every_pair")
SMOKE = ("test_bc_halfcheetah_smoke_training_reaches_threshold",)

IMITATION_MUTANTS = (
    # ---- the bugs named by the issue (11) ----
    Mutant("mujoco_bc_loss_on_sampled_actions", "behavior_cloning.py",
           ((MUJOCO_BC_LOSS, "    sampled = policy.distribution(observations).rsample()\n"
                             "    return ((sampled - actions) ** 2).sum(dim=-1).mean()\n"),), MUJOCO_LOSS_TESTS + SMOKE),
    Mutant("dagger_relabels_with_the_learner_actions", "dagger.py",
           ((RELABEL, "    return Dataset(observations, np.concatenate([t.actions for t in trajectories]))\n"),),
           RELABEL_TESTS),
    Mutant("dagger_replaces_the_dataset", "dagger.py", ((AGGREGATE, "    return new_data\n"),), AGGREGATE_TESTS),
    Mutant("mujoco_evaluation_samples_instead_of_the_mean", "behavior_cloning.py",
           ((MUJOCO_ACT, "        return to_numpy(self.distribution(to_torch(observations)).sample())\n"
                         "        # END SOLUTION\n"),),
           ("test_mujoco_policy_acts_with_its_mean", "test_mujoco_policy_act_uses_the_observation_normalization"),
           suite_files=BC_UNITS),
    # ---- more classic bugs ----
    Mutant("mujoco_bc_loss_averaged_over_action_dimensions", "behavior_cloning.py",
           ((MUJOCO_BC_LOSS, MUJOCO_BC_LOSS.replace(".sum(dim=-1).mean()", ".mean()")),),
           MUJOCO_LOSS_TESTS),  # Adam is invariant to the loss's scale: the smoke training learns as well
    Mutant("mujoco_act_skips_the_normalization", "behavior_cloning.py",
           ((MUJOCO_ACT, "        return to_numpy(self.mean_net(to_torch(observations)))\n        # END SOLUTION\n"),),
           ("test_mujoco_policy_acts_with_its_mean", "test_mujoco_policy_act_uses_the_observation_normalization"),
           suite_files=BC_UNITS),
    Mutant("train_bc_without_zero_grad", "behavior_cloning.py",
           (("        optimizer.zero_grad()\n        loss.backward()\n", "        loss.backward()\n"),),
           ("test_train_bc_with_sgd_matches_reference", "test_train_bc_with_adam_twice_in_a_row_matches_reference") + SMOKE),
    Mutant("train_bc_on_the_whole_dataset", "behavior_cloning.py",
           ((TRAIN_STEP, "        loss = bc_loss(policy, observations, actions)\n"),),
           ("test_train_bc_with_sgd_matches_reference", "test_train_bc_with_adam_twice_in_a_row_matches_reference") + SMOKE),
    Mutant("aggregate_puts_the_new_pairs_first", "dagger.py",
           ((AGGREGATE, """    return Dataset(np.concatenate([new_data.observations, dataset.observations]),
                   np.concatenate([new_data.actions, dataset.actions]))
"""),), AGGREGATE_TESTS),
    # ---- other correct readings of the handout: full marks ----
    Mutant("mujoco_bc_loss_written_out", "behavior_cloning.py",
           ((MUJOCO_BC_LOSS, "    means, log_stds = policy(observations), policy.log_std\n"
                             "    log_probs = -0.5 * ((actions - means) / log_stds.exp()) ** 2 - log_stds - 0.5 * math.log(2 * math.pi)\n"
                             "    return -log_probs.sum(dim=1).sum() / len(actions)\n"),
            ("from collections.abc import Sequence\n", "import math\nfrom collections.abc import Sequence\n"),
            (MUJOCO_ACT, "        return self.distribution(torch.as_tensor(observations, dtype=torch.float32)).mean.numpy()\n"
                         "        # END SOLUTION\n")), kind="correct"),
    Mutant("dagger_written_with_loops", "dagger.py",
           (("    observations = np.concatenate([trajectory.observations for trajectory in trajectories])\n" + RELABEL,
             "    observations, actions = [], []\n"
             "    for trajectory in trajectories:\n"
             "        observations.append(trajectory.observations)\n"
             "        actions.append(expert.act(trajectory.observations))\n"
             "    return Dataset(np.concatenate(observations), np.concatenate(actions))\n"),
            (AGGREGATE, "    return Dataset(np.vstack((dataset.observations, new_data.observations)),\n"
                        "                   np.vstack((dataset.actions, new_data.actions)))\n")), kind="correct"),
    # ---- cheats ----
    Mutant("imitation_zero_stubs", "behavior_cloning.py", (), ("*",), kind="cheat", starter=True,
           appended=(("behavior_cloning.py", "STUB_BC"), ("dagger.py", "STUB_DAGGER"))),
)

MUTANTS = (
    # ---- the bugs named by the issue (11) ----
    Mutant("soft_vi_max_instead_of_logsumexp", "soft_value_iteration.py",
           ((SOFT_MAX, "    return q_values.max(axis=-1)\n"),),
           ("test_soft_max_value_matches_reference", "test_soft_max_value_of_tied_actions_is_above_the_max",
            "test_backward_messages_match_reference_on_stochastic_dynamics",
            "test_variational_soft_value_iteration_matches_reference")),
    Mutant("variational_backup_still_log_e_exp", "soft_value_iteration.py",
           ((VARIATIONAL, "    return rewards + np.log(transitions @ np.exp(next_values))\n"),),
           ("test_variational_backup_matches_reference", "test_variational_soft_value_iteration_matches_reference",
            "test_variational_soft_value_iteration_does_not_buy_a_bad_lottery_ticket"), suite_files=OPTIMISM),
    Mutant("forward_messages_not_normalized", "forward_messages.py",
           ((NORMALIZE_ALPHA, "        alpha[t + 1] = unnormalized\n"),),
           ("test_forward_messages_match_reference_on_stochastic_dynamics",
            "test_forward_messages_match_reference_on_deterministic_dynamics_from_one_start",
            "test_forward_messages_stay_normalized_for_large_rewards"), suite_files=FORWARD),
    Mutant("irl_gradient_sign_flipped", "maxent_irl.py",
           ((GRADIENT, "    return expected_counts - expert_counts\n"),),
           ("test_maxent_irl_gradient_matches_reference", "test_maxent_irl_gradient_is_an_ascent_direction_of_the_likelihood"),
           suite_files=IRL),
    # ---- more classic bugs ----
    Mutant("soft_max_overflows", "soft_value_iteration.py",
           ((SOFT_MAX, "    return np.log(np.exp(q_values).sum(axis=-1))\n"),),
           ("test_soft_max_value_does_not_overflow",), suite_files=SVI),
    Mutant("exact_backup_overflows", "soft_value_iteration.py",
           ((EXACT, "    return rewards + np.log(transitions @ np.exp(next_values))\n"),),
           ("test_exact_backup_does_not_overflow",), suite_files=SVI),
    Mutant("exact_backup_is_the_variational_one", "soft_value_iteration.py",
           ((EXACT, "    return rewards + transitions @ next_values\n"),),
           ("test_exact_backup_matches_reference", "test_backward_messages_match_reference_on_stochastic_dynamics"),
           suite_files=SVI),
    Mutant("backward_messages_ignore_the_backup_argument", "soft_value_iteration.py",
           ((BACKUP_STEP, "        q_values[t] = exact_backup(rewards, transitions, values[t + 1])\n"),),
           ("test_variational_soft_value_iteration_matches_reference",
            "test_variational_soft_value_iteration_does_not_buy_a_bad_lottery_ticket"), suite_files=OPTIMISM),
    Mutant("backward_messages_bootstrap_past_the_last_step", "soft_value_iteration.py",
           ((LAST_STEP, "    q_values[-1] = backup_step(rewards, transitions, soft_max_value(rewards))\n"),),
           ("test_backward_messages_last_step_is_the_reward", "test_backward_messages_match_reference_on_stochastic_dynamics",
            "test_backward_messages_match_reference_on_deterministic_dynamics"), suite_files=SVI),
    Mutant("policy_is_exp_q_without_v", "soft_value_iteration.py",
           ((POLICY, "    return np.exp(q_values)\n"),),
           ("test_soft_optimal_policy_matches_reference", "test_soft_optimal_policy_of_one_step"), suite_files=SVI),
    Mutant("forward_messages_ignore_the_reward", "forward_messages.py",
           ((OPTIMALITY, "    optimality = np.ones_like(rewards)\n"),),
           ("test_forward_messages_match_reference_on_stochastic_dynamics",
            "test_forward_messages_match_reference_on_deterministic_dynamics_from_one_start"), suite_files=FORWARD),
    Mutant("visitation_not_normalized", "forward_messages.py",
           (("    return weights / weights.sum(axis=(1, 2), keepdims=True)\n", "    return weights\n"),),
           ("test_state_action_visitation_matches_reference",
            "test_state_action_visitation_with_unreachable_states_and_large_values"), suite_files=FORWARD),
    Mutant("visitation_exponentiates_large_q", "forward_messages.py",
           ((VISITATION, "    weights = alpha[:, :, None] * np.exp(q_values)\n"
                         "    return weights / weights.sum(axis=(1, 2), keepdims=True)\n"),),
           ("test_state_action_visitation_with_unreachable_states_and_large_values",), suite_files=FORWARD),
    Mutant("feature_counts_summed_over_demonstrations", "maxent_irl.py",
           ((COUNTS, "    return features[states, actions].sum(axis=(0, 1))\n"),),
           ("test_expert_feature_counts_match_reference",
            "test_expert_feature_counts_do_not_grow_with_the_number_of_demonstrations"), suite_files=IRL),
    # ---- other correct readings of the handout: full marks ----
    Mutant("soft_max_with_logaddexp", "soft_value_iteration.py",
           ((SOFT_MAX, "    return np.logaddexp.reduce(q_values, axis=-1)\n"),), kind="correct"),
    Mutant("backups_written_per_state_action", "soft_value_iteration.py",
           ((EXACT, "    out = np.empty(rewards.shape)\n"
                    "    for s, a in np.ndindex(*rewards.shape):\n"
                    "        out[s, a] = rewards[s, a] + soft_max_value(np.log(transitions[s, a] + 1e-300) + next_values)\n"
                    "    return out\n"),
            (VARIATIONAL, "    return rewards + np.einsum('sap,p->sa', transitions, next_values)\n")), kind="correct"),
    Mutant("forward_messages_in_log_space", "forward_messages.py",
           ((OPTIMALITY, ""),
            ("        unnormalized = np.einsum(\"s,sa,sap->p\", alpha[t], optimality, transitions)\n"
             + NORMALIZE_ALPHA,
             "        with np.errstate(divide='ignore'):\n"
             "            log_terms = np.log(alpha[t])[:, None, None] + rewards[:, :, None] + np.log(transitions)\n"
             "        log_next = np.logaddexp.reduce(log_terms.reshape(-1, log_terms.shape[2]), axis=0)\n"
             "        alpha[t + 1] = np.exp(log_next - np.logaddexp.reduce(log_next))\n")), kind="correct"),
    Mutant("forward_messages_without_the_reward_shift", "forward_messages.py",
           ((OPTIMALITY, "    optimality = np.exp(rewards)\n"),), kind="correct"),
    Mutant("visitation_as_state_marginal_times_policy", "forward_messages.py",
           ((VISITATION, "    values = np.logaddexp.reduce(q_values, axis=2)                  # log beta_t(s)\n"
                         "    with np.errstate(divide='ignore'):\n"
                         "        log_states = np.log(alpha) + values\n"
                         "    states = np.exp(log_states - log_states.max(axis=1, keepdims=True))\n"
                         "    states /= states.sum(axis=1, keepdims=True)                    # p(s_t | O)\n"
                         "    return states[:, :, None] * np.exp(q_values - values[:, :, None])  # times pi_t(a | s)\n"),),
           kind="correct"),
    Mutant("visitation_shifted_by_the_largest_q", "forward_messages.py",
           ((VISITATION, "    shifted = np.exp(q_values - q_values.max(axis=(1, 2), keepdims=True))\n"
                         "    weights = alpha[:, :, None] * shifted\n"
                         "    return weights / weights.sum(axis=(1, 2), keepdims=True)\n"),), kind="correct"),
    Mutant("irl_written_with_loops", "maxent_irl.py",
           ((COUNTS, "    total = np.zeros(features.shape[2])\n"
                     "    for trajectory_states, trajectory_actions in zip(states, actions):\n"
                     "        for s, a in zip(trajectory_states, trajectory_actions):\n"
                     "            total += features[s, a]\n"
                     "    return total / len(states)\n"),
            ("    expected_counts = np.einsum(\"tsa,sak->k\", visitation, features)\n",
             "    expected_counts = (visitation.sum(axis=0)[:, :, None] * features).sum(axis=(0, 1))\n")),
           kind="correct"),
    *EXPRESSIVE_MUTANTS,
    *IMITATION_MUTANTS,
    # ---- cheats: points without the work ----
    Mutant("zero_stubs", "soft_value_iteration.py", (), ("*",), kind="cheat", starter=True,
           appended=(("soft_value_iteration.py", "STUB_SVI"), ("forward_messages.py", "STUB_FORWARD"),
                     ("maxent_irl.py", "STUB_IRL"))),
)

# Each TODO answers arrays of the right shape and nothing else.
SNIPPETS = {
    "STUB_SVI": '''

def soft_max_value(q_values):
    return np.zeros(np.shape(q_values)[:-1])


def exact_backup(rewards, transitions, next_values):
    return np.zeros(np.shape(rewards))


def variational_backup(rewards, transitions, next_values):
    return np.zeros(np.shape(rewards))


def backward_messages(rewards, transitions, horizon, backup="exact"):
    num_states, num_actions = np.shape(rewards)
    return np.zeros((horizon, num_states, num_actions)), np.zeros((horizon, num_states))


def soft_optimal_policy(q_values, values):
    return np.full(np.shape(q_values), 1.0 / np.shape(q_values)[-1])
''',
    "STUB_FORWARD": '''

def forward_messages(rewards, transitions, initial_distribution, horizon):
    return np.tile(initial_distribution, (horizon, 1))


def state_action_visitation(alpha, q_values):
    return np.full(np.shape(q_values), 1.0 / (np.shape(q_values)[1] * np.shape(q_values)[2]))
''',
    "STUB_EXPRESSIVE": '''

def gaussian_log_prob(means, log_stds, actions):
    return torch.zeros(torch.broadcast_shapes(means.shape, log_stds.shape, actions.shape)[:-1])


def behavior_cloning_loss(policy, observations, actions):
    return torch.zeros(())


def mixture_log_prob(logits, means, log_stds, actions):
    return torch.zeros(len(actions))


def flow_matching_loss(policy, observations, actions, noise, taus):
    return torch.zeros(())


def euler_sample(policy, observations, noise, num_steps):
    return noise


GaussianPolicy.act = lambda self, observations: np.zeros((len(observations), 2), np.float32)
''',
    "STUB_BC": '''

def bc_loss(policy, observations, actions):
    return (0 * policy(observations)).sum()


def train_bc(policy, optimizer, dataset, num_steps, batch_size, rng):
    return 0.0


BCPolicy.act = lambda self, observations: np.zeros((len(observations), self.log_std.shape[0]), np.float32)
''',
    "STUB_DAGGER": '''

def relabel_with_expert(trajectories, expert):
    observations = np.concatenate([t.observations for t in trajectories])
    return Dataset(observations, np.zeros((len(observations), expert.action_scale.shape[0]), np.float32))


def aggregate(dataset, new_data):
    return dataset
''',
    "STUB_IRL": '''

def expert_feature_counts(features, states, actions):
    return np.zeros(np.shape(features)[2])


def maxent_irl_gradient(features, expert_counts, visitation):
    return np.zeros(np.shape(features)[2])
''',
}

HOMEWORK = HomeworkMutants("hw1", Path(__file__).resolve().parent, FILE_SUITES, MUTANTS, SNIPPETS)


def run(mutant: Mutant, seed: int | None = None) -> tuple[str | None, dict]:
    """Grade `mutant`; `seed` fixes the hidden inputs (None: fresh ones, as a real grading draws)."""
    return HOMEWORK.run(mutant, seed)


if __name__ == "__main__":
    sys.exit(HOMEWORK.main(sys.argv[1:]))
