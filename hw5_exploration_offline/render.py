"""Pictures of the PointMass mazes: visitation heatmaps and trajectories (matplotlib, no display needed).

    draw_maze(ax, maze)                         walls in grey, start (circle) and goal (star)
    draw_visitation(ax, maze, observations)     how often each region was visited (log colour scale)
    draw_trajectories(ax, maze, paths)          episodes as lines
    save_heatmaps(panels, out)                  one heatmap per (title, maze, observations), side by side
    trajectory_image(maze, path)                an (H, W, 3) uint8 image (PointMassEnv.render)

Everything takes observations as the env gives them, (N, 2) in [0, 1]; the axes are in cells, with
y growing downwards as the layout is written.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hw5_exploration_offline.pointmass import Maze


def draw_maze(ax, maze: Maze) -> None:
    """Walls, start and goal of `maze` on matplotlib axes `ax` (x right, y down, in cells)."""
    walls = np.where(maze.walls, 1.0, np.nan)  # NaN cells stay transparent over a heatmap
    ax.imshow(walls, cmap="Greys", vmin=0.0, vmax=1.6, extent=(0, maze.width, maze.height, 0),
              interpolation="nearest", zorder=2)
    (start_row, start_col), (goal_row, goal_col) = maze.start_cell, maze.goal_cell
    ax.plot(start_col + 0.5, start_row + 0.5, "o", color="tab:blue", markersize=7, zorder=4)
    ax.plot(goal_col + 0.5, goal_row + 0.5, "*", color="tab:green", markersize=13, zorder=4)
    ax.set_xlim(0, maze.width)
    ax.set_ylim(maze.height, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_visitation(ax, maze: Maze, observations: np.ndarray, bins_per_cell: int = 4):
    """A heatmap of visit counts over (bins_per_cell x bins_per_cell) squares of every cell, then the maze.

    observations: (N, 2) in [0, 1]. Colours are log(1 + count); unvisited squares stay white.
    Returns the image (for a colour bar).
    """
    positions = np.asarray(observations, dtype=np.float64).reshape(-1, 2) * maze.scale
    counts, _, _ = np.histogram2d(positions[:, 1], positions[:, 0],
                                  bins=(maze.height * bins_per_cell, maze.width * bins_per_cell),
                                  range=((0, maze.height), (0, maze.width)))
    shown = np.where(counts > 0, np.log1p(counts), np.nan)
    image = ax.imshow(shown, cmap="viridis", extent=(0, maze.width, maze.height, 0),
                      interpolation="nearest", zorder=1)
    draw_maze(ax, maze)
    return image


def draw_trajectories(ax, maze: Maze, paths: Sequence[np.ndarray], alpha: float = 0.7) -> None:
    """Each path, (T, 2) observations in [0, 1], as a line over the maze."""
    draw_maze(ax, maze)
    for path in paths:
        points = np.asarray(path, dtype=np.float64).reshape(-1, 2) * maze.scale
        ax.plot(points[:, 0], points[:, 1], "-", linewidth=1.2, alpha=alpha, zorder=3)


def save_heatmaps(panels: Sequence[tuple[str, Maze, np.ndarray]], out: str | Path, columns: int | None = None) -> Path:
    """One visitation heatmap per (title, maze, observations (N, 2)), in a grid; saved as a PNG to `out`."""
    from matplotlib.figure import Figure

    columns = columns or len(panels)
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(3.4 * columns, 3.2 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax, (title, maze, observations) in zip(axes, panels):
        draw_visitation(ax, maze, observations)
        ax.set_title(title, fontsize=9)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    return out


def trajectory_image(maze: Maze, path: np.ndarray, pixels_per_cell: int = 24) -> np.ndarray:
    """The maze with one path, (T, 2) observations in [0, 1], drawn on it: an (H, W, 3) uint8 image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    figure = Figure(figsize=(maze.width * pixels_per_cell / dpi, maze.height * pixels_per_cell / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    draw_trajectories(figure.add_axes((0, 0, 1, 1)), maze, [path], alpha=1.0)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
