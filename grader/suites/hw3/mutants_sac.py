"""Planted changes in sac.py, graded on test_sac.py (grader/suites/hw3/mutants.py adds SAC_MUTANTS to its
MUTANTS and SAC_SNIPPETS to its snippets; `python -m grader.suites.hw3.mutants <names>` grades them).

    bug      the classic mistakes of README 3.1-3.5 (the issue's list first): each named test loses points
    correct  other legitimate ways to write the same function: full marks
    cheat    stubs that return zeros of the right shapes: zero everywhere

Two near-misses are bugs on purpose, because the docstring rules them out: log(1 - tanh(u)^2) written
as is, or with "+ eps", is accurate enough where |u| is moderate (every test but one passes it) and
wrong where tanh saturates, which the docstring asks to compute with the exact identity; and a
temperature loss written with alpha instead of log alpha has the right gradient sign but not the
docstring's value or gradient.
"""
from grader.mutants import Mutant

GAUSSIAN = "    gaussian_log_prob = (-0.5 * ((u - mean) / std) ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)\n"
JACOBIAN = "    log_det_jacobian = (2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(dim=-1)\n"
SAMPLE_RETURN = "    return torch.tanh(u), gaussian_log_prob - log_det_jacobian\n"
REDUCE_MEAN_MIN = ("    if strategy == \"mean\":\n        return q_values.mean(dim=0)\n"
                   "    if strategy == \"min\":\n        return q_values.min(dim=0).values\n")
ENTROPY_TERM = "        next_values = next_values - alpha * next_log_probs\n"
NOT_DONE = "    not_done = 1.0 - terminated.to(rewards.dtype)\n"
BACKUP_RETURN = "    return (rewards + gamma * not_done * next_values).detach()\n"
REINFORCE_VALUES = "    values = (q_values - alpha * log_probs).detach()\n"
LEAVE_ONE_OUT = "        baseline = (values.sum(dim=0, keepdim=True) - values) / (num_samples - 1)\n"
TEMPERATURE = "    return -(log_alpha * (log_probs + target_entropy).detach()).mean()\n"
POLYAK = "        target_param.lerp_(param, tau)\n"
FUNCTIONS = ("test_squashed_sample_and_log_prob_match_reference", "test_squashed_sample_takes_several_samples_per_state")
BACKUPS = ("test_critic_backup_min_of_twin_critics", "test_critic_backup_mean_of_twin_critics",
           "test_critic_backup_single_critic")
TEMPERATURE_VALUES = ("test_temperature_loss_value", "test_temperature_loss_gradient_with_respect_to_log_alpha",
                      "test_temperature_loss_treats_log_probs_as_constants")
POLYAK_TESTS = ("test_polyak_update_moves_the_target_slowly_twice", "test_polyak_update_leaves_the_source_alone")

