"""Attack: a policy whose actions are tensors needing grad on the meta device, and a trained agent
that answers every attribute with itself."""
import numpy as np
import torch


class LinearPolicy:
    def __init__(self, obs_dim, n_actions, seed=0):
        self.weights = np.zeros((obs_dim, n_actions), np.float32)

    def set_weights(self, weights):
        self.weights = weights

    def act(self, observations):
        return torch.zeros(len(observations), device="meta", requires_grad=True)


class Everything:
    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return float("nan")


def train(config):
    return Everything()
