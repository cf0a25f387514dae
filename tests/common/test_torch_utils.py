"""Specification of common.torch_utils: device, threads, seeding, MLP builder, numpy<->torch."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from common.torch_utils import build_mlp, get_device, seed_everything, set_torch_threads, to_numpy, to_torch

# ------------------------------------------------------------------------------------ device


def test_auto_device_is_cuda_exactly_when_available(monkeypatch):
    monkeypatch.delenv("DEEPRL_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert get_device().type == expected
    assert get_device("auto").type == expected


def test_cpu_can_always_be_chosen(monkeypatch):
    monkeypatch.delenv("DEEPRL_DEVICE", raising=False)
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(" CPU ") == torch.device("cpu")


def test_environment_variable_sets_the_default(monkeypatch):
    monkeypatch.setenv("DEEPRL_DEVICE", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # auto would pick CUDA
    assert get_device() == torch.device("cpu")


def test_explicit_name_wins_over_environment_variable(monkeypatch):
    monkeypatch.setenv("DEEPRL_DEVICE", "cuda")
    assert get_device("cpu") == torch.device("cpu")


def test_auto_picks_cuda_when_present(monkeypatch):
    monkeypatch.delenv("DEEPRL_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")


def test_unknown_device_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DEEPRL_DEVICE", raising=False)
    with pytest.raises(ValueError, match=r"unknown device 'gpu'.*'auto', 'cpu' or 'cuda'"):
        get_device("gpu")
    monkeypatch.setenv("DEEPRL_DEVICE", "tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        get_device()


def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        get_device("cuda")


# ------------------------------------------------------------------------------------ threads


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_thread_count_defaults_to_one(monkeypatch, restore_threads):
    monkeypatch.delenv("DEEPRL_TORCH_THREADS", raising=False)
    torch.set_num_threads(2)
    assert set_torch_threads() == 1
    assert torch.get_num_threads() == 1


def test_thread_count_from_environment_and_argument(monkeypatch, restore_threads):
    monkeypatch.setenv("DEEPRL_TORCH_THREADS", "2")
    assert set_torch_threads() == 2 and torch.get_num_threads() == 2
    assert set_torch_threads(1) == 1 and torch.get_num_threads() == 1  # the argument wins


def test_thread_count_below_one_is_an_error(restore_threads):
    with pytest.raises(ValueError, match="at least 1"):
        set_torch_threads(0)


def test_thread_count_that_is_not_a_number_names_the_variable(monkeypatch, restore_threads):
    monkeypatch.setenv("DEEPRL_TORCH_THREADS", "two")
    with pytest.raises(ValueError, match="DEEPRL_TORCH_THREADS must be a whole number.*'two'"):
        set_torch_threads()


# ------------------------------------------------------------------------------------ seeding


def draw_everything():
    return random.random(), np.random.rand(), torch.rand(3), build_mlp(2, 1, (4,)).state_dict()["0.weight"]


def test_same_seed_same_numbers_everywhere():
    seed_everything(123)
    first = draw_everything()
    seed_everything(123)
    second = draw_everything()
    assert first[0] == second[0] and first[1] == second[1]
    assert torch.equal(first[2], second[2])
    assert torch.equal(first[3], second[3])  # network initialisation is reproducible too


def test_different_seeds_different_numbers():
    seed_everything(1)
    first = draw_everything()
    seed_everything(2)
    second = draw_everything()
    assert first[0] != second[0] and first[1] != second[1] and not torch.equal(first[2], second[2])


# ------------------------------------------------------------------------------------ MLP


def test_mlp_layer_sizes_and_activations():
    mlp = build_mlp(4, 2, hidden_sizes=(32, 16), activation="relu")
    kinds = [type(layer) for layer in mlp]
    assert kinds == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    linears = [layer for layer in mlp if isinstance(layer, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(4, 32), (32, 16), (16, 2)]


def test_mlp_default_is_two_tanh_layers_of_64_and_linear_output():
    mlp = build_mlp(3, 1)
    assert [type(layer) for layer in mlp] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert mlp[0].out_features == 64 and mlp[2].out_features == 64


def test_mlp_output_shape_for_a_batch():
    assert build_mlp(5, 3)(torch.zeros(7, 5)).shape == (7, 3)


def test_mlp_without_hidden_layers_is_linear():
    mlp = build_mlp(5, 3, hidden_sizes=())
    assert len(mlp) == 1 and isinstance(mlp[0], nn.Linear)


def test_mlp_output_activation_bounds_the_output():
    mlp = build_mlp(2, 3, output_activation="tanh")
    assert isinstance(mlp[-1], nn.Tanh)
    out = mlp(torch.full((10, 2), 1e3))
    assert out.abs().max() <= 1


def test_unknown_activation_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'.*relu.*tanh"):
        build_mlp(2, 2, activation="swish")


# ------------------------------------------------------------------------------------ conversion


def test_numpy_torch_round_trip_keeps_values_and_shape():
    array = np.arange(6, dtype=np.float64).reshape(2, 3) / 7
    tensor = to_torch(array)
    assert tensor.dtype == torch.float32 and tensor.shape == (2, 3) and tensor.device.type == "cpu"
    back = to_numpy(tensor)
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    np.testing.assert_allclose(back, array, rtol=1e-6)


def test_to_torch_can_keep_the_dtype_for_integer_actions():
    actions = np.array([0, 2, 1], dtype=np.int64)
    assert to_torch(actions, dtype=None).dtype == torch.int64
    assert to_torch([1, 2]).dtype == torch.float32  # lists are accepted too


def test_to_numpy_detaches_tensors_that_require_grad():
    weight = torch.ones(3, requires_grad=True)
    np.testing.assert_array_equal(to_numpy(weight * 2), [2.0, 2.0, 2.0])
