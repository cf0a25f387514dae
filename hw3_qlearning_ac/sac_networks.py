"""The networks of soft actor-critic: a squashed Gaussian actor and an ensemble of Q critics.

Both are plain torch modules that only compute numbers; the losses that train them are in sac.py.

EnsembleCritic holds E Q-networks (E = 2 for twin critics) as ONE module whose weights are
stacked along a leading axis: layer l has weight (E, in_l, out_l) and bias (E, 1, out_l), and
`torch.baddbmm` applies all E layers in one call. The E critics stay independent (separate
weights, separate random initialisations, gradients that never mix), but a forward pass costs one
batched matrix product per layer instead of E separate ones, which matters on a CPU where SAC
spends most of its time in these small networks.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from common.torch_utils import ACTIVATIONS, build_mlp

# log sigma is kept in [LOG_STD_MIN, LOG_STD_MAX]: below, log pi explodes; above, tanh saturates.
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


class SquashedGaussianActor(nn.Module):
    """The network of pi_theta(a|s) = tanh(N(mu_theta(s), diag sigma_theta(s)^2)).

    One MLP maps an observation (obs_dim,) to 2 * act_dim numbers: the mean mu and the log standard
    deviation log sigma of the Gaussian over the pre-squash action u. log sigma is squashed softly
    into [LOG_STD_MIN, LOG_STD_MAX]. Sampling and log-probabilities are in sac.py
    (`squashed_gaussian_sample_and_log_prob`).
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int] = (256, 256), activation: str = "relu"):
        super().__init__()
        self.act_dim = act_dim
        self.net = build_mlp(obs_dim, 2 * act_dim, hidden_sizes, activation)

    def forward(self, observations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, obs_dim) -> mean (B, act_dim), log_std (B, act_dim)."""
        mean, raw_log_std = self.net(observations).chunk(2, dim=-1)
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(raw_log_std) + 1.0)
        return mean, log_std


class EnsembleLinear(nn.Module):
    """E independent linear layers applied in one batched product: (E, B, in) -> (E, B, out).

    Each member is initialised like torch's nn.Linear: weights and biases uniform in
    [-1/sqrt(in), 1/sqrt(in)].
    """

    def __init__(self, num_members: int, in_features: int, out_features: int):
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(num_members, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(num_members, 1, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor, detach_weights: bool = False) -> torch.Tensor:
        """bias + x @ weight for every member at once; detach_weights: use them as constants."""
        if detach_weights:
            return torch.baddbmm(self.bias.detach(), x, self.weight.detach())
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleCritic(nn.Module):
    """E soft Q-functions Q_phi_1, ..., Q_phi_E evaluated in one forward pass.

    Each member is an MLP (obs_dim + act_dim) -> hidden_sizes -> 1 with its own weights.
    forward(observations (B, obs_dim), actions (B, act_dim)) -> q_values (E, B).
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        num_critics: int = 2,
        hidden_sizes: Sequence[int] = (256, 256),
        activation: str = "relu",
    ):
        super().__init__()
        if num_critics < 1:
            raise ValueError(f"num_critics must be at least 1, got {num_critics}")
        self.num_critics = num_critics
        sizes = [obs_dim + act_dim, *hidden_sizes, 1]
        self.layers = nn.ModuleList(EnsembleLinear(num_critics, i, o) for i, o in zip(sizes[:-1], sizes[1:]))
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        self.activation = ACTIVATIONS[activation]()

    def forward(self, observations: torch.Tensor, actions: torch.Tensor, detach_weights: bool = False) -> torch.Tensor:
        """(B, obs_dim), (B, act_dim) -> (E, B): row e holds Q_phi_e(s_i, a_i).

        detach_weights=True uses the weights as constants: gradients still flow back to the inputs
        (the actor's actions) but none is computed for the critics' weights.
        """
        x = torch.cat([observations, actions], dim=-1)
        # The same input for every member: expand is a view (stride 0), no copy.
        x = x.unsqueeze(0).expand(self.num_critics, *x.shape)
        for layer in self.layers[:-1]:
            x = self.activation(layer(x, detach_weights))
        return self.layers[-1](x, detach_weights).squeeze(-1)
