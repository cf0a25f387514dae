"""Specification of common.plotting: grouping by experiment, mean/std over seeds, one-line errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common.logger import Logger
from common.plotting import PlotError, aggregate_runs, draw_curves, experiment_name, main, plot_runs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPO_ROOT = Path(__file__).resolve().parents[2]


def write_run(root: Path, exp: str, seed: int, rows: list[dict], env_id: str = "CartPole-v1") -> Path:
    with Logger("hw2", exp, env_id, seed, root=root, tensorboard=False) as logger:
        for row in rows:
            logger.log(row)
    return logger.run_dir


def linear_run(root, exp, seed, slope, steps=(1000, 2000, 3000, 4000)):
    return write_run(root, exp, seed, [{"env_steps": s, "eval_return": slope * s} for s in steps])


@pytest.fixture
def two_experiments(tmp_path):
    """Experiments 'fast' and 'slow', two seeds each, logged at the same steps."""
    linear_run(tmp_path, "fast", 0, slope=0.02)
    linear_run(tmp_path, "fast", 1, slope=0.04)
    linear_run(tmp_path, "slow", 0, slope=0.001)
    linear_run(tmp_path, "slow", 1, slope=0.003)
    return tmp_path


def test_experiment_name_drops_seed_and_stamp():
    assert experiment_name("runs/hw2/pg_rtg_CartPole-v1_3_20261122-014500") == "pg_rtg_CartPole-v1"
    assert experiment_name("pg_rtg_CartPole-v1_3_20261122-014500-2") == "pg_rtg_CartPole-v1"
    assert experiment_name("some_other_dir") == "some_other_dir"


def test_two_experiments_two_seeds_give_two_curves_with_mean_and_std(two_experiments):
    curves = aggregate_runs([two_experiments], x="env_steps", y="eval_return")
    by_label = {curve.label: curve for curve in curves}
    assert set(by_label) == {"fast_CartPole-v1", "slow_CartPole-v1"}
    fast = by_label["fast_CartPole-v1"]
    assert fast.num_runs == 2
    np.testing.assert_allclose(fast.x, [1000, 2000, 3000, 4000])
    # seeds: 20, 40, 60, 80 and 40, 80, 120, 160 -> mean 30, 60, 90, 120; population std 10, 20, 30, 40
    np.testing.assert_allclose(fast.mean, [30, 60, 90, 120])
    np.testing.assert_allclose(fast.std, [10, 20, 30, 40])


def test_seeds_logged_at_different_steps_are_interpolated_onto_their_common_range(tmp_path):
    linear_run(tmp_path, "exp", 0, slope=1.0, steps=(0, 1000, 2000, 3000))
    linear_run(tmp_path, "exp", 1, slope=1.0, steps=(500, 1500, 2500, 3500))
    (curve,) = aggregate_runs([tmp_path], x="env_steps", y="eval_return")
    assert curve.x[0] == 500 and curve.x[-1] == 3000  # only where both seeds have data
    np.testing.assert_allclose(curve.mean, curve.x)  # both seeds are y = x
    np.testing.assert_allclose(curve.std, 0, atol=1e-9)


def test_rows_without_the_y_metric_are_skipped(tmp_path):
    # eval_return is logged every other row; the empty cells must not become zeros.
    write_run(
        tmp_path,
        "exp",
        0,
        [
            {"env_steps": 1, "train_return": 1.0, "eval_return": 10.0},
            {"env_steps": 2, "train_return": 2.0},
            {"env_steps": 3, "train_return": 3.0, "eval_return": 30.0},
        ],
    )
    (curve,) = aggregate_runs([tmp_path], x="env_steps", y="eval_return")
    np.testing.assert_allclose(curve.x, [1, 3])
    np.testing.assert_allclose(curve.mean, [10, 30])


def test_a_value_logged_as_nan_leaves_a_gap_instead_of_an_interpolated_value(tmp_path):
    # Seed 0 diverged at step 3000. Skipping that row like an empty cell would interpolate
    # 30.0 there (std 0), a healthy-looking curve; the mean over seeds is undefined instead.
    write_run(tmp_path, "exp", 0, [{"env_steps": s, "eval_return": np.nan if s == 3000 else s / 100}
                                   for s in (1000, 2000, 3000, 4000)])
    linear_run(tmp_path, "exp", 1, slope=0.01)
    (curve,) = aggregate_runs([tmp_path], x="env_steps", y="eval_return")
    np.testing.assert_allclose(curve.x, [1000, 2000, 3000, 4000])
    np.testing.assert_allclose(curve.mean, [10, 20, np.nan, 40])
    np.testing.assert_allclose(curve.std, [0, 0, np.nan, 0])
    (line,) = draw_curves([curve], "env_steps", "eval_return").axes[0].get_lines()
    assert np.isnan(line.get_ydata()[2])  # matplotlib leaves a gap at a NaN point


def test_figure_has_one_line_and_legend_entry_per_experiment(two_experiments):
    curves = aggregate_runs([two_experiments], x="env_steps", y="eval_return")
    figure = draw_curves(curves, "env_steps", "eval_return")
    axes = figure.axes[0]
    assert len(axes.get_lines()) == 2
    assert [t.get_text() for t in legend_of(figure).get_texts()] == [
        "fast_CartPole-v1 (2 seeds)",
        "slow_CartPole-v1 (2 seeds)",
    ]
    assert axes.get_xlabel() == "env steps" and axes.get_ylabel() == "eval return"


def legend_of(figure):
    """The figure's one legend, wherever draw_curves put it (on the figure or on the axes)."""
    legends = list(figure.legends) + [axes.get_legend() for axes in figure.axes if axes.get_legend()]
    assert len(legends) == 1, f"expected one legend, found {len(legends)}"
    return legends[0]


