"""The hw1 targets benchmark runs, fills its table and checks the handout's targets and lessons (2 seeds)."""
from benchmarks import hw1_targets


def test_benchmark_prints_the_table_and_every_check_holds(tmp_path, capsys):
    status = hw1_targets.main(["--seeds", "0", "1", "--no-expressive", "--no-imitation", "--out", str(tmp_path / "runs"), "--figures", str(tmp_path / "figures")])
    printed = capsys.readouterr().out
    assert "| maxent_irl | 2 |" in printed and "| lottery | 1 |" in printed
    assert "FAILS" not in printed and status == 0
    assert {p.name for p in (tmp_path / "figures").glob("*.png")} == {
        "maxent_irl_maps.png", "maxent_irl_state_features_maps.png", "lottery.png",
        "maxent_irl_tv.png", "maxent_irl_correlation.png"}
