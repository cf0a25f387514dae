"""The environments of homework 4: a 2D obstacles course, and HalfCheetah made plannable.

Importing this module registers two ids with Gymnasium (so `common.envs.make_env` builds them):

    hw4/Obstacles-v0     the course's own navigation task (below), 100 steps at most
    hw4/HalfCheetah-v5   HalfCheetah-v5 with 500-step episodes and one extra observation entry

Reacher-v5 is used as Gymnasium ships it.

Obstacles. A point robot lives in the unit square [0, 1]^2. The observation is its position
s = (x, y); an action a in [-1, 1]^2 moves it by STEP_SIZE * a, and the position is clipped to the
square. A move whose end point lies inside one of the rectangular OBSTACLES is blocked: the robot
stays where it was. The reward of a step is minus the distance from where it ends to the goal,

    r(s_t, a_t, s_{t+1}) = -|| s_{t+1} - GOAL ||,

and the episode terminates once that distance is below GOAL_RADIUS. Episodes start near START and
are truncated after 100 steps. The robot has to go around the obstacles: a straight line from the
start to the goal crosses two of them. Random actions score about -100; planning with the true
dynamics reaches the goal in about 25 steps (return about -14).

HalfCheetah. Gymnasium's HalfCheetah rewards the forward velocity averaged over the step,
(x_{t+1} - x_t) / dt, but its observation leaves out the x position, so that number cannot be
computed from observations. The wrapper appends it: entry 17 of the observation after a step is
the forward velocity of that step (info["x_velocity"]), 0 right after a reset. The reward of a
step is then an exact function of the step's next observation and its action (hw4_model_based.rewards).
"""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from common.envs import register_project_env

OBSTACLES_ID = "hw4/Obstacles-v0"
HALFCHEETAH_ID = "hw4/HalfCheetah-v5"
REACHER_ID = "Reacher-v5"

# The obstacles course. Rectangles are (x_min, y_min, x_max, y_max).
START = np.array([0.1, 0.1])
START_NOISE = 0.02            # the start is START + uniform(-START_NOISE, START_NOISE) per coordinate
GOAL = np.array([0.9, 0.9])
GOAL_RADIUS = 0.05
STEP_SIZE = 0.05
OBSTACLES = np.array([
    [0.30, 0.00, 0.45, 0.60],   # a wall up from the bottom edge, across the straight line
    [0.55, 0.55, 0.75, 0.75],   # a block on the straight line behind it
    [0.70, 0.15, 0.85, 0.35],   # a block off the way
])
OBSTACLES_MAX_STEPS = 100
HALFCHEETAH_MAX_STEPS = 500


def inside_obstacle(positions: np.ndarray) -> np.ndarray:
    """(..., 2) positions -> (...,) bool: True where a position lies inside (or on) an obstacle."""
    x, y = positions[..., 0:1], positions[..., 1:2]
    lo_x, lo_y, hi_x, hi_y = OBSTACLES.T
    return np.any((x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y), axis=-1)


class ObstaclesEnv(gym.Env):
    """The 2D obstacles course (module docstring): observation (2,) position, action (2,) in [-1, 1].

    render_mode "rgb_array" draws the course and the path of the current episode with matplotlib
    and returns an (H, W, 3) uint8 image.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, render_mode: str | None = None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"ObstaclesEnv renders only 'rgb_array' images, got render_mode={render_mode!r}")
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._position = START.copy()
        self._path: list[np.ndarray] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._position = START + self.np_random.uniform(-START_NOISE, START_NOISE, size=2)
        self._path = [self._position.copy()]
        return self._position.astype(np.float32), {}

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        target = np.clip(self._position + STEP_SIZE * action, 0.0, 1.0)
        blocked = bool(inside_obstacle(target))
        if not blocked:
            self._position = target
        self._path.append(self._position.copy())
        distance = float(np.linalg.norm(self._position - GOAL))
        terminated = distance < GOAL_RADIUS
        # A new array every step: vector envs keep a reference to the final observation.
        return self._position.astype(np.float32), -distance, terminated, False, {"blocked": blocked}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return path_image(np.array(self._path))


def plot_course(ax, path: np.ndarray | None = None, label: str | None = None, color: str = "tab:blue") -> None:
    """Draw the obstacles, the start and the goal on matplotlib axes `ax`, and `path` (T, 2) if given."""
    from matplotlib.patches import Circle, Rectangle

    for x0, y0, x1, y1 in OBSTACLES:
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, color="0.4"))
    ax.add_patch(Circle(tuple(GOAL), GOAL_RADIUS, color="tab:green", alpha=0.6))
    ax.plot(*START, "ko", markersize=4)
    if path is not None:
        ax.plot(path[:, 0], path[:, 1], "-", color=color, linewidth=1.5, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def path_image(path: np.ndarray, size_inches: float = 3.0, dpi: int = 100) -> np.ndarray:
    """The course with `path` (T, 2) drawn on it, as an (H, W, 3) uint8 image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(size_inches, size_inches), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    plot_course(figure.add_axes((0, 0, 1, 1)), path)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class StepVelocityObservation(gym.Wrapper):
    """Append the forward velocity of the last step, info["x_velocity"], to the observation (0 after reset)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        low, high = env.observation_space.low, env.observation_space.high
        self.observation_space = spaces.Box(np.append(low, -np.inf), np.append(high, np.inf), dtype=np.float64)

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        return np.append(observation, 0.0), info

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        return np.append(observation, info["x_velocity"]), reward, terminated, truncated, info


def make_halfcheetah(**kwargs: Any) -> gym.Env:
    """HalfCheetah-v5 (constructor kwargs passed on) with the step's forward velocity observed."""
    from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv

    return StepVelocityObservation(HalfCheetahEnv(**kwargs))


register_project_env(OBSTACLES_ID, ObstaclesEnv, max_episode_steps=OBSTACLES_MAX_STEPS)
register_project_env(HALFCHEETAH_ID, make_halfcheetah, max_episode_steps=HALFCHEETAH_MAX_STEPS)