@pytest.mark.parametrize("num_experiments", [1, 2, 8])
def test_legend_stays_off_the_axes_and_inside_the_figure(tmp_path, num_experiments):
    # Long labels and curves that fill the whole plotting area: a legend anywhere inside the axes
    # (matplotlib's loc="best" included) would cover part of a curve or its band.
    for i in range(num_experiments):
        for seed in (0, 1):
            write_run(tmp_path, f"cartpole_b1000_rtg_norm_variant{i}", seed,
                      [{"env_steps": s, "eval_return": (i + seed) * s % 500} for s in range(0, 100_000, 5000)])
    curves = aggregate_runs([tmp_path], x="env_steps", y="eval_return")
    figure = draw_curves(curves, "env_steps", "eval_return", title="many curves")
    figure.draw_without_rendering()  # lays the figure out (constrained layout) without a GUI
    renderer = figure._get_renderer()
    legend_box = legend_of(figure).get_window_extent(renderer)
    axes = figure.axes[0]
    plot_area = axes.get_window_extent(renderer)
    assert not legend_box.overlaps(plot_area), f"legend {legend_box} overlaps the plotting area {plot_area}"
    for label in (axes.xaxis.label, *axes.get_xticklabels()):
        if label.get_text():
            assert not legend_box.overlaps(label.get_window_extent(renderer)), f"legend covers {label.get_text()!r}"
    figure_box = figure.bbox
    assert (legend_box.x0 >= figure_box.x0 and legend_box.x1 <= figure_box.x1
            and legend_box.y0 >= figure_box.y0 and legend_box.y1 <= figure_box.y1), "legend cut off by the figure edge"
    assert len(legend_of(figure).get_texts()) == num_experiments


def test_legend_counts_runs_too_when_a_seed_was_run_again(tmp_path):
    linear_run(tmp_path, "exp", 0, slope=0.01)
    linear_run(tmp_path, "exp", 0, slope=0.02)  # seed 0 again, e.g. after a bug fix
    linear_run(tmp_path, "exp", 1, slope=0.03)
    (curve,) = aggregate_runs([tmp_path], x="env_steps", y="eval_return")
    assert (curve.num_runs, curve.num_seeds) == (3, 2)
    legend = legend_of(draw_curves([curve], "env_steps", "eval_return"))
    assert [t.get_text() for t in legend.get_texts()] == ["exp_CartPole-v1 (2 seeds, 3 runs)"]


def test_plot_runs_writes_a_png(two_experiments, tmp_path):
    out = plot_runs([two_experiments], x="env_steps", y="eval_return", out=tmp_path / "figs" / "curve.png", title="T")
    assert out == tmp_path / "figs" / "curve.png"
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000


def test_run_directories_can_be_named_one_by_one(two_experiments):
    runs = sorted((two_experiments / "hw2").iterdir())
    curves = aggregate_runs(runs[:1], x="env_steps", y="eval_return")
    assert len(curves) == 1 and curves[0].num_runs == 1


