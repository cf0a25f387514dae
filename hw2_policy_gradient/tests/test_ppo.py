"""Public tests of PPOAgent.update_policy (README 6.2): epochs, minibatches, the fixed old policy, metrics."""
import copy

import numpy as np
import pytest
import torch

from hw2_policy_gradient.ppo import PPOAgent

torch.set_num_threads(1)


def make_agent(**settings):
    torch.manual_seed(0)
    return PPOAgent(obs_dim=3, action_dim=2, discrete=True, config={"entropy_coefficient": 0.0, **settings})


def make_batch(n, seed=0):
    """observations whose first entry is the sample's index, so a minibatch can be told apart."""
    rng = np.random.default_rng(seed)
    observations = rng.normal(size=(n, 3)).astype(np.float32)
    observations[:, 0] = np.arange(n)
    actions = torch.as_tensor(rng.integers(0, 2, size=n))
    return torch.as_tensor(observations), actions


def log_probs_and_entropy(agent, observations, actions):
    with torch.no_grad():
        return agent.actor.log_prob(observations, actions).numpy(), agent.actor.entropy(observations).numpy()


def record_steps(agent):
    """Record, at each actor optimizer step, the samples of the minibatch (the input of the actor's
    last forward pass before the step) and the actor's gradient norm."""
    steps, last_input = [], {}
    agent.actor.register_forward_hook(lambda module, inputs, output: last_input.update(obs=inputs[0].detach()))
    original_step = agent.actor_optimizer.step

    def step(*args, **kwargs):
        grads = [p.grad.flatten() for p in agent.actor.parameters() if p.grad is not None]
        steps.append({"samples": last_input["obs"][:, 0].round().long().tolist(),
                      "grad_norm": torch.cat(grads).norm().item()})
        return original_step(*args, **kwargs)

    agent.actor_optimizer.step = step
    return steps


def test_one_full_batch_step_has_ratio_one_and_these_metrics():
    # 1 epoch, 1 minibatch: the only step starts at pi_theta = pi_theta_old, so every ratio is 1,
    # nothing is clipped, and the loss is -mean(A) - beta * mean entropy = -0.5 - 0.1 * H.
    agent = make_agent(ppo_epochs=1, minibatch_size=4, entropy_coefficient=0.1, learning_rate=0.01)
    observations, actions = make_batch(4)
    advantages = torch.tensor([1.0, -1.0, 2.0, 0.0])
    old_log_probs, entropy = log_probs_and_entropy(agent, observations, actions)
    metrics = agent.update_policy(observations, actions, advantages)
    assert set(metrics) >= {"actor_loss", "entropy", "clip_fraction", "approx_kl"}
    assert metrics["actor_loss"] == pytest.approx(-0.5 - 0.1 * entropy.mean(), rel=1e-5)
    assert metrics["entropy"] == pytest.approx(entropy.mean(), rel=1e-5)
    assert metrics["clip_fraction"] == 0.0
    new_log_probs, _ = log_probs_and_entropy(agent, observations, actions)
    assert metrics["approx_kl"] == pytest.approx(np.mean(old_log_probs - new_log_probs), rel=1e-4, abs=1e-7)


def test_each_epoch_visits_every_sample_once_in_shuffled_minibatches():
    # N = 10, minibatch_size 4: minibatches of 4, 4 and 2 per epoch, so 3 epochs take 9 Adam steps
    agent = make_agent(ppo_epochs=3, minibatch_size=4)
    observations, actions = make_batch(10)
    steps = record_steps(agent)
    agent.update_policy(observations, actions, torch.linspace(-1, 1, 10))
    assert len(steps) == 9, f"expected 3 epochs x 3 minibatches = 9 optimizer steps, got {len(steps)}"
    epochs = [steps[i:i + 3] for i in (0, 3, 6)]
    for epoch in epochs:
        assert sorted(len(step["samples"]) for step in epoch) == [2, 4, 4]
        assert sorted(sum((step["samples"] for step in epoch), [])) == list(range(10))
    orders = [sum((step["samples"] for step in epoch), []) for epoch in epochs]
    assert any(order != list(range(10)) for order in orders), "the minibatches are not shuffled"


def test_the_old_log_probs_stay_fixed_across_epochs():
    # 2 epochs of one full-batch step each. The twin takes only the first step; its log-probs are
    # where the second step starts, so the second step's ratio is r = pi_twin / pi_old, NOT 1.
    settings = dict(minibatch_size=16, learning_rate=0.05, clip_epsilon=0.1, max_grad_norm=0.0)
    agent = make_agent(ppo_epochs=2, **settings)
    twin = copy.deepcopy(agent)
    twin.config.ppo_epochs = 1
    observations, actions = make_batch(16)
    advantages = torch.linspace(-2, 2, 16)
    old_log_probs, _ = log_probs_and_entropy(agent, observations, actions)
    twin.update_policy(observations, actions, advantages)
    metrics = agent.update_policy(observations, actions, advantages)

    ratio = np.exp(log_probs_and_entropy(twin, observations, actions)[0] - old_log_probs)
    a = advantages.numpy()
    second_loss = -np.mean(np.minimum(ratio * a, np.clip(ratio, 0.9, 1.1) * a))
    first_loss = -np.mean(a)  # ratio 1
    assert metrics["actor_loss"] == pytest.approx((first_loss + second_loss) / 2, rel=1e-4)
    assert 0 < metrics["clip_fraction"] == pytest.approx(np.mean(np.abs(ratio - 1) > 0.1))
    new_log_probs, _ = log_probs_and_entropy(agent, observations, actions)
    assert metrics["approx_kl"] == pytest.approx(np.mean(old_log_probs - new_log_probs), rel=1e-4)


@pytest.mark.parametrize("max_grad_norm", [0.5, 0.0])
def test_the_gradient_norm_is_clipped_before_each_step(max_grad_norm):
    agent = make_agent(ppo_epochs=2, minibatch_size=8, max_grad_norm=max_grad_norm)
    observations, actions = make_batch(16)
    steps = record_steps(agent)
    agent.update_policy(observations, actions, 100.0 * torch.linspace(-1, 1, 16))  # large gradients
    norms = [step["grad_norm"] for step in steps]
    if max_grad_norm > 0:
        assert max(norms) <= max_grad_norm * (1 + 1e-4), f"gradient norms {norms} exceed max_grad_norm"
    else:  # 0 means no clipping: these gradients are far larger than 0.5
        assert min(norms) > 0.5
