"""benchmarks.hw4_targets: stitching resumed MPC pieces, done / unfinished, the table's verdicts, --only,
and one tiny real run that is killed after an iteration and resumed from its checkpoint."""
from __future__ import annotations

import csv
import os

import pytest

from benchmarks import hw4_targets as targets
from benchmarks.runs import read_rows, record_segment

TINY = ("initial_random_steps=100", "steps_per_iteration=10", "max_episode_steps=10", "planner.num_candidates=20",
        "planner.horizon=3", "dynamics.num_members=2", "dynamics.hidden_sizes=[8,8]", "dynamics.num_epochs=1")


def _piece(seed_dir, stamp, rows, segment=None, exp="obstacles_mpc"):
    run_dir = seed_dir / "hw4" / f"{exp}_hw4-Obstacles-v0_0_{stamp}"
    run_dir.mkdir(parents=True)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with (run_dir / "metrics.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    if segment is not None:
        record_segment(seed_dir, run_dir.name, segment)
    return run_dir


def _rows(iterations, returns, plan_ms=20.0):
    return [{"env_steps": 2000 + 100 * i, "iteration": i, "eval_return": ret, "time_s": 10.0 * i,
             **({"plan_ms": plan_ms} if i > 0 else {})} for i, ret in zip(iterations, returns)]


def test_a_resumed_mpc_run_is_stitched_and_the_killed_pieces_extra_rows_dropped(tmp_path):
    seed_dir = targets.seed_dir_of(tmp_path, "obstacles_mpc", 0)
    # the first piece logged iteration 7 but was killed before its checkpoint: the second resumed after 6
    _piece(seed_dir, "20261201-100000", _rows(range(8), [-107, -90, -60, -40, -30, -28, -27, -99]),
           {"cpu_minutes": 2.0, "load_mean": 3.0})
    _piece(seed_dir, "20261201-110000", _rows(range(7, 13), [-26, -25, -24, -23, -22, -21]),
           {"cpu_minutes": 1.0, "load_mean": 5.0})
    rows = targets.stitch(seed_dir)
    assert [r["iteration"] for r in rows] == list(range(13))
    assert rows[7]["eval_return"] == -26

    result = targets.read_result(tmp_path, targets.OBSTACLES, 0)
    assert result["finished"] and result["final_eval_return"] == -21
    assert result["average_eval_return"] == pytest.approx(sum([-90, -60, -40, -30, -28, -27, -26, -25, -24, -23,
                                                                -22, -21]) / 12)  # row 0 is random actions
    assert result["cpu_minutes"] == pytest.approx(3.0) and result["load"] == [3.0, 5.0]
    assert result["wall_minutes"] == pytest.approx(120 / 60) and result["plan_ms"] == pytest.approx(20.0)
    stitched = targets.plot_dir(result)
    assert stitched.name == "obstacles_mpc_hw4-Obstacles-v0_0_20261201-100000"  # common.plotting parses the name
    assert [float(r["iteration"]) for r in csv.DictReader((stitched / "metrics.csv").open())] == list(range(13))

    lines = targets.summarize(tmp_path, targets.select_groups(["obstacles"]), seeds_override=[0])
    row = next(line for line in lines if line.startswith("| obstacles_mpc |"))
    assert "| -21.0 ± 0.0 |" in row and "| 3.0 (2.0) | 4.0 | 20 |" in row
    assert "- target obstacles_mpc: -21.0 over 1 seeds vs >= -25 after 12 iterations: reached" in lines
    # a piece that starts over (iteration 0) replaces everything before it
    _piece(seed_dir, "20261201-120000", _rows(range(3), [-107, -80, -70]))
    assert [r["eval_return"] for r in targets.stitch(seed_dir)] == [-107, -80, -70]
    assert not targets.read_result(tmp_path, targets.OBSTACLES, 0)["finished"]


def test_unfinished_runs_are_not_counted_and_lessons_and_ratios_are_judged(tmp_path):
    group = targets.GROUPS_BY_NAME["halfcheetah"]
    random_shooting, cem = group.experiments
    for seed, (rs, ce) in enumerate([(310.0, 900.0), (290.0, 700.0)]):
        _piece(targets.seed_dir_of(tmp_path, random_shooting.name, seed), "20261201-100000",
               _rows(range(16), [0.0] * 15 + [rs]), exp=random_shooting.name)
        _piece(targets.seed_dir_of(tmp_path, cem.name, seed), "20261201-100000", _rows(range(16), [0.0] * 15 + [ce]),
               exp=cem.name)
    _piece(targets.seed_dir_of(tmp_path, cem.name, 2), "20261201-100000", _rows(range(4), [0.0, 5000, 5000, 5000]),
           exp=cem.name)  # unfinished: not in the mean
    lines = targets.summarize(tmp_path, [group], seeds_override=[0, 1, 2])
    row = next(line for line in lines if line.startswith("| halfcheetah_cem |"))
    assert "| 800.0 ± 100.0 |" in row and "| 2 (+1 training or unfinished, not counted) |" in row
    assert "- target halfcheetah_random_shooting: 300.0 over 2 seeds vs >= 300 after 15 iterations: reached" in lines
    assert "- target halfcheetah_cem: 800.0 over 2 seeds vs >= 800 after 15 iterations: reached" in lines
    assert any(line.startswith("- lesson halfcheetah_cem > halfcheetah_random_shooting: holds") for line in lines)

    mbpo = targets.GROUPS_BY_NAME["mbpo"]
    for name, final in (("mbpo_halfcheetah", 1500.0), ("sac_halfcheetah", 1200.0)):
        rows = [{"env_steps": s, "eval_return": final, "time_s": s / 100} for s in (5000, 30_000)]
        _piece(targets.seed_dir_of(tmp_path, name, 0), "20261201-100000", rows, exp=name)
    lines = targets.summarize(tmp_path, [mbpo], seeds_override=[0])
    assert "- target mbpo_halfcheetah >= 1.5 x sac_halfcheetah: ratio 1.25 (final 1500.0 ± 0.0 vs 1200.0 ± 0.0): " \
           "MISSED" in lines


def test_only_selects_groups_and_experiments_and_every_experiment_has_a_config(tmp_path):
    assert [g.name for g in targets.select_groups(["ablation"])] == ["ablation_members", "ablation_horizon",
                                                                    "ablation_candidates"]
    assert [g.name for g in targets.select_groups(["obstacles"])] == ["obstacles"]
    (reacher,) = targets.select_groups(["reacher_mpc"])
    assert [e.name for e in reacher.experiments] == ["reacher_mpc"] and reacher.claims == ()
    for group in targets.GROUPS:
        for experiment in group.experiments:
            assert targets.run_length(experiment)[1] > 0
            assert targets.run_config(experiment).exp_name == experiment.name  # one line per experiment in the plots
    assert targets.run_length(targets.OBSTACLES, ["num_iterations=3"]) == ("iteration", 3)
    assert targets.run_length(targets.GROUPS_BY_NAME["mbpo"].experiments[0]) == ("env_steps", 30_000)
    assert " ".join(targets.run_command(targets.GROUPS_BY_NAME["ablation_members"].experiments[0], "S")) == (
        "python -m hw4_model_based.run --config hw4_model_based/configs/obstacles_mpc.yaml --set seed=S "
        "--set exp_name=obstacles_members1 --set dynamics.num_members=1")


def test_a_killed_run_resumes_from_its_last_checkpoint_and_the_table_and_figure_follow(tmp_path):
    out = tmp_path / "out"
    experiment = targets.OBSTACLES
    # a "killed" run: it stopped after iteration 1 of 2 with its checkpoint written
    targets.run_one(out, experiment, 0, [*TINY, "num_iterations=1"])
    seed_dir = targets.seed_dir_of(out, experiment.name, 0)
    (first,) = targets.pieces(seed_dir)
    assert (first / "checkpoints" / "resume.pt").exists()
    assert not targets.read_result(out, experiment, 0, [*TINY, "num_iterations=2"])["finished"]

    result = targets.run_one(out, experiment, 0, [*TINY, "num_iterations=2"])
    second = targets.pieces(seed_dir)[-1]
    assert second != first and "resume_from" in (second / "config.yaml").read_text()
    assert [r["iteration"] for r in targets.stitch(seed_dir)] == [0, 1, 2]
    assert result["finished"] and result["cpu_minutes"] > 0
    assert targets.run_one(out, experiment, 0, [*TINY, "num_iterations=2"])["seed_dir"] == str(seed_dir)
    assert len(targets.pieces(seed_dir)) == 2  # finished: not run again

    figures = tmp_path / "figures"
    targets.plot_groups(out, targets.select_groups(["obstacles"]), figures, [0], [*TINY, "num_iterations=2"])
    assert (figures / "obstacles.png").exists() and (figures / "obstacles_path.png").exists()


def test_a_killed_mbpo_run_resumes_with_both_buffers_and_the_pieces_stitch(tmp_path):
    from hw4_model_based.run import main

    tiny = ["progress_bar=false", "env_id=hw4/Obstacles-v0", "learning_starts=60", "model_train_every=60",
            "num_rollouts=20", "gradient_steps=1", "log_every=30", "eval_every=60", "eval_episodes=1",
            "max_episode_steps=30", "agent.batch_size=16", "agent.hidden_sizes=[16,16]",
            "dynamics.hidden_sizes=[16,16]", "dynamics.num_epochs=1", "checkpoint_every=60"]
    config = str(targets.config_path(targets.GROUPS_BY_NAME["mbpo"].experiments[0]))
    seed_dir = targets.seed_dir_of(tmp_path, "mbpo_halfcheetah", 0)
    main(["--config", config, "--set", f"log_root={seed_dir}", "total_env_steps=150", *tiny])  # "killed" after 150
    (first,) = targets.pieces(seed_dir)
    assert {p.name for p in (first / "checkpoints").iterdir()} >= {"resume.pt", "real_buffer.npz", "model_buffer.npz"}
    main(["--config", config, "--set", f"log_root={seed_dir}", "total_env_steps=180", f"resume_from={first}", *tiny])
    second = targets.pieces(seed_dir)[-1]
    assert [r["env_steps"] for r in read_rows(second / "metrics.csv")] == [150, 180]  # resumed after 120
    rows = targets.stitch(seed_dir)
    assert [r["env_steps"] for r in rows] == [30, 60, 90, 120, 150, 180]
    assert [r["_piece"] for r in rows][-3:] == [first.name, second.name, second.name]
    assert rows[-1]["time_s"] >= rows[3]["time_s"]  # the resumed piece's clock goes on from the checkpoint


def test_a_run_another_benchmark_process_is_training_is_skipped(tmp_path, capsys):
    seed_dir = targets.seed_dir_of(tmp_path, "obstacles_mpc", 0)
    _piece(seed_dir, "20261201-100000", _rows(range(3), [-107, -80, -70]))
    (seed_dir / targets.RUNNING_FILE).write_text(str(os.getpid()))  # a live process holds it
    result = targets.run_one(tmp_path, targets.OBSTACLES, 0)
    assert not result["finished"] and len(targets.pieces(seed_dir)) == 1  # nothing started
    assert "another benchmark process is training it" in capsys.readouterr().out
