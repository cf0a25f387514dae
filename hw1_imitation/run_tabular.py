"""The tabular control-as-inference experiments: `python -m hw1_imitation.run_tabular --config CONFIG`.

    python -m hw1_imitation.run_tabular --config hw1_imitation/configs/maxent_irl.yaml
    python -m hw1_imitation.run_tabular --config hw1_imitation/configs/lottery.yaml
    python -m hw1_imitation.run_tabular --config hw1_imitation/configs/maxent_irl.yaml --set seed=1 irl.features=state

maxent_irl: the expert is soft-optimal for the gridworld's true reward; MaxEnt IRL fits a linear
reward to its demonstrations, then compares the recovered reward's soft-optimal visitation with the
expert's (total variation) and the recovered reward with the true one (correlation over states).
lottery: both backups on the lottery MDP, checked against brute force, then swept over the chance
of winning.

Both write runs/hw1/<exp_name>_<world>_<seed>_<stamp>/ (config.yaml, metrics.csv, result.json,
PNG figures); `--set figures_dir=DIR` also copies the handout's figure there. Seconds of CPU.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from common.config import parse_config
from common.logger import Logger
from hw1_imitation.demonstrations import Demonstrations, sample_demonstrations
from hw1_imitation.forward_messages import forward_messages, state_action_visitation, state_visitation
from hw1_imitation.gridworld import DEFAULT_HORIZON, DEFAULT_LAYOUT, Gridworld, make_gridworld
from hw1_imitation.lottery_mdp import lottery_rewards
from hw1_imitation.maxent_irl import IRLStep, maxent_irl, reward_correlation, total_variation
from hw1_imitation.optimism import brute_force_check, solve_lottery
from hw1_imitation.soft_value_iteration import backward_messages, soft_optimal_policy

RESULT_FILE = "result.json"


@dataclass
class TerrainRewards:
    """The gridworld's true reward per terrain (the expert's; IRL never sees it)."""

    grass: float = -0.5
    sand: float = -1.0
    water: float = -3.5
    goal: float = 3.0


@dataclass
class IRLConfig:
    layout: tuple[str, ...] = DEFAULT_LAYOUT
    horizon: int = DEFAULT_HORIZON
    true_rewards: TerrainRewards = field(default_factory=TerrainRewards)
    features: Literal["terrain", "state"] = "terrain"   # one-hot terrain (4 parameters) or one-hot cell (S)
    num_demonstrations: int = 200
    iterations: int = 300
    learning_rate: float = 0.1
    log_every: int = 5


@dataclass
class LotteryConfig:
    win_probability: float = 0.05
    safe_reward: float = 1.0
    jackpot_reward: float = 10.0
    bust_reward: float = -1.0
    sweep_from: float = 0.001       # the sweep's win probabilities: log-spaced from..to
    sweep_to: float = 0.5
    sweep_points: int = 25


@dataclass
class TabularConfig:
    exp_name: str = "maxent_irl"
    experiment: Literal["maxent_irl", "lottery"] = "maxent_irl"
    seed: int = 0
    log_root: str = "runs"
    figures_dir: str | None = None  # also copy the handout's figure here (e.g. hw1_imitation/figures)
    irl: IRLConfig = field(default_factory=IRLConfig)
    lottery: LotteryConfig = field(default_factory=LotteryConfig)


# ---------------------------------------------------------------------------------------------
# MaxEnt IRL on the gridworld
# ---------------------------------------------------------------------------------------------


def soft_optimal_visitation(grid: Gridworld, rewards: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The soft-optimal policy of `rewards` (T, S, A) and its time-averaged state visitation (S,)."""
    mdp = grid.mdp
    q_values, values = backward_messages(rewards, mdp.transitions, mdp.horizon, backup="exact")
    alpha = forward_messages(rewards, mdp.transitions, mdp.initial_distribution, mdp.horizon)
    return soft_optimal_policy(q_values, values), state_visitation(state_action_visitation(alpha, q_values))


