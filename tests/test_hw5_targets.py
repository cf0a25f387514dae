"""benchmarks.hw5_targets without training: the table, the lessons' verdicts, --only."""
import json

from benchmarks import hw5_targets as targets


def _result(out, experiment, seed, score, steps=10_000):
    seed_dir = targets.run_dir_of(out, experiment, seed)
    seed_dir.mkdir(parents=True)
    (seed_dir / "result.json").write_text(json.dumps(
        {"experiment": experiment.name, "seed": seed, "overrides": [], "steps": steps, "score": score,
         "wall_minutes": 2.0, "cpu_minutes": 1.5, "run_dir": str(seed_dir)}))


def test_the_table_shows_every_seed_and_judges_the_lesson(tmp_path):
    group = targets.select_groups(["exploration_medium"])[0]
    random, rnd = group.experiments
    for seed, (a, b) in enumerate([(0.36, 0.60), (0.42, 0.49), (0.33, 0.76)]):
        _result(tmp_path, random, seed, a)
        _result(tmp_path, rnd, seed, b)
    lines = targets.summarize(tmp_path, [group])
    row = next(line for line in lines if line.startswith(f"| {rnd.name} |"))
    assert "0.617 ± 0.111 (state_coverage)" in row and "0.6, 0.49, 0.76" in row and "1.5 (2.0)" in row
    verdict = next(line for line in lines if line.startswith("- lesson"))
    assert "holds" in verdict and "ratio 1.67" in verdict


def test_a_missed_lesson_and_a_missing_run_are_reported(tmp_path):
    group = targets.select_groups(["exploration_hard"])[0]
    random, rnd = group.experiments
    _result(tmp_path, random, 0, 0.30)
    _result(tmp_path, rnd, 0, 0.25)
    lines = targets.summarize(tmp_path, [group], seeds_override=[0, 1])
    assert any("FAILS" in line for line in lines)
    _, empty = targets.summarize(tmp_path, [group], seeds_override=[5])[2:4]
    assert "not run" in empty


def test_only_selects_groups_or_experiments():
    assert [g.name for g in targets.select_groups(["exploration_hard"])] == ["exploration_hard"]
    picked = targets.select_groups(["explore_rnd"])
    assert all(len(g.experiments) == 1 and not g.claims for g in picked) and len(picked) == 3
