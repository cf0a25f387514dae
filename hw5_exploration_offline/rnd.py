"""Random Network Distillation (RND): a novelty bonus from how badly a network predicts a random one.

The exploration lecture estimates counts from errors: pick a target function f*(s), fit
f_hat_theta(s) to it on the states seen so far, and use the error

    E(s) = || f_hat_theta(s) - f*(s) ||^2

as a bonus. On states visited often the predictor has had many examples and E is small; on new
states it has not, and E is large. RND takes the simplest target: f*(s) = f_phi(s), a network with
RANDOM weights phi that are drawn once and never trained. The predictor f_hat_theta is trained by
regression on visited states, and phi stays fixed (otherwise the target would chase the predictor
and the error would stop meaning "new").

The raw error's scale depends on the networks and drifts as the predictor learns, so the bonus is
the error normalized over the batch (zero mean, unit population std):

    b(s_j) = (E(s_j) - mean_k E(s_k)) / (std_k E(s_k) + eps)

and DQN learns from the mixed reward r_j + beta * b(s'_j): the bonus of the state the transition
reaches. beta (`bonus_weight`) trades exploring against the task's own reward.

    agent = RNDDQNAgent(obs_shape=(2,), num_actions=4, dqn_config=DQNConfig(), rnd_config=RNDConfig())
    actions = agent.get_action(observations, epsilon=0.1, rng=rng)
    metrics = agent.update(buffer.sample(agent.dqn.config.batch_size, rng))   # DQN step + predictor step
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from common.rollouts import Transitions
from common.torch_utils import build_mlp, to_torch
from hw3_qlearning_ac.dqn import DQNAgent, DQNConfig


@dataclass
class RNDConfig:
    """Hyperparameters of RND (the `rnd:` section of a config file)."""

    output_size: int = 32                   # k: size of the random features f_phi(s)
    hidden_sizes: tuple[int, ...] = (128, 128)
    learning_rate: float = 1e-3             # Adam step size of the predictor
    bonus_weight: float = 1.0               # beta in r + beta * b(s')
    target_init_std: float = 1.0            # std of the target's random weights, times 1/sqrt(fan_in)

    def __post_init__(self):
        self.hidden_sizes = tuple(self.hidden_sizes)
        if self.output_size < 1:
            raise ValueError(f"output_size must be at least 1, got {self.output_size}")


# ---------------------------------------------------------------------------------------------
# The bonus
# ---------------------------------------------------------------------------------------------


def rnd_prediction_error(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The squared prediction error of every state: E(s_j) = sum_k (f_hat(s_j)_k - f*(s_j)_k)^2.

    A SUM over the k features of each row (the squared Euclidean norm), not a mean, and no
    reduction over the batch. Gradient flows into `predicted` (the predictor learns from it);
    the target's values are constants.

    predicted: (B, k) predictor outputs f_hat_theta(s); target: (B, k) target outputs f_phi(s).
    Returns E: (B,).
    """
    # BEGIN SOLUTION (README 3.1)
    return ((predicted - target.detach()) ** 2).sum(dim=1)
    # END SOLUTION