def empirical_visitation(demonstrations: Demonstrations, num_states: int) -> np.ndarray:
    """The demonstrations' time-averaged state visitation (S,)."""
    return np.bincount(demonstrations.states.ravel(), minlength=num_states) / demonstrations.states.size


def run_maxent_irl(config: TabularConfig, logger: Logger) -> tuple[dict, list[Path]]:
    """Fit the reward, log the learning curve, draw the maps; returns the summary and the handout's figure."""
    settings = config.irl
    grid = make_gridworld(settings.layout, settings.horizon)
    true_rewards = grid.rewards(asdict(settings.true_rewards))
    expert_policy, expert_visitation = soft_optimal_visitation(grid, true_rewards)
    demonstrations = sample_demonstrations(grid.mdp, expert_policy, settings.num_demonstrations,
                                           np.random.default_rng(config.seed))
    features = grid.features(settings.features)

    def log_step(step: IRLStep) -> None:
        last = step.iteration == settings.iterations - 1
        if step.iteration % settings.log_every == 0 or last:
            logger.log({
                "iteration": step.iteration,
                "log_likelihood": step.log_likelihood,
                "gradient_norm": float(np.linalg.norm(step.gradient)),
                "visitation_tv": total_variation(state_visitation(step.visitation), expert_visitation),
                "reward_correlation": reward_correlation((features @ step.psi)[:, 0], true_rewards[:, 0]),
            })

    psi = maxent_irl(grid.mdp, features, demonstrations, settings.iterations, settings.learning_rate, log_step)
    recovered_rewards = features @ psi
    _, recovered_visitation = soft_optimal_visitation(grid, recovered_rewards)
    true_per_state, recovered_per_state = true_rewards[:, 0], recovered_rewards[:, 0]
    summary = {
        "visitation_tv": total_variation(recovered_visitation, expert_visitation),
        "reward_correlation": reward_correlation(recovered_per_state, true_per_state),
        "demonstrations_tv": total_variation(empirical_visitation(demonstrations, grid.mdp.num_states), expert_visitation),
        "psi": psi.tolist(),
    }
    from hw1_imitation.tabular_plots import draw_gridworld_maps  # matplotlib only once the numbers exist

    shifted = recovered_per_state - recovered_per_state.mean() + true_per_state.mean()  # the shift IRL cannot know
    figure = draw_gridworld_maps(grid, [
        ("true reward", true_per_state, False),
        ("recovered reward (shifted to the true mean)", shifted, False),
        ("expert visitation (sqrt colors)", expert_visitation, True),
        ("recovered reward's visitation (sqrt colors)", recovered_visitation, True),
    ], title=f"MaxEnt IRL, {settings.features} features: TV {summary['visitation_tv']:.3f}, "
             f"reward correlation {summary['reward_correlation']:.3f}")
    maps = logger.run_dir / f"{config.exp_name}_maps.png"
    figure.savefig(maps, dpi=110)
    from common.plotting import plot_runs

    plot_runs([logger.run_dir], x="iteration", y="visitation_tv", out=logger.run_dir / f"{config.exp_name}_tv.png",
              title="total variation between the fitted reward's visitation and the expert's")
    print(f"visitation TV {summary['visitation_tv']:.4f} (target <= 0.05; the demonstrations' own: "
          f"{summary['demonstrations_tv']:.4f}), reward correlation {summary['reward_correlation']:.4f} (target >= 0.9)")
    return summary, [maps]


# ---------------------------------------------------------------------------------------------
# The lottery
# ---------------------------------------------------------------------------------------------


