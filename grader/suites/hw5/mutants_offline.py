"""The hw5 mutants of the offline parts: cql.py, awac.py, iql.py and offline_training.py's fine-tuning
(imported by mutants.py, which holds those of rnd.py and the command line)."""
from __future__ import annotations

from grader.mutants import Mutant

CQL, AWAC, IQL, FINETUNE = "test_cql.py", "test_awac.py", "test_iql.py", "test_finetune.py"
OFFLINE_FILE_SUITES = {"cql.py": (CQL,), "awac.py": (AWAC,), "iql.py": (IQL,), "offline_training.py": (FINETUNE,)}

# ---- cql.py (README 4.2-4.3) ----
REGULARIZER = "    return (torch.logsumexp(q_values, dim=1) - q_values_of_actions(q_values, actions)).mean()\n"
CQL_LOSS = ("    td_loss = huber_td_loss(q_values_of_actions(q_values, actions), targets, huber_delta)\n"
            "    return td_loss + alpha * cql_regularizer(q_values, actions)\n")
REGULARIZER_TESTS = ("test_cql_regularizer_matches_reference",
                     "test_cql_regularizer_gradient_pushes_all_actions_down_and_the_dataset_action_up",
                     "test_cql_loss_matches_reference")

# ---- awac.py (README 5.1-5.4) ----
NEXT_VALUES = "        next_values = (next_action_probs * next_q_target).sum(dim=1)\n"
AWAC_TARGET = "        return rewards.float() + gamma * (1.0 - terminated.float()) * next_values\n"
VALUES = "        values = (action_probs * q_values).sum(dim=1)\n"
ADVANTAGES = "        return q_values_of_actions(q_values, actions) - values\n"
WEIGHTS = "    return torch.exp(advantages.detach() / temperature).clamp(max=max_weight)\n"
ACTOR_LOSS = ("    log_probs = q_values_of_actions(F.log_softmax(logits, dim=1), actions)\n"
              "    return -(weights.detach() * log_probs).mean()\n")
WEIGHT_TESTS = ("test_awac_weights_match_reference", "test_awac_weights_are_clipped_even_where_exp_overflows")
ACTOR_TESTS = ("test_weighted_actor_loss_matches_reference", "test_weighted_actor_loss_gradient_reaches_the_logits_only")

# ---- iql.py (README 5.5-5.7) ----
EXPECTILE_WEIGHT = "    weight = torch.abs(tau - (diff < 0).float())\n"
EXPECTILE_MEAN = "    return (weight * diff**2).mean()\n"
Q_TAKEN = "    q_taken = q_values_of_actions(target_q_values.detach(), actions)\n"
IQL_TARGET = "        return rewards.float() + gamma * (1.0 - terminated.float()) * next_values\n"
EXPECTILE_TESTS = ("test_expectile_loss_matches_reference", "test_expectile_loss_gradient",
                   "test_iql_value_loss_matches_reference")

# ---- offline_training.py (README 6.1) ----
NEW_BUFFER = ("    buffer = ReplayBuffer(len(dataset) + online_env_steps, dataset.observations.shape[1:], "
              "dataset.actions.shape[1:],\n"
              "                          obs_dtype=dataset.observations.dtype, action_dtype=dataset.actions.dtype)\n")
ADD_DATA = "    buffer.add_batch(held_transitions(dataset))\n"
RETURN_AGENT = "    return agent, buffer\n"
DATA_TESTS = ("test_start_online_phase_keeps_every_dataset_transition_in_order",
              "test_online_steps_go_after_the_data_without_overwriting_it")
AGENT_TEST = "test_start_online_phase_returns_the_same_agent_untouched"