def normalize_bonus(errors: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The bonus: prediction errors normalized over the batch to zero mean and unit std.

        b_j = (E_j - mean(E)) / (std(E) + eps)

    std is the POPULATION std (divide by B, torch.std(..., unbiased=False) or correction=0), as
    everywhere in the course. States more novel than the batch's average get b_j > 0.

    errors: (B,).  Returns b: (B,), without gradient (detached: the bonus is a reward, a constant).
    """
    # BEGIN SOLUTION (README 3.2)
    errors = errors.detach()
    return (errors - errors.mean()) / (errors.std(correction=0) + eps)
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# Target and predictor
# ---------------------------------------------------------------------------------------------


class RNDModel(nn.Module):
    """A fixed random target network f_phi and a trained predictor f_hat_theta, both (B, obs_dim) -> (B, k).

    Attributes: target (requires_grad False; never trained, never re-drawn), predictor,
    optimizer (Adam over the predictor's parameters only), num_updates.
    """

    def __init__(self, obs_dim: int, config: RNDConfig | None = None):
        super().__init__()
        self.config = config = config or RNDConfig()
        self.target = build_mlp(obs_dim, config.output_size, config.hidden_sizes, activation="relu")
        self.predictor = build_mlp(obs_dim, config.output_size, config.hidden_sizes, activation="relu")
        for layer in self.target:
            if isinstance(layer, nn.Linear):  # a rougher random function than the default init gives
                nn.init.normal_(layer.weight, std=config.target_init_std / np.sqrt(layer.in_features))
                nn.init.normal_(layer.bias, std=config.target_init_std)
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=config.learning_rate)
        self.num_updates = 0

    @property
    def device(self) -> torch.device:
        return next(self.predictor.parameters()).device

    def prediction_errors(self, observations: np.ndarray) -> np.ndarray:
        """E(s) for observations (B, obs_dim) numpy -> (B,) numpy, without gradient."""
        with torch.no_grad():
            obs = to_torch(observations, self.device)
            return rnd_prediction_error(self.predictor(obs), self.target(obs)).cpu().numpy()

    def bonus(self, observations: np.ndarray) -> np.ndarray:
        """The normalized bonus b(s) of a batch of observations (B, obs_dim) numpy -> (B,) float32 numpy."""
        errors = torch.as_tensor(self.prediction_errors(observations))
        return normalize_bonus(errors).numpy().astype(np.float32)

    def update(self, observations: np.ndarray) -> dict[str, float]:
        """One Adam step of the predictor towards the fixed target on a batch of visited states.

            theta <- theta - lr * grad_theta  mean_j E(s_j),   E from rnd_prediction_error

        observations: (B, obs_dim) numpy. Only the predictor changes: the target's weights are
        exactly the same after the call (not trained, not re-drawn).
        Returns {"rnd_loss": mean_j E(s_j) before the step}.
        """
        # BEGIN SOLUTION (README 3.3)
        obs = to_torch(observations, self.device)
        with torch.no_grad():
            target_features = self.target(obs)
        loss = rnd_prediction_error(self.predictor(obs), target_features).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.num_updates += 1
        return {"rnd_loss": loss.item()}
        # END SOLUTION


# ---------------------------------------------------------------------------------------------
# DQN with the bonus
# ---------------------------------------------------------------------------------------------


def spread_first_layer(network: nn.Module, scale: float) -> None:
    """Re-draw the first Linear layer of `network` for inputs in the unit cube [0, 1]^d.

    Weights ~ N(0, scale^2); each unit's bias is set so that the unit's ReLU kink, the hyperplane
    w . s + b = 0, passes through a uniformly random point of the cube. With PyTorch's default
    init the kinks are few and far apart on inputs this small, and an MLP on maze coordinates needs
    thousands of steps before it can tell neighbouring cells (1/15 of the input range) apart.
    Draws from torch's global generator.
    """
    first = next(m for m in network.modules() if isinstance(m, nn.Linear))
    with torch.no_grad():
        first.weight.normal_(0.0, scale)
        points = torch.rand(first.weight.shape)
        first.bias.copy_(-(first.weight * points).sum(dim=1))


class RNDDQNAgent(nn.Module):
    """Homework 3's DQNAgent learning from the mixed reward r + beta * b(s'), next to an RNDModel.

    q_input_scale: when set, the Q-network's first layer is re-drawn by spread_first_layer with this
        scale (and copied into the target network); None keeps homework 3's initialization.
    Attributes: dqn (hw3_qlearning_ac.dqn.DQNAgent, used as it is), rnd (RNDModel).
    """

    def __init__(self, obs_shape: Sequence[int], num_actions: int, dqn_config: DQNConfig | None = None,
                 rnd_config: RNDConfig | None = None, q_input_scale: float | None = None):
        super().__init__()
        obs_shape = tuple(obs_shape)
        if len(obs_shape) != 1:
            raise ValueError(f"RND here takes vector observations (obs_dim,), got shape {obs_shape}")
        self.dqn = DQNAgent(obs_shape, num_actions, dqn_config)
        self.rnd = RNDModel(obs_shape[0], rnd_config)
        if q_input_scale is not None:
            spread_first_layer(self.dqn.q_network, q_input_scale)
            self.dqn.target_network.load_state_dict(self.dqn.q_network.state_dict())

    def get_action(self, observations: np.ndarray, deterministic: bool = False, epsilon: float = 0.0,
                   rng: np.random.Generator | None = None) -> np.ndarray:
        """Actions (N,) int64 of the DQN agent (epsilon-greedy on its Q-values, or greedy)."""
        return self.dqn.get_action(observations, deterministic=deterministic, epsilon=epsilon, rng=rng)

    def update(self, batch: Transitions) -> dict[str, float]:
        """One DQN step on the batch with mixed rewards, then one predictor step.

        In this order:
          1. b = self.rnd.bonus(batch.next_observations): the bonus of the state each transition
             reaches, computed BEFORE the predictor learns from this batch;
          2. mixed rewards r_j + beta * b_j (beta = self.rnd.config.bonus_weight), as float32;
          3. self.dqn.update on the same batch with its rewards replaced by the mixed ones
             (dataclasses.replace(batch, rewards=...); everything else unchanged);
          4. self.rnd.update(batch.next_observations).

        Returns the DQN metrics (q_loss, q_values, ...) plus "rnd_loss" (from self.rnd.update: the
        mean raw error E(s'_j) before the predictor step) and "mixed_reward" (mean of r_j + beta * b_j).
        """
        # BEGIN SOLUTION (README 3.4)
        bonus = self.rnd.bonus(batch.next_observations)
        mixed = (batch.rewards + self.rnd.config.bonus_weight * bonus).astype(np.float32)
        metrics = self.dqn.update(dataclasses.replace(batch, rewards=mixed))
        metrics.update(self.rnd.update(batch.next_observations))
        metrics["mixed_reward"] = float(mixed.mean())
        return metrics
        # END SOLUTION
