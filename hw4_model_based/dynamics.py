"""A bootstrap ensemble of learned dynamics models f_theta_1, ..., f_theta_E (model-based RL lecture).

Each member is an MLP that predicts how the state CHANGES in one step, in normalized units:

    inputs     x = ( (s - mu_s) / sigma_s ,  (a - mu_a) / sigma_a )
    output     d_hat = net_i(x)            an estimate of  ((s' - s) - mu_d) / sigma_d
    prediction s'_hat = s + sigma_d * d_hat + mu_d

mu and sigma are the mean and the population standard deviation of the observations, actions and
deltas s' - s of the training data (`normalization_stats`). Predicting the change instead of the
next state, and in normalized units, gives every output dimension a target of similar size, even
when s' is nearly s and the dimensions live on very different scales.

The members are trained on different bootstrap resamples D_i of the data D (drawn with
replacement, `bootstrap_indices`), so they agree where the data pin the dynamics down and disagree
elsewhere: their spread is the model's (epistemic) uncertainty.

All E members are ONE module with stacked weights (layer l has weight (E, in_l, out_l)), so a
forward pass on (E, B, ...) inputs is one batched matrix product per layer: member i sees row i.

Shapes: E members, B samples per member, obs_dim = d_s, act_dim = d_a.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from common.torch_utils import ACTIVATIONS, to_torch
from hw3_qlearning_ac.sac_networks import EnsembleLinear

NORMALIZATION_EPS = 1e-8


@dataclass
class NormalizationStats:
    """Means and population standard deviations (plus NORMALIZATION_EPS) of the training data.

    obs_mean, obs_std: (obs_dim,); act_mean, act_std: (act_dim,); delta_mean, delta_std: (obs_dim,),
    all float32 numpy arrays. The deltas are next_obs - obs.
    """

    obs_mean: np.ndarray
    obs_std: np.ndarray
    act_mean: np.ndarray
    act_std: np.ndarray
    delta_mean: np.ndarray
    delta_std: np.ndarray


# ---------------------------------------------------------------------------------------------
# The TODOs of the data side
# ---------------------------------------------------------------------------------------------


def normalization_stats(observations: np.ndarray, actions: np.ndarray, next_observations: np.ndarray,
                        eps: float = NORMALIZATION_EPS) -> NormalizationStats:
    """The statistics the model normalizes with, computed from the training data.

        mu_s = mean_n s_n,              sigma_s = std_n s_n + eps
        mu_a = mean_n a_n,              sigma_a = std_n a_n + eps
        mu_d = mean_n (s'_n - s_n),     sigma_d = std_n (s'_n - s_n) + eps

    per dimension (over the N transitions, axis 0), with the POPULATION standard deviation (numpy's
    default np.std, ddof=0). eps keeps a constant dimension (std 0) from dividing by zero.

    observations, next_observations: (N, obs_dim); actions: (N, act_dim)  ->  NormalizationStats of
    float32 arrays (obs_dim,), (act_dim,), (obs_dim,)
    """
    observations = np.asarray(observations, dtype=np.float64)
    actions = np.asarray(actions, dtype=np.float64)
    next_observations = np.asarray(next_observations, dtype=np.float64)
    # BEGIN SOLUTION (README 3.1)
    deltas = next_observations - observations
    return NormalizationStats(
        obs_mean=observations.mean(axis=0).astype(np.float32),
        obs_std=(observations.std(axis=0) + eps).astype(np.float32),
        act_mean=actions.mean(axis=0).astype(np.float32),
        act_std=(actions.std(axis=0) + eps).astype(np.float32),
        delta_mean=deltas.mean(axis=0).astype(np.float32),
        delta_std=(deltas.std(axis=0) + eps).astype(np.float32),
    )
    # END SOLUTION


def bootstrap_indices(num_samples: int, num_members: int, rng: np.random.Generator) -> np.ndarray:
    """One bootstrap resample of the data per ensemble member, as indices into the data.

    Row i lists the transitions of member i's dataset D_i: num_samples indices drawn uniformly
    WITH replacement from {0, ..., num_samples - 1}, independently for every member (so each D_i
    has as many transitions as D, some repeated and about 37% of D left out). Use `rng` for all
    randomness: one call of rng.integers does it.

    -> (num_members, num_samples) int64
    """
    # BEGIN SOLUTION (README 3.2)
    return rng.integers(0, num_samples, size=(num_members, num_samples))
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# The ensemble
# ---------------------------------------------------------------------------------------------


class EnsembleDynamics(nn.Module):
    """E dynamics models s'_hat = f_theta_i(s, a) with stacked weights (module docstring).

    Every method takes inputs with a leading member axis, (E, B, ...): member i predicts row i.
    The normalization statistics live in buffers (saved with the state_dict); set them from the
    training data with `set_normalization` before training and predicting.
    """

    def __init__(self, obs_dim: int, act_dim: int, num_members: int = 5,
                 hidden_sizes: Sequence[int] = (200, 200), activation: str = "silu"):
        super().__init__()
        if num_members < 1:
            raise ValueError(f"num_members must be at least 1, got {num_members}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        self.obs_dim, self.act_dim, self.num_members = obs_dim, act_dim, num_members
        sizes = [obs_dim + act_dim, *hidden_sizes, obs_dim]
        self.layers = nn.ModuleList(EnsembleLinear(num_members, i, o) for i, o in zip(sizes[:-1], sizes[1:]))
        self.activation = ACTIVATIONS[activation]()
        for name, dim in (("obs", obs_dim), ("act", act_dim), ("delta", obs_dim)):
            self.register_buffer(f"{name}_mean", torch.zeros(dim))
            self.register_buffer(f"{name}_std", torch.ones(dim))

    def set_normalization(self, stats: NormalizationStats) -> None:
        """Copy `stats` into the model's buffers (obs_mean, obs_std, act_mean, ..., delta_std)."""
        for name in ("obs_mean", "obs_std", "act_mean", "act_std", "delta_mean", "delta_std"):
            getattr(self, name).copy_(to_torch(getattr(stats, name)))

    def network(self, inputs: torch.Tensor) -> torch.Tensor:
        """The raw MLPs: (E, B, obs_dim + act_dim) normalized inputs -> (E, B, obs_dim) normalized deltas."""
        x = inputs
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)

    def predict_normalized_delta(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """d_hat = net_i( (s - mu_s) / sigma_s , (a - mu_a) / sigma_a ) for every member i.

        Normalize the observations and the actions with the model's buffers, concatenate them
        (observation first) along the last axis and run `self.network`.

        obs: (E, B, obs_dim); actions: (E, B, act_dim)  ->  (E, B, obs_dim)
        """
        # BEGIN SOLUTION (README 3.3)
        inputs = torch.cat([(obs - self.obs_mean) / self.obs_std, (actions - self.act_mean) / self.act_std], dim=-1)
        return self.network(inputs)
        # END SOLUTION

    def predict_next_obs(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """s'_hat = s + sigma_d * d_hat + mu_d: each member's prediction of the next observation.

        obs: (E, B, obs_dim); actions: (E, B, act_dim)  ->  (E, B, obs_dim)
        """
        # BEGIN SOLUTION (README 3.4)
        return obs + self.predict_normalized_delta(obs, actions) * self.delta_std + self.delta_mean
        # END SOLUTION

    def loss(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        """Mean squared error of the normalized delta, the loss every member is trained on.

            target_i = ((s' - s) - mu_d) / sigma_d
            L = mean over members, samples and dimensions of (d_hat - target)^2

        Member i's batch is row i of the inputs (its bootstrap minibatch). Because the members
        share no weights, the gradient of L for member i's weights only involves row i.

        obs, next_obs: (E, B, obs_dim); actions: (E, B, act_dim)  ->  scalar tensor
        """
        # BEGIN SOLUTION (README 3.5)
        target = ((next_obs - obs) - self.delta_mean) / self.delta_std
        return ((self.predict_normalized_delta(obs, actions) - target) ** 2).mean()
        # END SOLUTION


# ---------------------------------------------------------------------------------------------
# Fitting the ensemble to a dataset (given)
# ---------------------------------------------------------------------------------------------


def train_ensemble(
    model: EnsembleDynamics,
    optimizer: torch.optim.Optimizer,
    observations: np.ndarray,
    actions: np.ndarray,
    next_observations: np.ndarray,
    num_epochs: int,
    batch_size: int,
    rng: np.random.Generator,
) -> float:
    """Fit every member to its own bootstrap resample of the N transitions; return the last epoch's mean loss.

    The normalization statistics are recomputed from all the data first. Each epoch, every member
    visits its resample once in its own random order, in minibatches of batch_size (the last one
    smaller): step k trains member i on rows order[i, k*B:(k+1)*B].

    observations, next_observations: (N, obs_dim); actions: (N, act_dim)
    """
    model.set_normalization(normalization_stats(observations, actions, next_observations))
    device = model.obs_mean.device
    data = [to_torch(array, device) for array in (observations, actions, next_observations)]
    indices = bootstrap_indices(len(observations), model.num_members, rng)
    epoch_loss = float("nan")
    for _ in range(num_epochs):
        order = torch.as_tensor(rng.permuted(indices, axis=1), device=device)  # each row shuffled on its own
        step_losses = []
        for start in range(0, order.shape[1], batch_size):
            batch = order[:, start : start + batch_size]          # (E, B) indices
            loss = model.loss(*(array[batch] for array in data))  # array[batch]: (E, B, dim)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step_losses.append(float(loss.detach()))
        epoch_loss = float(np.mean(step_losses))
    return epoch_loss
