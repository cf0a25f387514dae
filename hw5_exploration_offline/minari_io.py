"""Homework 5's datasets in Minari's format (the field's standard for offline RL data), both ways.

Minari (the successor of D4RL) stores a dataset as EPISODES: for an episode of T steps, T + 1
observations (the last one is the state the episode ended in), T actions, rewards, terminations
and truncations. Homework 5 stores flat transitions (s, a, r, s', terminated, truncated) in a
common.replay_buffer.ReplayBuffer `.npz` (hw5_exploration_offline.datasets). The two hold the same
data when the transitions are in order: an episode ends at a step that is terminated or truncated,
and inside an episode s'_t == s_{t+1}. The last episode of an exploration run may be cut by the end
of the run: it keeps neither flag on its last step, in both formats.

    pip install -e ".[minari]"        # the optional extra: minari 0.5.4 with its HDF5 storage (h5py)

    # a shipped dataset as the Minari dataset hw5/pointmass-medium-rnd-v0 under ./minari_data
    python -m hw5_exploration_offline.minari_io export hw5_exploration_offline/datasets/pointmass_medium_rnd_10k.npz \
        hw5/pointmass-medium-rnd-v0 --root minari_data
    # any Minari dataset (e.g. a D4RL-style task an instructor made) as a homework 5 .npz dataset
    python -m hw5_exploration_offline.minari_io import hw5/pointmass-medium-rnd-v0 my_data/medium.npz --root minari_data

Without --root, Minari's own folder is used (MINARI_DATASETS_PATH, else ~/.minari/datasets). Nothing
is downloaded: datasets are read from and written to local folders only.

Reading another task's data: observations must be a Box (or a Dict of Boxes, flattened in the
space's key order, as gymnasium.spaces.flatten does), actions a Discrete or a Box. The offline
agents of this homework take discrete actions; a continuous-action dataset loads, but needs an
agent that takes its actions.
"""
from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from gymnasium import spaces

from common.replay_buffer import ReplayBuffer
from common.rollouts import Transitions
from hw5_exploration_offline import pointmass  # noqa: F401  (registers the mazes: Minari stores their env spec)
from hw5_exploration_offline.datasets import DatasetInfo, describe, load_dataset, save_dataset
from hw5_exploration_offline.pointmass import ENV_IDS

INSTALL_HINT = 'Minari is an optional extra of the course: pip install -e ".[minari]" (minari 0.5.4 and h5py)'


def require_minari():
    """The minari module, or an ImportError that says how to install the optional extra."""
    try:
        import minari
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return minari


@contextlib.contextmanager
def datasets_root(root: str | Path | None) -> Iterator[None]:
    """Point Minari at `root` (its MINARI_DATASETS_PATH) for the duration; None keeps Minari's default."""
    if root is None:
        yield
        return
    previous = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(Path(root).resolve())
    try:
        yield
    finally:
        if previous is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = previous


# ---------------------------------------------------------------------------------------------
# transitions -> episodes -> transitions
# ---------------------------------------------------------------------------------------------


def split_episodes(data: Transitions) -> list[dict[str, np.ndarray]]:
    """Flat, in-order transitions as Minari episodes: dicts of observations (T + 1, ...), actions,
    rewards, terminations and truncations (T, ...). ValueError when the data are not in order."""
    ends = np.flatnonzero(data.terminated | data.truncated)
    n = len(data.rewards)
    bounds = list(zip(np.concatenate([[0], ends + 1]), np.concatenate([ends + 1, [n]])))
    episodes = []
    for start, stop in bounds:
        if start == stop:
            continue
        inside = slice(start + 1, stop)
        if not np.array_equal(data.observations[inside], data.next_observations[start:stop - 1]):
            step = start + 1 + int(np.flatnonzero(np.any(
                (data.observations[inside] != data.next_observations[start:stop - 1]).reshape(stop - start - 1, -1),
                axis=1))[0])
            raise ValueError(f"transition {step} does not start where transition {step - 1} ended: Minari stores "
                             "whole episodes, so the transitions must be in the order they were taken")
        episodes.append({
            "observations": np.concatenate([data.observations[start:stop], data.next_observations[stop - 1:stop]]),
            "actions": data.actions[start:stop],
            "rewards": data.rewards[start:stop],
            "terminations": data.terminated[start:stop],
            "truncations": data.truncated[start:stop],
        })
    return episodes


def join_episodes(episodes: Sequence[dict[str, np.ndarray]], obs_dtype=np.float32, action_dtype=None) -> Transitions:
    """Minari episodes (observations (T + 1, ...), the rest (T, ...)) as flat transitions, in order."""
    def concat(key, rows, dtype=None):
        return np.concatenate([np.asarray(episode[key])[rows] for episode in episodes]).astype(dtype, copy=False) \
            if dtype is not None else np.concatenate([np.asarray(episode[key])[rows] for episode in episodes])

    everything = slice(None)
    return Transitions(
        observations=concat("observations", slice(None, -1), obs_dtype),
        actions=concat("actions", everything, action_dtype),
        rewards=concat("rewards", everything, np.float32),
        next_observations=concat("observations", slice(1, None), obs_dtype),
        terminated=concat("terminations", everything, bool),
        truncated=concat("truncations", everything, bool),
    )


def flat_observations(observations, space: spaces.Space) -> np.ndarray:
    """One episode's observations as (T + 1, obs_dim) float32: a Box as it is, a Dict of Boxes
    concatenated in the space's key order (what gymnasium.spaces.flatten does)."""
    if isinstance(space, spaces.Box):
        return np.asarray(observations, dtype=np.float32)
    if isinstance(space, spaces.Dict) and all(isinstance(s, spaces.Box) for s in space.spaces.values()):
        parts = [np.asarray(observations[key], dtype=np.float32) for key in space.spaces]
        return np.concatenate([part.reshape(len(part), -1) for part in parts], axis=1)
    raise ValueError(f"observations of {space} are not supported: use a Box or a Dict of Boxes")