def test_cli_writes_png_and_exits_0(two_experiments, tmp_path, capsys):
    out = tmp_path / "cli.png"
    assert main([str(two_experiments), "--x", "env_steps", "--y", "eval_return", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    assert str(out) in capsys.readouterr().out


def assert_one_line_error(argv, capsys, *fragments):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_missing_column_error_names_it_and_the_columns_that_exist(two_experiments, tmp_path, capsys):
    out = tmp_path / "x.png"
    assert_one_line_error([str(two_experiments), "--y", "policy_loss", "--out", str(out)], capsys,
                          "'policy_loss'", "env_steps, eval_return")
    assert not out.exists()


def test_no_runs_found_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert_one_line_error([str(tmp_path / "empty"), "--out", str(tmp_path / "x.png")], capsys, "no runs found")
    assert_one_line_error([str(tmp_path / "absent"), "--out", str(tmp_path / "x.png")], capsys, "does not exist")


def test_empty_run_is_a_one_line_error(tmp_path, capsys):
    Logger("hw2", "exp", "CartPole-v1", 0, root=tmp_path, tensorboard=False).close()  # logged nothing
    assert_one_line_error([str(tmp_path), "--out", str(tmp_path / "x.png")], capsys, "empty")


def test_run_with_header_but_no_rows_is_a_one_line_error(tmp_path, capsys):
    run = tmp_path / "exp_CartPole-v1_0_20261122-014500"
    run.mkdir()
    (run / "metrics.csv").write_text("env_steps,eval_return\n")
    assert_one_line_error([str(run), "--out", str(tmp_path / "x.png")], capsys, "no rows")


def test_plot_error_from_the_function_api(tmp_path):
    with pytest.raises(PlotError, match="no runs found"):
        plot_runs([tmp_path], out=tmp_path / "x.png")


def test_module_runs_headless_as_a_script(two_experiments, tmp_path):
    # No DISPLAY and the default backend: the CLI must not need a GUI.
    out = tmp_path / "script.png"
    env = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "common.plotting", str(two_experiments), "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    bad = subprocess.run(
        [sys.executable, "-m", "common.plotting", str(two_experiments), "--y", "nope", "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_a_run_resumed_from_a_checkpoint_is_one_curve_with_the_run_it_continues(tmp_path):
    # the first piece logged up to 4000 but its checkpoint was at 2000: the second starts at 3000
    first = linear_run(tmp_path, "exp", 0, slope=1.0, steps=(1000, 2000, 3000, 4000))
    second = linear_run(tmp_path, "exp", 0, slope=2.0, steps=(3000, 4000, 5000))
    (second / "config.yaml").write_text(f"seed: 0\nresume_from: {first / 'checkpoints' / 'resume.pt'}\n")
    linear_run(tmp_path, "exp", 1, slope=1.0, steps=(1000, 2000, 3000, 4000, 5000))  # another seed, not joined
    (curve,) = aggregate_runs([tmp_path], x="env_steps", y="eval_return")
    assert (curve.num_runs, curve.num_seeds) == (2, 2)
    np.testing.assert_allclose(curve.x, [1000, 2000, 3000, 4000, 5000])
    # seed 0: 1000, 2000 from the first piece, then 6000, 8000, 10000 from the second; seed 1: y = x
    np.testing.assert_allclose(curve.mean, [1000, 2000, 4500, 6000, 7500])


def test_a_run_resumed_from_a_run_outside_the_plotted_ones_stays_a_run_of_its_own(tmp_path):
    run = linear_run(tmp_path, "exp", 0, slope=1.0)
    (run / "config.yaml").write_text("resume_from: runs/hw3/exp_CartPole-v1_0_20200101-000000\n")
    (curve,) = aggregate_runs([run], x="env_steps", y="eval_return")
    np.testing.assert_allclose(curve.mean, [1000, 2000, 3000, 4000])


def test_several_metrics_give_one_line_each(tmp_path):
    write_run(tmp_path, "exp", 0, [{"env_steps": s, "train_return": s, "eval_return": 2 * s} for s in (10, 20)])
    out = plot_runs([tmp_path], y=["train_return", "eval_return"], out=tmp_path / "two.png")
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    assert main([str(tmp_path), "--y", "train_return", "eval_return", "--out", str(tmp_path / "cli.png")]) == 0
    assert main([str(tmp_path), "--y", "train_return", "nope", "--out", str(tmp_path / "bad.png")]) == 2  # each is read
