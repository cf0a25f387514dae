"""benchmarks.hw3_targets without training: stitching resumed pieces, done / unfinished, the table, --only."""
from __future__ import annotations

import csv
import dataclasses
import json
import os

import pytest

from benchmarks import hw3_targets as targets
from benchmarks.runs import record_segment


def _piece(seed_dir, stamp, rows, segment=None, log_every=10_000):
    run_dir = seed_dir / "hw3" / f"dqn_cartpole_CartPole-v1_0_{stamp}"
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(f"log_every: {log_every}\n")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with (run_dir / "metrics.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    if segment is not None:
        record_segment(seed_dir, run_dir.name, segment)
    return run_dir


def _rows(steps, evals, start_s=0.0):
    return [{"env_steps": s, "time_s": start_s + s / 1000, **({"eval_return": e} if e is not None else {})}
            for s, e in zip(steps, evals)]


def test_a_resumed_run_is_stitched_and_its_older_rows_past_the_resume_point_dropped(tmp_path):
    seed_dir = targets.seed_dir_of(tmp_path, "dqn_cartpole", 0)
    # first piece killed after logging 70k (last checkpoint at 50k); the second resumed from 50k and finished
    _piece(seed_dir, "20261201-100000", _rows([25_000, 50_000, 60_000, 70_000], [100, 480, 200, 300]),
           {"cpu_minutes": 2.0, "load_mean": 3.0}, log_every=5_000)
    _piece(seed_dir, "20261201-110000", _rows([60_000, 80_000, 100_000], [None, None, 490]),
           {"cpu_minutes": 1.0, "load_mean": 5.0})
    rows = targets.stitch(seed_dir)
    assert [r["env_steps"] for r in rows] == [25_000, 50_000, 60_000, 80_000, 100_000]
    assert [r.get("eval_return") for r in rows] == [100, 480, None, None, 490]
    assert rows[-1]["wall_s"] == pytest.approx(50.0 + 100.0)  # offset by the last kept row's time

    result = targets.read_result(tmp_path, "dqn_cartpole", 0, target=475.0)
    assert result["finished"] and result["final_eval_return"] == 490
    assert result["average_eval_return"] == pytest.approx((100 + 480 + 490) / 3)
    assert result["target_env_steps"] == 50_000
    assert result["cpu_minutes"] == pytest.approx(3.0) and result["load"] == [3.0, 5.0]
    lines = targets.summarize(tmp_path, targets.select_groups(["dqn_cartpole"]), seeds_override=[0])
    assert any("reached it on 1 of 1 seeds" in line and line.endswith(": reached") for line in lines)
    stitched = targets.plot_dir(result)
    assert stitched.name == "dqn_cartpole_CartPole-v1_0_20261201-100000"  # common.plotting parses the name
    assert [float(r["env_steps"]) for r in csv.DictReader((stitched / "metrics.csv").open())] == [25e3, 50e3, 6e4, 8e4, 1e5]


def test_an_unfinished_run_is_not_done_and_is_marked_in_the_table(tmp_path):
    seed_dir = targets.seed_dir_of(tmp_path, "dqn_cartpole", 1)
    _piece(seed_dir, "20261201-100000", _rows([25_000, 50_000], [100, 200]))
    result = targets.read_result(tmp_path, "dqn_cartpole", 1, target=475.0)
    assert not result["finished"] and result["target_env_steps"] is None and result["cpu_minutes"] is None
    assert targets.read_result(tmp_path, "dqn_cartpole", 2) is None
    group = targets.select_groups(["dqn_cartpole"])[0]
    lines = targets.summarize(tmp_path, [group], seeds_override=[1, 2])
    row = next(line for line in lines if line.startswith("| dqn_cartpole |"))
    assert "not run | - | 0 (+1 training or unfinished, not counted)" in row  # an unfinished run moves no mean

    # one that reached the target before it stopped counts, marked (a --stop-at-target run, or a killed one)
    _piece(seed_dir, "20261201-110000", _rows([10_000, 20_000, 30_000], [100, 480, 200]), log_every=10_000)
    lines = targets.summarize(tmp_path, [group], seeds_override=[1, 2])
    row = next(line for line in lines if line.startswith("| dqn_cartpole |"))
    assert "| 200.0 ± 0.0 |" in row and "1 (1 stopped at the target)" in row and "| 20000 (0.3) |" in row
    # ... unless a benchmark process is still training it
    (seed_dir / targets.RUNNING_FILE).write_text(str(os.getpid()))
    row = next(line for line in targets.summarize(tmp_path, [group], seeds_override=[1, 2])
               if line.startswith("| dqn_cartpole |"))
    assert "0 (+1 training or unfinished, not counted)" in row


def test_only_matches_a_whole_config_name_exactly_and_keeps_the_claims_it_can_check():
    (soft_q,) = targets.select_groups(["soft_q_cartpole_alpha0.1"])
    assert soft_q.configs == ("soft_q_cartpole_alpha0.1",)
    (pendulum,) = targets.select_groups(["reinforce"])
    assert pendulum.configs == ("sac_inverted_pendulum_reinforce1", "sac_inverted_pendulum_reinforceN")
    assert pendulum.claims == (("sac_inverted_pendulum_reinforceN", "sac_inverted_pendulum_reinforce1"),)
    assert {g.name for g in targets.select_groups([])} == {g.name for g in targets.GROUPS}


def test_every_config_of_the_table_exists_and_a_sweep_out_refuses_other_overrides(tmp_path):
    for group in targets.GROUPS:
        for config in group.configs:
            assert targets.total_env_steps(config) > 0
    assert targets.total_env_steps("dqn_cartpole", ["total_env_steps=5000"]) == 5000
    assert targets.check_overrides(tmp_path, ["agent.gamma=0.995"], table_only=False) == ["agent.gamma=0.995"]
    assert json.loads((tmp_path / "overrides.json").read_text()) == ["agent.gamma=0.995"]
    with pytest.raises(SystemExit, match="another --out"):
        targets.check_overrides(tmp_path, [], table_only=False)


def test_a_lesson_is_judged_where_every_run_of_both_configs_has_evaluated(tmp_path):
    # min stopped at its target at 90k; single (no target of its own) stopped past the group's 100k.
    (group,) = targets.select_groups(["sac_halfcheetah_min", "sac_halfcheetah_single"])
    # the group itself claims no ordering (see its comment): give it one to test the rule
    group = dataclasses.replace(group, claims=(("sac_halfcheetah_min", "sac_halfcheetah_single"),))
    assert group.stop_at("sac_halfcheetah_single") == 100_000 and group.stop_at("sac_halfcheetah_min") is None
    _piece(targets.seed_dir_of(tmp_path, "sac_halfcheetah_min", 0), "20261201-100000",
           _rows([30_000, 60_000, 90_000], [1000, 3000, 5100]))
    _piece(targets.seed_dir_of(tmp_path, "sac_halfcheetah_single", 0), "20261201-100000",
           _rows([30_000, 60_000, 90_000, 120_000], [900, 2500, 4000, 4800]))
    lines = targets.summarize(tmp_path, [group], seeds_override=[0])
    single = next(line for line in lines if line.startswith("| sac_halfcheetah_single |"))
    assert "| 4800.0 ± 0.0 |" in single and "1 (1 stopped at 100000 env steps)" in single
    # judged at 90k, the last step both evaluated (not min's 90k against single's 120k)
    lesson = next(line for line in lines if line.startswith("- lesson"))
    assert "holds at 90000 env steps" in lesson and "eval there 5100.0 vs 4000.0" in lesson
    assert "averaged up to there 3033.3 vs 2466.7" in lesson

    # a single run stopped short of 100k is still training or was killed: not counted, no lesson
    _piece(targets.seed_dir_of(tmp_path, "sac_halfcheetah_single", 1), "20261201-100000",
           _rows([30_000, 60_000], [900, 2500]))
    lines = targets.summarize(tmp_path, [group], seeds_override=[1])
    assert "0 (+1 training or unfinished, not counted)" in next(
        line for line in lines if line.startswith("| sac_halfcheetah_single |"))
    assert not any(line.startswith("- lesson") for line in lines)
