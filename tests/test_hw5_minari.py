"""Homework 5's datasets round-trip through Minari's format (hw5_exploration_offline/minari_io.py).

The round trips need the optional extra (`pip install -e ".[minari]"`, in `.[dev]`) and skip without it; the
episode splitting and the missing-extra message are checked everywhere.
"""
import sys

import numpy as np
import pytest

from common.replay_buffer import ReplayBuffer
from common.rollouts import Transitions
from hw5_exploration_offline import minari_io
from hw5_exploration_offline.datasets import load_dataset
from hw5_exploration_offline.exploration import explore
from hw5_exploration_offline.make_datasets import DEFAULT_OUT, DEFAULT_STEPS, dataset_name

FIELDS = ("observations", "actions", "rewards", "next_observations", "terminated", "truncated")


def assert_same_buffers(got: ReplayBuffer, expected: ReplayBuffer) -> None:
    assert len(got) == len(expected)
    for name in FIELDS:
        a, b = getattr(got, name)[:len(got)], getattr(expected, name)[:len(expected)]
        assert a.dtype == b.dtype, f"{name}: {a.dtype} != {b.dtype}"
        np.testing.assert_array_equal(a, b, err_msg=name)


def transitions_of(buffer: ReplayBuffer) -> Transitions:
    return Transitions(**{name: getattr(buffer, name)[:len(buffer)] for name in FIELDS})


def test_episodes_split_at_every_end_and_join_back_exactly():
    # a short random run on Easy: episodes end by reaching the goal or by the time limit, and the run
    # stops inside an episode (kept with neither flag on its last step)
    result = explore({"env_id": "hw5/PointMassEasy-v0", "method": "random", "total_env_steps": 237,
                      "seed": 3, "progress_bar": False})
    data = transitions_of(result.buffer)
    episodes = minari_io.split_episodes(data)
    assert len(episodes) == int((data.terminated | data.truncated).sum()) + 1
    assert sum(len(e["rewards"]) for e in episodes) == 237
    for episode in episodes:
        assert len(episode["observations"]) == len(episode["actions"]) + 1
    assert not (episodes[-1]["terminations"][-1] or episodes[-1]["truncations"][-1])
    joined = minari_io.join_episodes(episodes, action_dtype=np.int64)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(joined, name), getattr(data, name), err_msg=name)


def test_transitions_out_of_order_are_refused():
    result = explore({"env_id": "hw5/PointMassMedium-v0", "method": "random", "total_env_steps": 50,
                      "seed": 0, "progress_bar": False})
    data = transitions_of(result.buffer)
    shuffled = Transitions(**{name: getattr(data, name)[::-1].copy() for name in FIELDS})
    with pytest.raises(ValueError, match="in the order they were taken"):
        minari_io.split_episodes(shuffled)


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "minari", None)  # import minari raises ImportError
    with pytest.raises(ImportError, match=r'pip install -e "\.\[minari\]"'):
        minari_io.require_minari()


def test_a_shipped_pointmass_dataset_round_trips_through_minari(tmp_path):
    minari = pytest.importorskip("minari", reason='the optional extra: pip install -e ".[minari]"')
    path = DEFAULT_OUT / dataset_name("Medium", "rnd", DEFAULT_STEPS)
    expected, info = load_dataset(path)
    dataset = minari_io.export_dataset(path, "hw5/pointmass-medium-rnd-v0", root=tmp_path / "minari")
    assert isinstance(dataset, minari.MinariDataset)
    cut_short = not (expected.terminated[len(expected) - 1] or expected.truncated[len(expected) - 1])
    assert dataset.total_steps == len(expected) and dataset.total_episodes == info.episodes + cut_short
    # read back with Minari's own loader, from its folder
    reopened = minari_io.open_minari("hw5/pointmass-medium-rnd-v0", root=tmp_path / "minari")
    assert minari_io.env_id_of(reopened) == info.env_id
    assert_same_buffers(minari_io.from_minari(reopened), expected)
    env = reopened.recover_environment()  # the maze itself comes back from the stored env spec
    assert env.spec.id == info.env_id
    env.close()


def test_a_minari_dataset_imports_as_a_homework_dataset_with_its_manifest(tmp_path):
    pytest.importorskip("minari", reason='the optional extra: pip install -e ".[minari]"')
    result = explore({"env_id": "hw5/PointMassEasy-v0", "method": "random", "total_env_steps": 301,
                      "seed": 1, "progress_bar": False})
    minari_io.to_minari(result.buffer, "hw5/easy-random-v0", "hw5/PointMassEasy-v0", root=tmp_path / "minari",
                        algorithm_name="random")
    out = minari_io.import_dataset("hw5/easy-random-v0", tmp_path / "data" / "easy.npz", root=tmp_path / "minari")
    buffer, info = load_dataset(out)  # the manifest entry and its sha256 are there
    assert_same_buffers(buffer, result.buffer)
    assert info.method == "minari:hw5/easy-random-v0" and info.env_steps == 301 and 0 < info.state_coverage <= 1


def test_an_existing_minari_dataset_is_never_overwritten(tmp_path):
    pytest.importorskip("minari", reason='the optional extra: pip install -e ".[minari]"')
    result = explore({"env_id": "hw5/PointMassEasy-v0", "method": "random", "total_env_steps": 60,
                      "seed": 2, "progress_bar": False})
    minari_io.to_minari(result.buffer, "hw5/easy-v0", "hw5/PointMassEasy-v0", root=tmp_path)
    with pytest.raises(ValueError, match="already exists"):
        minari_io.to_minari(result.buffer, "hw5/easy-v0", "hw5/PointMassEasy-v0", root=tmp_path)