def run_lottery(config: TabularConfig, logger: Logger) -> tuple[dict, list[Path]]:
    """Both backups at the configured chance of winning (checked by brute force), then the sweep."""
    settings = config.lottery
    rewards = lottery_rewards(settings.safe_reward, settings.jackpot_reward, settings.bust_reward)
    exact, _ = solve_lottery(settings.win_probability, rewards, "exact")
    variational, _ = solve_lottery(settings.win_probability, rewards, "variational")
    check = brute_force_check(settings.win_probability, rewards)
    sweep = np.geomspace(settings.sweep_from, settings.sweep_to, settings.sweep_points)
    curves = {"exact": [], "variational": []}
    for win_probability in sweep:
        row = {"win_probability": float(win_probability)}
        for backup, curve in curves.items():
            outcome, _ = solve_lottery(float(win_probability), rewards, backup)
            curve.append(outcome.lottery_probability)
            row.update(outcome.as_row(backup))
        logger.log(row)
    # E[ticket] = p * jackpot + (1 - p) * bust equals the safe reward at:
    break_even = (settings.safe_reward - settings.bust_reward) / (settings.jackpot_reward - settings.bust_reward)
    from hw1_imitation.tabular_plots import draw_lottery_sweep

    figure = draw_lottery_sweep(sweep, [("exact inference: Q = r + log E[exp V']", np.array(curves["exact"])),
                                        ("variational: Q = r + E[V']", np.array(curves["variational"]))], break_even)
    sweep_figure = logger.run_dir / f"{config.exp_name}.png"
    figure.savefig(sweep_figure, dpi=110)
    summary = {
        "exact": asdict(exact),
        "variational": asdict(variational),
        "brute_force": {**asdict(check), "largest_error": check.largest_error},
        "exact_takes_lottery": exact.lottery_probability > 0.5,
        "variational_takes_lottery": variational.lottery_probability > 0.5,
    }
    for outcome in (exact, variational):
        print(f"{outcome.backup:>11}: Q(start, work) {outcome.q_work:.3f}, Q(start, lottery) {outcome.q_lottery:.3f}, "
              f"buys the ticket with probability {outcome.lottery_probability:.3f}; in the real dynamics "
              f"expected return {outcome.expected_return:.3f}, E[return + entropy] {outcome.soft_objective:.3f}")
    print(f"brute force: log Z {check.log_partition:.6f} vs exact V {check.exact_value:.6f}; best E[return + entropy] "
          f"over {len(np.linspace(0, 1, 2001))} policies {check.best_soft_objective:.6f} (at p = {check.best_lottery_probability:.4f}) "
          f"vs variational V {check.variational_value:.6f}")
    return summary, [sweep_figure]


# ---------------------------------------------------------------------------------------------


EXPERIMENTS = {"maxent_irl": (run_maxent_irl, "gridworld"), "lottery": (run_lottery, "lottery")}


def run(config: TabularConfig) -> tuple[dict, Path]:
    """Run `config.experiment` in a new run directory; returns its summary and the directory.

    The handout's figure of the experiment (the maps, the lottery sweep) is copied to
    `config.figures_dir` when it is set; the run directory keeps every figure.
    """
    experiment, world = EXPERIMENTS[config.experiment]
    with Logger("hw1", config.exp_name, world, config.seed, config, root=config.log_root, tensorboard=False) as logger:
        summary, handout_figures = experiment(config, logger)
    (logger.run_dir / RESULT_FILE).write_text(json.dumps(summary, indent=2))
    if config.figures_dir is not None:
        Path(config.figures_dir).mkdir(parents=True, exist_ok=True)
        for png in handout_figures:
            shutil.copy(png, Path(config.figures_dir) / png.name)
    print(f"metrics: {logger.metrics_path}")
    print(f"summary: {logger.run_dir / RESULT_FILE}")
    print(f"figures: {', '.join(str(p) for p in sorted(logger.run_dir.glob('*.png')))}")
    return summary, logger.run_dir


def main(argv=None) -> None:
    run(parse_config(TabularConfig, argv, description=__doc__.splitlines()[0]))


if __name__ == "__main__":
    main()