OFFLINE_MUTANTS = (
    # ---- issue 13's list: the hidden suite must catch each
    Mutant("cql_regularizer_wrong_sign", "cql.py",
           ((REGULARIZER, "    return (q_values_of_actions(q_values, actions) - torch.logsumexp(q_values, dim=1)).mean()\n"),),
           REGULARIZER_TESTS),
    Mutant("cql_regularizer_policy_action_instead_of_logsumexp", "cql.py",
           ((REGULARIZER, "    return (q_values.max(dim=1).values - q_values_of_actions(q_values, actions)).mean()\n"),),
           REGULARIZER_TESTS),
    Mutant("iql_expectile_weights_reversed", "iql.py",
           ((EXPECTILE_WEIGHT, "    weight = torch.abs(tau - (diff > 0).float())\n"),), EXPECTILE_TESTS),
    Mutant("iql_value_against_the_policy_action", "iql.py",
           ((Q_TAKEN, "    q_taken = target_q_values.detach().max(dim=1).values\n"),),
           ("test_iql_value_loss_matches_reference",)),
    Mutant("awac_weights_not_exponentiated", "awac.py",
           ((WEIGHTS, "    return (advantages.detach() / temperature).clamp(max=max_weight)\n"),), WEIGHT_TESTS),
    Mutant("awac_weights_not_clipped", "awac.py",
           ((WEIGHTS, "    return torch.exp(advantages.detach() / temperature)\n"),), WEIGHT_TESTS),
    Mutant("finetune_resets_the_replay_data", "offline_training.py", ((ADD_DATA, ""),), DATA_TESTS),
    Mutant("finetune_resets_the_networks", "offline_training.py",
           ((RETURN_AGENT, "    for module in agent.modules():\n"
                           "        if hasattr(module, 'reset_parameters'):\n"
                           "            module.reset_parameters()\n" + RETURN_AGENT),), (AGENT_TEST,)),
    # ---- other classic mistakes of README 4-6
    Mutant("cql_logsumexp_over_the_batch", "cql.py",
           ((REGULARIZER, "    return (torch.logsumexp(q_values, dim=0).mean() - q_values_of_actions(q_values, actions).mean())\n"),),
           REGULARIZER_TESTS),
    Mutant("cql_logsumexp_underflows", "cql.py",
           ((REGULARIZER, "    return (torch.log(torch.exp(q_values).sum(dim=1)) - q_values_of_actions(q_values, actions)).mean()\n"),),
           ("test_cql_regularizer_is_stable_on_the_scale_of_maze_returns",)),
    Mutant("cql_loss_alpha_ignored", "cql.py",
           ((CQL_LOSS, CQL_LOSS.replace("td_loss + alpha * cql_regularizer", "td_loss + cql_regularizer")),),
           ("test_cql_loss_matches_reference", "test_cql_loss_gradient_with_constant_targets_and_alpha_zero")),
    Mutant("cql_loss_squared_error_instead_of_huber", "cql.py",
           ((CQL_LOSS, "    td_loss = ((q_values_of_actions(q_values, actions) - targets.detach()) ** 2).mean()\n"
                       "    return td_loss + alpha * cql_regularizer(q_values, actions)\n"),),
           ("test_cql_loss_matches_reference", "test_cql_loss_gradient_with_constant_targets_and_alpha_zero")),
    Mutant("cql_loss_gradient_into_the_targets", "cql.py",
           ((CQL_LOSS, "    td_loss = torch.nn.functional.huber_loss(q_values_of_actions(q_values, actions), targets, "
                       "delta=huber_delta)\n"
                       "    return td_loss + alpha * cql_regularizer(q_values, actions)\n"),),
           ("test_cql_loss_gradient_with_constant_targets_and_alpha_zero",)),
    Mutant("awac_target_max_instead_of_the_actor_expectation", "awac.py",
           ((NEXT_VALUES, "        next_values = next_q_target.max(dim=1).values\n"),),
           ("test_awac_q_target_matches_reference", "test_awac_q_target_masks_terminal_states_and_carries_no_gradient")),
    Mutant("awac_target_bootstraps_through_terminal_states", "awac.py",
           ((AWAC_TARGET, "        return rewards.float() + gamma * next_values\n"),),
           ("test_awac_q_target_matches_reference", "test_awac_q_target_masks_terminal_states_and_carries_no_gradient")),
    Mutant("awac_advantages_against_the_max", "awac.py",
           ((VALUES, "        values = q_values.max(dim=1).values\n"),), ("test_awac_advantages_match_reference",)),
    Mutant("awac_advantages_with_gradient", "awac.py",
           (("    with torch.no_grad():\n" + VALUES, "    if True:\n" + VALUES),), ("test_awac_advantages_match_reference",)),
    Mutant("actor_loss_normalized_by_the_weights", "awac.py",
           ((ACTOR_LOSS, ACTOR_LOSS.replace("log_probs).mean()", "log_probs).sum() / weights.detach().sum()")),),
           ACTOR_TESTS),
    Mutant("actor_loss_summed", "awac.py",
           ((ACTOR_LOSS, ACTOR_LOSS.replace("log_probs).mean()", "log_probs).sum()")),), ACTOR_TESTS),
    Mutant("actor_loss_gradient_into_the_weights", "awac.py",
           ((ACTOR_LOSS, ACTOR_LOSS.replace("weights.detach()", "weights")),),
           ("test_weighted_actor_loss_gradient_reaches_the_logits_only",)),
    Mutant("expectile_loss_summed", "iql.py", ((EXPECTILE_MEAN, "    return (weight * diff**2).sum()\n"),),
           EXPECTILE_TESTS),
    Mutant("iql_value_loss_trains_the_q_values", "iql.py",
           ((Q_TAKEN, "    q_taken = q_values_of_actions(target_q_values, actions)\n"),),
           ("test_iql_value_loss_trains_the_values_only",)),
    Mutant("iql_target_bootstraps_through_terminal_states", "iql.py",
           ((IQL_TARGET, "        return rewards.float() + gamma * next_values\n"),),
           ("test_iql_q_target_matches_reference_and_masks_terminal_states",)),
    Mutant("finetune_buffer_without_room_for_online_steps", "offline_training.py",
           ((NEW_BUFFER, NEW_BUFFER.replace("len(dataset) + online_env_steps", "len(dataset)")),), DATA_TESTS),
    Mutant("finetune_returns_a_copy_of_the_agent", "offline_training.py",
           ((RETURN_AGENT, "    import copy\n    return copy.deepcopy(agent), buffer\n"),), (AGENT_TEST,)),
    # ---- correct variants: other legitimate readings of the handout score full marks
    Mutant("cql_written_otherwise", "cql.py",
           ((REGULARIZER, "    rows = torch.arange(q_values.shape[0])\n"
                          "    top = q_values.max(dim=1, keepdim=True).values\n"
                          "    soft_max = top.squeeze(1) + torch.log(torch.exp(q_values - top).sum(dim=1))\n"
                          "    return torch.mean(soft_max - q_values[rows, actions.long()])\n"),
            (CQL_LOSS, "    q_taken = q_values.gather(1, actions.long().view(-1, 1)).view(-1)\n"
                       "    td_loss = torch.nn.functional.huber_loss(q_taken, targets.detach(), delta=huber_delta)\n"
                       "    return td_loss + alpha * cql_regularizer(q_values, actions)\n")),
           kind="correct", suite_files=(CQL,)),
    Mutant("awac_written_otherwise", "awac.py",
           ((NEXT_VALUES, "        next_values = torch.einsum('ba,ba->b', next_action_probs, next_q_target)\n"),
            (AWAC_TARGET, "        return (rewards.float() + gamma * torch.where(terminated.bool(), 0.0, next_values)).detach()\n"),
            (WEIGHTS, "    with torch.no_grad():\n"
                      "        return torch.minimum(torch.exp(advantages / temperature), torch.tensor(float(max_weight)))\n"),
            (ACTOR_LOSS, "    log_pi = torch.log_softmax(logits, dim=-1)[torch.arange(len(actions)), actions.long()]\n"
                         "    return -torch.mean(log_pi * weights.detach())\n")),
           kind="correct", suite_files=(AWAC,)),
    Mutant("iql_written_otherwise", "iql.py",
           ((EXPECTILE_WEIGHT + EXPECTILE_MEAN,
             "    weight = torch.where(diff < 0, 1.0 - tau, tau)\n"
             "    return torch.mean(weight * diff * diff)\n"),
            (Q_TAKEN, "    q_taken = target_q_values.gather(1, actions.long().unsqueeze(1)).squeeze(1).detach()\n")),
           kind="correct", suite_files=(IQL,)),
    Mutant("finetune_written_otherwise", "offline_training.py",
           ((ADD_DATA, "    for i in range(len(dataset)):\n"
                       "        buffer.add(dataset.observations[i], dataset.actions[i], dataset.rewards[i],\n"
                       "                   dataset.next_observations[i], dataset.terminated[i], dataset.truncated[i])\n"),),
           kind="correct", suite_files=(FINETUNE,)),
    # ---- points without the work
    Mutant("offline_vacuous_stubs", "cql.py", (), ("*",), kind="cheat", starter=True,
           appended=(("cql.py", "STUB_CQL"), ("awac.py", "STUB_AWAC"), ("iql.py", "STUB_IQL"),
                     ("offline_training.py", "STUB_FINETUNE")),
           suite_files=(CQL, AWAC, IQL, FINETUNE)),
)

