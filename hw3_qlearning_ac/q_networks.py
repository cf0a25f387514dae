"""Q-networks for discrete actions: Q_phi(s, .) gives one value per action in a single pass.

    QNetwork      vector observations (B, obs_dim) -> (B, num_actions), an MLP
    ConvQNetwork  stacked uint8 frames (B, C, 84, 84) -> (B, num_actions), the Nature-DQN convnet

`make_q_network` picks one from the shape of an observation.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from common.torch_utils import build_mlp


class QNetwork(nn.Module):
    """Q_phi(s, a) for every action a at once: (B, obs_dim) float -> (B, num_actions)."""

    def __init__(self, obs_dim: int, num_actions: int, hidden_sizes: Sequence[int] = (256, 256),
                 activation: str = "relu"):
        super().__init__()
        self.net = build_mlp(obs_dim, num_actions, hidden_sizes, activation)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.net(observations.float())


class ConvQNetwork(nn.Module):
    """The convolutional Q-network of Mnih et al. (2015) for C stacked 84x84 grayscale frames.

    (B, C, 84, 84) uint8 pixels -> /255 -> conv 32x8x8 s4 -> conv 64x4x4 s2 -> conv 64x3x3 s1
    -> linear 512 -> (B, num_actions). Pixels are scaled inside the network, so the replay buffer
    keeps the frames as uint8 (4x less memory than float32).
    """

    def __init__(self, num_frames: int, num_actions: int, frame_size: int = 84):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(num_frames, 32, kernel_size=8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1), nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():  # the flattened size for this frame size (3136 for 84x84)
            num_features = self.features(torch.zeros(1, num_frames, frame_size, frame_size)).shape[1]
        self.head = nn.Sequential(nn.Linear(num_features, 512), nn.ReLU(), nn.Linear(512, num_actions))

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(observations.float() / 255.0))


def make_q_network(obs_shape: Sequence[int], num_actions: int, hidden_sizes: Sequence[int] = (256, 256),
                   activation: str = "relu") -> nn.Module:
    """A QNetwork for 1-D observations (obs_dim,), a ConvQNetwork for stacked frames (C, H, W)."""
    obs_shape = tuple(obs_shape)
    if len(obs_shape) == 1:
        return QNetwork(obs_shape[0], num_actions, hidden_sizes, activation)
    if len(obs_shape) == 3 and obs_shape[1] == obs_shape[2]:
        return ConvQNetwork(obs_shape[0], num_actions, frame_size=obs_shape[1])
    raise ValueError(
        f"no Q-network for observations of shape {obs_shape}: use vectors (obs_dim,) or stacked "
        "square frames (num_frames, 84, 84), e.g. from gymnasium's AtariPreprocessing + FrameStackObservation"
    )