SAC_MUTANTS = (
    # ---- issue 10's list: the hidden suite must catch each
    Mutant("sac_tanh_correction_missing", "sac.py",
           ((SAMPLE_RETURN, "    return torch.tanh(u), gaussian_log_prob\n"),),
           FUNCTIONS + ("test_squashed_log_prob_is_exact_where_tanh_saturates",
                        "test_reparameterized_sample_carries_the_gradient")),
    Mutant("sac_tanh_correction_doubled", "sac.py",
           ((SAMPLE_RETURN, "    return torch.tanh(u), gaussian_log_prob - 2 * log_det_jacobian\n"),),
           FUNCTIONS + ("test_squashed_log_prob_is_exact_where_tanh_saturates",
                        "test_reparameterized_sample_carries_the_gradient")),
    Mutant("sac_backup_not_detached", "sac.py",
           ((BACKUP_RETURN, "    return rewards + gamma * not_done * next_values\n"),),
           ("test_critic_backup_is_a_constant",)),
    Mutant("sac_temperature_loss_wrong_sign", "sac.py",
           ((TEMPERATURE, "    return (log_alpha * (log_probs + target_entropy).detach()).mean()\n"),),
           TEMPERATURE_VALUES + ("test_temperature_gradient_moves_alpha_towards_the_target_entropy",
                                 "test_agent_update_reparameterized_min_backup")),
    Mutant("sac_backup_entropy_omitted", "sac.py",
           (("    if entropy_in_backup:\n", "    if False:  # entropy_in_backup ignored\n"),),
           BACKUPS + ("test_critic_backup_is_a_constant", "test_agent_update_reparameterized_min_backup")),
    Mutant("sac_min_and_mean_swapped", "sac.py",
           ((REDUCE_MEAN_MIN, REDUCE_MEAN_MIN.replace('"mean"', '"MIN"').replace('"min"', '"mean"').replace('"MIN"', '"min"')),),
           ("test_reduce_over_critics_single_mean_and_min", "test_critic_backup_min_of_twin_critics",
            "test_critic_backup_mean_of_twin_critics", "test_agent_update_reparameterized_min_backup")),
    Mutant("sac_polyak_reversed", "sac.py",
           ((POLYAK, "        target_param.lerp_(param, 1.0 - tau)\n"),),
           POLYAK_TESTS + ("test_agent_update_reparameterized_min_backup",)),
    # ---- further classics
    Mutant("sac_log_prob_not_summed", "sac.py",
           ((GAUSSIAN, GAUSSIAN.replace(".sum(dim=-1)", ".mean(dim=-1)")), (JACOBIAN, JACOBIAN.replace(".sum(dim=-1)", ".mean(dim=-1)"))),
           FUNCTIONS + ("test_squashed_log_prob_is_exact_where_tanh_saturates",
                        "test_reparameterized_sample_carries_the_gradient", "test_score_function_sample_is_a_constant")),
    Mutant("sac_tanh_correction_naive", "sac.py",
           ((JACOBIAN, "    log_det_jacobian = torch.log(1 - torch.tanh(u) ** 2).sum(dim=-1)\n"),),
           ("test_squashed_log_prob_is_exact_where_tanh_saturates",)),
    Mutant("sac_tanh_correction_log_plus_eps", "sac.py",
           ((JACOBIAN, "    log_det_jacobian = torch.log(1 - torch.tanh(u) ** 2 + 1e-6).sum(dim=-1)\n"),),
           ("test_squashed_log_prob_is_exact_where_tanh_saturates",)),
    Mutant("sac_reparameterize_ignored", "sac.py",
           (("    if not reparameterize:\n        u = u.detach()\n", ""),),
           ("test_score_function_sample_is_a_constant",)),
    Mutant("sac_score_function_log_prob_from_the_noise", "sac.py",
           ((GAUSSIAN, GAUSSIAN.replace("((u - mean) / std)", "noise")),),
           ("test_score_function_sample_is_a_constant", "test_agent_update_reinforce_one_sample",
            "test_agent_update_reinforce_several_samples")),
    Mutant("sac_reduce_over_the_batch_axis", "sac.py",
           (("q_values.mean(dim=0)", "q_values.mean(dim=-1)"), ("q_values.min(dim=0)", "q_values.min(dim=-1)")),
           ("test_reduce_over_critics_single_mean_and_min", "test_critic_backup_min_of_twin_critics",
            "test_critic_backup_mean_of_twin_critics")),
    Mutant("sac_backup_bootstraps_through_terminated", "sac.py",
           ((NOT_DONE, "    not_done = 1.0\n"),),
           BACKUPS + ("test_critic_backup_without_the_entropy_term", "test_critic_backup_is_a_constant")),
    Mutant("sac_backup_entropy_sign", "sac.py",
           ((ENTROPY_TERM, "        next_values = next_values + alpha * next_log_probs\n"),),
           BACKUPS),
    Mutant("sac_actor_loss_sign", "sac.py",
           (("    return (alpha * log_probs - q_values).mean()\n", "    return (q_values - alpha * log_probs).mean()\n"),),
           ("test_actor_loss_reparameterized_value", "test_actor_loss_reparameterized_gradient")),
    Mutant("sac_actor_loss_cuts_the_q_gradient", "sac.py",
           (("    return (alpha * log_probs - q_values).mean()\n", "    return (alpha * log_probs - q_values.detach()).mean()\n"),),
           ("test_actor_loss_reparameterized_gradient", "test_agent_update_reparameterized_min_backup")),
    Mutant("sac_reinforce_baseline_includes_the_sample", "sac.py",
           ((LEAVE_ONE_OUT, "        baseline = values.mean(dim=0, keepdim=True)\n"),),
           ("test_actor_loss_reinforce_leave_one_out_baseline",)),
    Mutant("sac_reinforce_values_not_detached", "sac.py",
           ((REINFORCE_VALUES, "    values = q_values - alpha * log_probs\n"),),
           ("test_actor_loss_reinforce_one_sample", "test_actor_loss_reinforce_leave_one_out_baseline")),
    Mutant("sac_reinforce_without_entropy", "sac.py",
           ((REINFORCE_VALUES, "    values = q_values.detach()\n"),),
           ("test_actor_loss_reinforce_one_sample", "test_actor_loss_reinforce_leave_one_out_baseline")),
    Mutant("sac_temperature_loss_with_alpha", "sac.py",
           ((TEMPERATURE, "    return -(log_alpha.exp() * (log_probs + target_entropy).detach()).mean()\n"),),
           TEMPERATURE_VALUES),
    Mutant("sac_temperature_log_probs_not_detached", "sac.py",
           ((TEMPERATURE, "    return -(log_alpha * (log_probs + target_entropy)).mean()\n"),),
           ("test_temperature_loss_treats_log_probs_as_constants",)),
    Mutant("sac_polyak_hard_copy", "sac.py",
           ((POLYAK, "        target_param.copy_(param)\n"),),
           POLYAK_TESTS),
    Mutant("sac_polyak_moves_the_source", "sac.py",
           ((POLYAK, "        param.lerp_(target_param, 1.0 - tau)\n"),),
           POLYAK_TESTS),
    # ---- correct variants: other legitimate readings score full marks
    Mutant("sac_tanh_correction_abs_form", "sac.py",
           ((JACOBIAN, "    log_det_jacobian = (2.0 * (math.log(2.0) - u.abs() - torch.log1p(torch.exp(-2.0 * u.abs()))))"
                       ".sum(dim=-1)\n"),),
           kind="correct"),
    Mutant("sac_log_prob_with_torch_distributions", "sac.py",
           ((GAUSSIAN + JACOBIAN,
             "    gaussian_log_prob = torch.distributions.Normal(mean, std).log_prob(u).sum(dim=-1)\n"
             "    squash = torch.distributions.transforms.TanhTransform()\n"
             "    log_det_jacobian = squash.log_abs_det_jacobian(u, torch.tanh(u)).sum(dim=-1)\n"),),
           kind="correct"),
    Mutant("sac_gaussian_term_from_the_noise_when_reparameterized", "sac.py",
           ((GAUSSIAN,
             "    z = noise if reparameterize else (u - mean) / std  # (u - mu) / sigma is the noise itself\n"
             "    gaussian_log_prob = (-0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)\n"),),
           kind="correct"),
    Mutant("sac_backup_under_no_grad_and_written_out", "sac.py",
           (("    next_values = reduce_over_critics(next_q_values, strategy)\n",
             "    with torch.no_grad():\n"
             "        next_values = torch.amin(next_q_values, dim=0) if strategy == \"min\" else \\\n"
             "            reduce_over_critics(next_q_values, strategy)\n"
             "        if entropy_in_backup:\n"
             "            next_values = next_values - alpha * next_log_probs\n"
             "        not_done = (~terminated.bool()).to(rewards.dtype)\n"
             "        return rewards + gamma * not_done * next_values\n"),),
           kind="correct"),
    Mutant("sac_losses_written_otherwise", "sac.py",
           (("    return (alpha * log_probs - q_values).mean()\n",
             "    return alpha * log_probs.mean() - q_values.mean()\n"),
            (LEAVE_ONE_OUT,  # v - (sum - v) / (N - 1) = N / (N - 1) (v - mean v)
             "        baseline = values - num_samples / (num_samples - 1) * (values - values.mean(dim=0, keepdim=True))\n"),
            (TEMPERATURE, "    return -log_alpha * (log_probs.detach() + target_entropy).mean()\n")),
           kind="correct"),
    Mutant("sac_polyak_in_place_on_data", "sac.py",
           ((POLYAK, "        target_param.data.mul_(1.0 - tau).add_(tau * param.data)\n"),),
           kind="correct"),
    # ---- cheats: points without the work
    Mutant("sac_zero_stubs", "sac.py", (), ("*",), kind="cheat", starter=True,
           appended=(("sac.py", "STUB_SAC"),)),
)

SAC_SNIPPETS = {
    # Right shapes, a graph where one is needed, no SAC: every test must pay 0.
    "STUB_SAC": '''

def squashed_gaussian_sample_and_log_prob(mean, log_std, noise, reparameterize=True):
    u = mean + log_std.exp() * noise
    return torch.tanh(u), 0 * u.sum(dim=-1)


def reduce_over_critics(q_values, strategy):
    return torch.zeros_like(q_values[0])


def critic_backup(rewards, terminated, next_q_values, next_log_probs, gamma, alpha, strategy="min",
                  entropy_in_backup=True):
    return torch.zeros_like(rewards)


def actor_loss_reparameterized(log_probs, q_values, alpha):
    return 0 * (log_probs.sum() + q_values.sum())


def actor_loss_reinforce(log_probs, q_values, alpha):
    return 0 * log_probs.sum()


def temperature_loss(log_alpha, log_probs, target_entropy):
    return 0 * log_alpha


def polyak_update(target, source, tau):
    return None
''',
}
