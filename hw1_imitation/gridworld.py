"""A small gridworld with known, deterministic dynamics, the inverse RL experiment's world.

The map is a list of strings, one character per cell:

    .  grass     s  sand     w  water     G  goal     S  the start cell (grass)

Actions: stay, up, down, left, right; a move into the border stays in place. The agent starts on
the start cell and acts for `horizon` steps. One start cell, because conditioning on optimality
also reweights the start: p(s_0 | O) is proportional to p(s_0) beta_0(s_0), the same optimism as in
section 8 of the handout. With one start and deterministic moves, the posterior over trajectories
is exactly what the soft-optimal policy does when it runs, so demonstrations sampled by running
the expert are samples of the model that inverse RL fits. The reward depends on the cell's terrain
only, r(s, a) = reward_of_terrain[terrain(s)], so it is linear in one-hot terrain features:
r(s, a) = psi^T f(s, a) with f(s, a) = onehot(terrain(s)) (`terrain_features`). `state_features`
(one indicator per cell) is the most flexible linear reward, one parameter per state.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hw1_imitation.tabular_mdp import TabularMDP

ACTIONS = ("stay", "up", "down", "left", "right")
MOVES = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))  # (row, column) change of each action
TERRAINS = ("grass", "sand", "water", "goal")
CELL_TERRAIN = {".": "grass", "S": "grass", "s": "sand", "w": "water", "G": "goal"}

# Three ways from the start S to the goal G past a pond: straight through the water (shortest,
# costly), over a sand bank (two steps longer) or around on the grass (four steps longer). The
# soft-optimal expert of DEFAULT_TERRAIN_REWARDS takes all three, mostly the sand, and so visits
# every terrain: each terrain's reward can be recovered from its demonstrations.
DEFAULT_LAYOUT = (
    ".......",
    "..sss..",
    "S.www.G",
    "..sss..",
    ".......",
)
DEFAULT_TERRAIN_REWARDS = {"grass": -0.5, "sand": -1.0, "water": -3.5, "goal": 3.0}
DEFAULT_HORIZON = 14


@dataclass(frozen=True)
class Gridworld:
    """A gridworld map and its MDP. Cell (row, col) is state row * width + col."""

    layout: tuple[str, ...]
    mdp: TabularMDP
    terrain: np.ndarray  # (S,) int: index into TERRAINS of every cell

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.layout), len(self.layout[0])

    def terrain_features(self) -> np.ndarray:
        """f(s, a) = onehot(terrain(s)): (S, A, K) with K = len(TERRAINS)."""
        onehot = np.eye(len(TERRAINS))[self.terrain]
        return np.repeat(onehot[:, None, :], self.mdp.num_actions, axis=1)

    def state_features(self) -> np.ndarray:
        """f(s, a) = onehot(s): (S, A, S), a reward parameter per cell."""
        return np.repeat(np.eye(self.mdp.num_states)[:, None, :], self.mdp.num_actions, axis=1)

    def features(self, kind: str) -> np.ndarray:
        """`terrain_features()` for "terrain", `state_features()` for "state"."""
        if kind == "terrain":
            return self.terrain_features()
        if kind == "state":
            return self.state_features()
        raise ValueError(f"features must be 'terrain' or 'state', got {kind!r}")

    def rewards(self, terrain_rewards: Mapping[str, float]) -> np.ndarray:
        """r(s, a) = terrain_rewards[terrain(s)] for every action: (S, A)."""
        missing = set(TERRAINS) - set(terrain_rewards)
        if missing:
            raise ValueError(f"terrain_rewards needs a reward for every terrain {TERRAINS}; missing {sorted(missing)}")
        psi = np.array([terrain_rewards[name] for name in TERRAINS], dtype=np.float64)
        return self.terrain_features() @ psi

    def as_grid(self, per_state: np.ndarray) -> np.ndarray:
        """A per-state array (S,) laid out as the map, (rows, columns)."""
        return np.asarray(per_state).reshape(self.shape)


def make_gridworld(layout: Sequence[str] = DEFAULT_LAYOUT, horizon: int = DEFAULT_HORIZON) -> Gridworld:
    """The Gridworld of `layout` (rows of equal length, one 'S'), acting for `horizon` steps."""
    layout = tuple(layout)
    if not layout or len({len(row) for row in layout}) != 1:
        raise ValueError("layout must be a non-empty list of rows of equal length")
    unknown = {cell for row in layout for cell in row} - set(CELL_TERRAIN)
    if unknown:
        raise ValueError(f"unknown cells {sorted(unknown)} in layout; use {sorted(CELL_TERRAIN)}")
    rows, columns = len(layout), len(layout[0])
    num_states = rows * columns
    cells = "".join(layout)
    starts = np.array([cell == "S" for cell in cells], dtype=np.float64)
    if starts.sum() != 1:
        raise ValueError(f"layout needs exactly one start cell 'S', found {int(starts.sum())}")
    transitions = np.zeros((num_states, len(ACTIONS), num_states))
    for state in range(num_states):
        row, column = divmod(state, columns)
        for action, (d_row, d_column) in enumerate(MOVES):
            next_row = min(max(row + d_row, 0), rows - 1)
            next_column = min(max(column + d_column, 0), columns - 1)
            transitions[state, action, next_row * columns + next_column] = 1.0
    terrain = np.array([TERRAINS.index(CELL_TERRAIN[cell]) for cell in cells])
    mdp = TabularMDP(transitions, starts / starts.sum(), horizon, action_names=ACTIONS)
    return Gridworld(layout, mdp, terrain)