# Stubs of the right types and shapes with no offline RL in them: zeros, the rewards as targets, an
# empty buffer of the right capacity.
OFFLINE_STUBS = {
    "STUB_CQL": """

def cql_regularizer(q_values, actions):
    return 0 * q_values.sum()


def cql_loss(q_values, actions, targets, alpha, huber_delta=1.0):
    return 0 * q_values.sum()
""",
    "STUB_AWAC": """

def awac_q_target(rewards, terminated, next_q_target, next_action_probs, gamma):
    return rewards.float().detach()


def awac_advantages(q_values, actions, action_probs):
    return torch.zeros(q_values.shape[0])


def awac_weights(advantages, temperature, max_weight):
    return torch.ones_like(advantages).detach()


def weighted_actor_loss(logits, actions, weights):
    return 0 * logits.sum()
""",
    "STUB_IQL": """

def expectile_loss(diff, tau):
    return 0 * diff.sum()


def iql_value_loss(values, target_q_values, actions, tau):
    return 0 * values.sum()


def iql_q_target(rewards, terminated, next_values, gamma):
    return rewards.float().detach()
""",
    "STUB_FINETUNE": """

def start_online_phase(agent, dataset, online_env_steps):
    return agent, ReplayBuffer(len(dataset) + online_env_steps, dataset.observations.shape[1:],
                               dataset.actions.shape[1:], action_dtype=dataset.actions.dtype)
""",
}
