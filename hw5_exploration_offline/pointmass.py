"""PointMass mazes: a point that moves through a grid maze, with a sparse reward at one goal cell.

Importing this module registers three ids with Gymnasium (so `common.envs.make_env` builds them):

    hw5/PointMassEasy-v0     one room split by a wall,            50 steps per episode
    hw5/PointMassMedium-v0   a maze of corridors,                100 steps per episode
    hw5/PointMassHard-v0     a larger maze with many dead ends,  100 steps per episode

The maze. A layout is a list of equal-length strings, one per row: '#' is a wall cell, '.' a free
cell, 'S' the start cell and 'G' the goal cell. Positions are continuous: p = (x, y) in cell units,
x along the columns (0 <= x < W) and y along the rows, DOWNWARDS as the layout is written
(0 <= y < H); cell (row, col) covers [col, col + 1) x [row, row + 1). Every episode starts at the
centre of 'S'.

The dynamics. There are four actions, a in {0: right, 1: down, 2: left, 3: up}. An action asks for a
move of STEP_LENGTH cells in its direction plus Gaussian noise of std MOTION_NOISE on both axes:

    (dx, dy) = STEP_LENGTH * direction(a) + eps,    eps ~ N(0, MOTION_NOISE^2 I)

and the move is made in NUM_SUBSTEPS equal sub-steps. In each sub-step the x part and then the y
part are tried separately; a part that would end inside a wall (or outside the grid) is not taken,
so the point stops at walls and slides along them. A sub-step is far shorter than a cell, so the
point can never jump over a wall.

Reward and episode end. A step that ends inside the goal cell has reward 0 and terminates the
episode; every other step has reward -1. So the return is minus the number of steps that did not
reach the goal: -(steps to the goal - 1) when the goal is reached, -horizon when it is not.
Episodes are truncated at the maze's fixed horizon (Gymnasium's TimeLimit).

Observations are the position divided by the grid size, s = (x / W, y / H), float32 in [0, 1]^2, so
every maze gives the networks inputs of the same scale. `Maze.cells(observations)` maps them back
to grid cells (used by the state-coverage metric and the heatmaps).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from common.envs import register_project_env

STEP_LENGTH = 1.0    # cells per step, before noise
MOTION_NOISE = 0.1   # std of the Gaussian noise on each axis of a move, in cells
NUM_SUBSTEPS = 10    # collision checks per step: a sub-step moves about 0.1 cells
ACTION_NAMES = ("right", "down", "left", "up")
DIRECTIONS = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])  # (dx, dy) of each action

LAYOUTS = {
    "Easy": (
        "##########",
        "#S.......#",
        "#........#",
        "#........#",
        "#####....#",
        "#........#",
        "#........#",
        "#G.......#",
        "##########",
    ),
    "Medium": (
        "###############",
        "#S....#.......#",
        "####..#.####..#",
        "#.....#.#.....#",
        "#.#####.#.#####",
        "#.......#.....#",
        "#####.#######.#",
        "#.....#...#...#",
        "#.###.#.#.#.###",
        "#...#...#....G#",
        "###############",
    ),
    "Hard": (
        "#################",
        "#S#.......#.....#",
        "#.#######.#.#.#.#",
        "#.......#...#.#.#",
        "#######.#.###.#.#",
        "#...#...#...#.#.#",
        "#.#.#.#####.#.###",
        "#.#.#..G..#.#...#",
        "#.###.###.#.###.#",
        "#.#.......#...#.#",
        "#.#.###########.#",
        "#...#.......#...#",
        "#.###.#####.#.#.#",
        "#.....#.......#.#",
        "#################",
    ),
}
HORIZONS = {"Easy": 50, "Medium": 100, "Hard": 100}
ENV_IDS = {name: f"hw5/PointMass{name}-v0" for name in LAYOUTS}


@dataclass(frozen=True)
class Maze:
    """A maze layout, parsed: walls (H, W) bool, the start cell and the goal cell as (row, col)."""

    name: str
    layout: tuple[str, ...]

    def __post_init__(self):
        widths = {len(row) for row in self.layout}
        if len(widths) != 1:
            raise ValueError(f"maze {self.name!r}: every row of the layout needs the same length, got {sorted(widths)}")
        text = "".join(self.layout)
        if text.count("S") != 1 or text.count("G") != 1:
            raise ValueError(f"maze {self.name!r}: the layout needs exactly one 'S' and one 'G'")
        if set(text) - set("#.SG"):
            raise ValueError(f"maze {self.name!r}: use only '#', '.', 'S' and 'G', got {sorted(set(text) - set('#.SG'))}")

    @property
    def height(self) -> int:
        return len(self.layout)

    @property
    def width(self) -> int:
        return len(self.layout[0])

    @property
    def walls(self) -> np.ndarray:
        """(H, W) bool: True where the cell is a wall."""
        return np.array([[c == "#" for c in row] for row in self.layout])

    def _find(self, char: str) -> tuple[int, int]:
        for row, line in enumerate(self.layout):
            if char in line:
                return row, line.index(char)
        raise AssertionError("checked in __post_init__")

    @property
    def start_cell(self) -> tuple[int, int]:
        return self._find("S")

    @property
    def goal_cell(self) -> tuple[int, int]:
        return self._find("G")

    @property
    def scale(self) -> np.ndarray:
        """(W, H): divide a position (x, y) by this to get the observation."""
        return np.array([self.width, self.height], dtype=np.float64)

    def cells(self, observations: np.ndarray) -> np.ndarray:
        """Grid cells of observations: (N, 2) in [0, 1] -> (N, 2) int64 (row, col), clipped to the grid."""
        positions = np.asarray(observations, dtype=np.float64).reshape(-1, 2) * self.scale
        cols = np.clip(np.floor(positions[:, 0]), 0, self.width - 1)
        rows = np.clip(np.floor(positions[:, 1]), 0, self.height - 1)
        return np.stack([rows, cols], axis=1).astype(np.int64)


MAZES = {name: Maze(name, layout) for name, layout in LAYOUTS.items()}


def maze_of(env_id: str) -> Maze:
    """The Maze behind a PointMass env id ("hw5/PointMassMedium-v0" -> MAZES["Medium"])."""
    for name, known_id in ENV_IDS.items():
        if env_id == known_id:
            return MAZES[name]
    raise ValueError(f"{env_id!r} is not a PointMass maze: choose one of {', '.join(ENV_IDS.values())}")


class PointMassEnv(gym.Env):
    """A PointMass maze (module docstring): observation (2,) float32 in [0, 1], 4 discrete actions.

    maze: "Easy", "Medium", "Hard" or a Maze. render_mode "rgb_array" returns an (H, W, 3) uint8
    image of the maze with the current episode's path (hw5_exploration_offline.render).
    The horizon is set at registration (TimeLimit), not here: a bare PointMassEnv never truncates.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, maze: str | Maze = "Medium", render_mode: str | None = None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"PointMassEnv renders only 'rgb_array' images, got render_mode={render_mode!r}")
        if isinstance(maze, str):
            if maze not in MAZES:
                raise ValueError(f"unknown maze {maze!r}: choose one of {', '.join(MAZES)}")
            maze = MAZES[maze]
        self.maze = maze
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(len(ACTION_NAMES))
        self._walls = maze.walls
        self._position = self._start_position()
        self._path: list[np.ndarray] = []

    def _start_position(self) -> np.ndarray:
        row, col = self.maze.start_cell
        return np.array([col + 0.5, row + 0.5])

    def _is_free(self, x: float, y: float) -> bool:
        """True when the point (x, y) lies on the grid and outside every wall cell."""
        if not (0.0 <= x < self.maze.width and 0.0 <= y < self.maze.height):
            return False
        return not self._walls[int(y), int(x)]

    def _observation(self) -> np.ndarray:
        # A new array every call: vector envs keep a reference to the final observation.
        return (self._position / self.maze.scale).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._position = self._start_position()
        self._path = [self._position.copy()]
        return self._observation(), {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an integer in 0..{self.action_space.n - 1} "
                             f"({', '.join(ACTION_NAMES)}), got {action!r}")
        move = STEP_LENGTH * DIRECTIONS[int(action)] + self.np_random.normal(0.0, MOTION_NOISE, size=2)
        x, y = self._position
        dx, dy = move / NUM_SUBSTEPS
        for _ in range(NUM_SUBSTEPS):
            if self._is_free(x + dx, y):
                x += dx
            if self._is_free(x, y + dy):
                y += dy
        self._position = np.array([x, y])
        self._path.append(self._position.copy())
        at_goal = (int(y), int(x)) == self.maze.goal_cell
        reward = 0.0 if at_goal else -1.0
        return self._observation(), reward, at_goal, False, {}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        from hw5_exploration_offline.render import trajectory_image

        return trajectory_image(self.maze, np.array(self._path) / self.maze.scale)


for _name in LAYOUTS:
    register_project_env(ENV_IDS[_name], "hw5_exploration_offline.pointmass:PointMassEnv",
                         max_episode_steps=HORIZONS[_name], kwargs={"maze": _name})
