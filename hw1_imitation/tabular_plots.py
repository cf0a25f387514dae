"""Figures of the tabular experiments: gridworld maps (rewards, visitation) and the lottery sweep.

Bare matplotlib Figures (no GUI backend needed); legends sit below the axes, off the curves.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure

from hw1_imitation.gridworld import Gridworld


def draw_gridworld_maps(grid: Gridworld, maps: Sequence[tuple[str, np.ndarray, bool]], title: str) -> Figure:
    """One heatmap per (title, per-state values (S,), square-root colors) triple, side by side.

    Each cell is marked with its map letter. Square-root colors suit visitation maps, where the goal
    takes most of the mass and the routes to it would otherwise all look alike.
    """
    rows, columns = grid.shape
    figure = Figure(figsize=(3.4 * len(maps), 3.2 * rows / columns + 1.2), layout="constrained")
    figure.suptitle(title)
    for index, (name, values, square_root) in enumerate(maps, start=1):
        axes = figure.add_subplot(1, len(maps), index)
        norm = PowerNorm(0.5, vmin=0.0) if square_root else None
        image = axes.imshow(grid.as_grid(values), cmap="viridis", norm=norm)
        for row in range(rows):
            for column in range(columns):
                axes.text(column, row, grid.layout[row][column], ha="center", va="center", color="white", fontsize=8)
        axes.set_title(name, fontsize=10)
        axes.set_xticks([])
        axes.set_yticks([])
        figure.colorbar(image, ax=axes, orientation="horizontal", fraction=0.08, pad=0.04)
    return figure


def draw_lottery_sweep(
    win_probabilities: np.ndarray, lottery_probabilities: Sequence[tuple[str, np.ndarray]], break_even: float
) -> Figure:
    """pi_0(lottery | start) against the chance of winning, one line per backup.

    break_even: the win probability at which the ticket's expected reward equals working's (a
    vertical line): to its left the ticket is a bad bet on average.
    """
    figure = Figure(figsize=(7, 4.8), layout="constrained")
    axes = figure.add_subplot()
    for label, probabilities in lottery_probabilities:
        axes.plot(win_probabilities, probabilities, marker="o", markersize=3, label=label)
    axes.axvline(break_even, color="gray", linestyle="--", label="ticket worth as much as work on average")
    axes.set_xscale("log")
    axes.set_xlabel("probability that the ticket wins")
    axes.set_ylabel("probability of buying the ticket at the start")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title("The optimism problem: who buys the lottery ticket?")
    axes.grid(alpha=0.3)
    figure.legend(loc="outside lower center", ncols=1, fontsize="small", frameon=False)
    return figure
