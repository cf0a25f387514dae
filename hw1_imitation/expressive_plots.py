"""Figures of part 3: demonstrations and policy paths on the two-ways task, and actions sampled at the start.

Bare matplotlib Figures (no GUI backend needed); legends sit below the axes, off the paths.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from hw1_imitation.bimodal_task import GOAL, GOAL_RADIUS, OBSTACLE_CENTER, OBSTACLE_RADIUS, Demonstrations

MAX_PATHS = 40


def draw_policy(demonstrations: Demonstrations, rollouts, start_actions: np.ndarray, title: str) -> Figure:
    """Left: the task, the demonstrations (grey) and the policy's paths (green: success, red: collision,
    orange: time-out). Right: the expert's first actions and the policy's actions sampled at (0, 0).

    rollouts: hw1_imitation.run_expressive.Rollouts; start_actions: (M, 2).
    """
    figure = Figure(figsize=(10, 5.4), layout="constrained")
    figure.suptitle(title)
    paths_axes, actions_axes = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)

    paths_axes.add_patch(Circle(tuple(OBSTACLE_CENTER), OBSTACLE_RADIUS, color="0.3", alpha=0.6))
    paths_axes.add_patch(Circle(tuple(GOAL), GOAL_RADIUS, color="tab:blue", alpha=0.25))
    shown = np.linspace(0, len(demonstrations.paths) - 1, min(MAX_PATHS, len(demonstrations.paths))).astype(int)
    for index, path in enumerate(demonstrations.paths[shown]):
        paths_axes.plot(path[:, 0], path[:, 1], color="0.6", lw=0.8, label="demonstrations" if index == 0 else None)
    outcomes = (("success", rollouts.success, "tab:green"), ("collision", rollouts.collision, "tab:red"),
                ("time-out", ~(rollouts.success | rollouts.collision), "tab:orange"))
    for name, mask, color in outcomes:
        for index, path in enumerate(rollouts.paths[mask][:MAX_PATHS]):
            paths_axes.plot(path[:, 0], path[:, 1], color=color, lw=1.2,
                            label=f"policy: {name} ({mask.mean():.0%})" if index == 0 else None)
    _finish(paths_axes, (-2.6, 2.6), (-0.5, 3.6), ("x", "y"), "paths (obstacle grey, goal blue)")

    expert = demonstrations.actions[:len(demonstrations.paths)]   # step 0 of every demonstration comes first
    actions_axes.scatter(expert[:, 0], expert[:, 1], s=10, color="0.5", label="expert's first actions")
    actions_axes.scatter(start_actions[:, 0], start_actions[:, 1], s=6, alpha=0.5, color="tab:purple",
                         label="policy's actions at (0, 0)")
    actions_axes.axhline(0, color="0.85", lw=0.8)
    actions_axes.axvline(0, color="0.85", lw=0.8)
    _finish(actions_axes, (-2, 2), (-1, 2), ("action x", "action y"), "actions at the start")
    return figure


def _finish(axes, xlim, ylim, labels: tuple[str, str], title: str) -> None:
    """Equal-aspect limits, labels, title, and the legend below the axes (off the paths)."""
    axes.set_xlim(*xlim)
    axes.set_ylim(*ylim)
    axes.set_aspect("equal")
    axes.set_xlabel(labels[0])
    axes.set_ylabel(labels[1])
    axes.set_title(title)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, fontsize="small", frameon=False)