def action_layout(space: spaces.Space) -> tuple[tuple[int, ...], type]:
    """(shape, dtype) of one action in a ReplayBuffer: () int64 for Discrete, the Box's shape as float32."""
    if isinstance(space, spaces.Discrete):
        return (), np.int64
    if isinstance(space, spaces.Box):
        return tuple(space.shape), np.float32
    raise ValueError(f"actions of {space} are not supported: use a Discrete or a Box")


# ---------------------------------------------------------------------------------------------
# export and import
# ---------------------------------------------------------------------------------------------


def to_minari(buffer: ReplayBuffer, dataset_id: str, env_id: str, root: str | Path | None = None,
              algorithm_name: str = "", description: str = ""):
    """Write the transitions of `buffer` (in order, as an exploration run took them) as the Minari
    dataset `dataset_id` (HDF5 storage) of environment `env_id`; returns the MinariDataset.

    ValueError when a dataset of that id exists already (Minari never overwrites) or when the
    transitions are not in order.
    """
    minari = require_minari()
    from minari.data_collector import EpisodeBuffer

    n = len(buffer)
    data = Transitions(**{name: getattr(buffer, name)[:n] for name in
                          ("observations", "actions", "rewards", "next_observations", "terminated", "truncated")})
    episodes = [EpisodeBuffer(**episode) for episode in split_episodes(data)]
    with datasets_root(root):
        return minari.create_dataset_from_buffers(
            dataset_id, episodes, env=env_id, algorithm_name=algorithm_name or "unknown",
            author="deeprl-course", author_email="n/a", code_permalink="hw5_exploration_offline/minari_io.py",
            description=description or f"{n} transitions of {env_id}", data_format="hdf5")


def open_minari(dataset_id: str, root: str | Path | None = None):
    """The local Minari dataset `dataset_id` (never downloaded)."""
    minari = require_minari()
    with datasets_root(root):
        return minari.load_dataset(dataset_id, download=False)


def from_minari(dataset) -> ReplayBuffer:
    """A MinariDataset (every episode, in order) as a full ReplayBuffer of flat transitions."""
    shape, action_dtype = action_layout(dataset.action_space)
    episodes = []
    for episode in dataset.iterate_episodes():
        episodes.append({"observations": flat_observations(episode.observations, dataset.observation_space),
                         "actions": episode.actions, "rewards": episode.rewards,
                         "terminations": episode.terminations, "truncations": episode.truncations})
    if not episodes:
        raise ValueError("the Minari dataset holds no episode")
    data = join_episodes(episodes, action_dtype=action_dtype)
    buffer = ReplayBuffer(len(data.rewards), data.observations.shape[1:], shape, action_dtype=action_dtype)
    buffer.add_batch(data)
    return buffer


def env_id_of(dataset) -> str | None:
    """The Gymnasium id of the environment a MinariDataset was collected in, when it says."""
    spec = dataset.spec.env_spec
    return None if spec is None else spec.id


def import_dataset(dataset_id: str, out: str | Path, root: str | Path | None = None) -> Path:
    """The Minari dataset `dataset_id` written as a homework 5 dataset `out` (.npz, with its manifest
    entry, so datasets.load_dataset reads it)."""
    dataset = open_minari(dataset_id, root)
    buffer = from_minari(dataset)
    env_id = env_id_of(dataset) or "unknown"
    command = f"python -m hw5_exploration_offline.minari_io import {dataset_id} {out}" + \
        (f" --root {root}" if root is not None else "")
    method = f"minari:{dataset_id}"
    if env_id in ENV_IDS.values():
        info = describe(buffer, env_id, method, seed=-1, command=command)
    else:  # not a maze: no state coverage to measure
        terminated = buffer.terminated[:len(buffer)]
        info = DatasetInfo(env_id=env_id, method=method, env_steps=len(buffer), seed=-1, state_coverage=-1.0,
                           goal_transitions=int(terminated.sum()),
                           episodes=int((terminated | buffer.truncated[:len(buffer)]).sum()), command=command)
    return save_dataset(buffer, out, info)


def export_dataset(path: str | Path, dataset_id: str, root: str | Path | None = None):
    """A homework 5 dataset (.npz listed in its folder's manifest) written as the Minari dataset `dataset_id`."""
    buffer, info = load_dataset(path)
    return to_minari(buffer, dataset_id, info.env_id, root, algorithm_name=info.method,
                     description=f"homework 5 dataset {Path(path).name}: {info.env_steps} transitions collected "
                                 f"by {info.method} (seed {info.seed}); made by: {info.command}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="a homework 5 .npz dataset -> a Minari dataset")
    export.add_argument("path", type=Path)
    export.add_argument("dataset_id", help="e.g. hw5/pointmass-medium-rnd-v0")
    importing = commands.add_parser("import", help="a Minari dataset -> a homework 5 .npz dataset")
    importing.add_argument("dataset_id")
    importing.add_argument("out", type=Path)
    for command in (export, importing):
        command.add_argument("--root", type=Path, default=None,
                             help="Minari's datasets folder (default: MINARI_DATASETS_PATH, else ~/.minari/datasets)")
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            dataset = export_dataset(args.path, args.dataset_id, args.root)
            print(f"Minari dataset {args.dataset_id}: {dataset.total_episodes} episodes, {dataset.total_steps} steps")
        else:
            path = import_dataset(args.dataset_id, args.out, args.root)
            print(f"dataset: {path}")
    except (ImportError, ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
