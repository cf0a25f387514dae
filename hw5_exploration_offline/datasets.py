"""Offline datasets: the replay data of an exploration run, saved as `.npz` with a manifest.

A dataset is D = {(s_i, a_i, r_i, s'_i, terminated_i, truncated_i)}: every transition an exploration
run took, in order, written by common.replay_buffer.ReplayBuffer.save (so `ReplayBuffer.load` reads
it back and `.sample(batch_size, rng)` draws training batches). Next to the `.npz` files of a
folder, `manifest.json` describes each one:

    {"pointmass_medium_rnd_20k.npz": {"env_id": "hw5/PointMassMedium-v0", "method": "rnd",
        "env_steps": 20000, "seed": 0, "state_coverage": 0.71, "goal_transitions": 46,
        "episodes": 118, "sha256": "...", "command": "python -m hw5_exploration_offline.make_datasets ..."}}

State coverage is the share of the maze's free cells that the dataset visits (an observation or a
next observation in the cell). It measures how widely the exploring policy spread, not how good it
was at the task.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.replay_buffer import ReplayBuffer
from hw5_exploration_offline.pointmass import Maze, maze_of

MANIFEST = "manifest.json"


@dataclass
class DatasetInfo:
    """One manifest entry: where a dataset came from and what it covers."""

    env_id: str
    method: str                 # how it was collected: "random", "rnd", ...
    env_steps: int              # transitions in the file
    seed: int
    state_coverage: float       # share of the maze's free cells visited (state_coverage)
    goal_transitions: int       # transitions that reached the goal (reward 0, terminated)
    episodes: int               # episodes that ended inside the data (terminated or truncated)
    sha256: str = ""            # of the arrays in the .npz file, filled by save_dataset
    command: str = ""           # the command that makes the file again


def visited_cells(observations: np.ndarray, maze: Maze) -> np.ndarray:
    """(H, W) bool: the free cells of `maze` that some observation (N, 2) in [0, 1] lies in."""
    visited = np.zeros((maze.height, maze.width), dtype=bool)
    cells = maze.cells(observations)
    visited[cells[:, 0], cells[:, 1]] = True
    return visited & ~maze.walls


def state_coverage(observations: np.ndarray, maze: Maze) -> float:
    """Share of the maze's free cells visited by observations (N, 2) in [0, 1]: a number in [0, 1]."""
    return float(visited_cells(observations, maze).sum() / (~maze.walls).sum())


def buffer_coverage(buffer: ReplayBuffer, maze: Maze) -> float:
    """state_coverage of every observation and next observation held by `buffer`."""
    n = len(buffer)
    return state_coverage(np.concatenate([buffer.observations[:n], buffer.next_observations[:n]]), maze)


def describe(buffer: ReplayBuffer, env_id: str, method: str, seed: int, command: str = "") -> DatasetInfo:
    """The manifest entry of a dataset held in `buffer` (sha256 is left for save_dataset)."""
    n = len(buffer)
    return DatasetInfo(
        env_id=env_id, method=method, env_steps=n, seed=seed,
        state_coverage=round(buffer_coverage(buffer, maze_of(env_id)), 4),
        goal_transitions=int(buffer.terminated[:n].sum()),
        episodes=int((buffer.terminated[:n] | buffer.truncated[:n]).sum()),
        command=command,
    )


def save_dataset(buffer: ReplayBuffer, path: str | Path, info: DatasetInfo) -> Path:
    """Write `buffer` to `path` (.npz) and its entry, with the arrays' sha256, to the folder's manifest.json."""
    if len(buffer) < buffer.capacity and buffer.position != len(buffer):
        raise ValueError("the buffer wrapped around: a dataset must hold every transition in order")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    path = buffer.save(path)
    info = dataclasses.replace(info, sha256=_sha256(path))
    manifest = read_manifest(path.parent)
    manifest[path.name] = info
    _write_manifest(path.parent, manifest)
    return path


def load_dataset(path: str | Path) -> tuple[ReplayBuffer, DatasetInfo]:
    """A dataset and its manifest entry; ValueError when the file is not the one the manifest describes."""
    path = Path(path)
    manifest = read_manifest(path.parent)
    if path.name not in manifest:
        raise ValueError(f"{path.name} is not listed in {path.parent / MANIFEST}: save datasets with save_dataset")
    info = manifest[path.name]
    if info.sha256 and info.sha256 != _sha256(path):
        raise ValueError(f"{path} changed since it was written (sha256 differs from {MANIFEST}): make it again "
                         f"with: {info.command or 'the command that made it'}")
    return ReplayBuffer.load(path), info


def read_manifest(folder: str | Path) -> dict[str, DatasetInfo]:
    """The manifest of a dataset folder, {file name: DatasetInfo}; empty when there is none."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        return {}
    entries = json.loads(path.read_text())
    return {name: DatasetInfo(**values) for name, values in entries.items()}


def _write_manifest(folder: Path, manifest: dict[str, DatasetInfo]) -> None:
    entries = {name: dataclasses.asdict(manifest[name]) for name in sorted(manifest)}
    (folder / MANIFEST).write_text(json.dumps(entries, indent=2) + "\n")


def _sha256(path: Path) -> str:
    """sha256 of the arrays in an .npz file (names, dtypes, shapes, bytes); the zip's timestamps do not count."""
    digest = hashlib.sha256()
    with np.load(path, allow_pickle=False) as data:
        for name in sorted(data.files):
            array = np.ascontiguousarray(data[name])
            digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()
