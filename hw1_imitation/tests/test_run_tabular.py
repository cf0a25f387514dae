"""Public end-to-end tests: both tabular experiments as the handout runs them (about a second each)."""
import json
from pathlib import Path

from hw1_imitation.run_tabular import main

CONFIGS = Path(__file__).parents[1] / "configs"


def run_config(name, tmp_path, *overrides):
    main(["--config", str(CONFIGS / name), "--set", f"log_root={tmp_path}", *overrides])
    (result,) = tmp_path.glob("hw1/*/result.json")
    return json.loads(result.read_text()), result.parent


def test_maxent_irl_experiment_reaches_the_handout_targets(tmp_path, capsys):
    summary, run_dir = run_config("maxent_irl.yaml", tmp_path)
    assert summary["visitation_tv"] <= 0.05 and summary["reward_correlation"] >= 0.9
    header = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"iteration", "log_likelihood", "gradient_norm", "visitation_tv", "reward_correlation"} <= set(header)
    assert (run_dir / "maxent_irl_maps.png").exists() and (run_dir / "maxent_irl_tv.png").exists()
    assert str(run_dir / "metrics.csv") in capsys.readouterr().out


def test_lottery_experiment_shows_the_optimism_problem(tmp_path):
    summary, run_dir = run_config("lottery.yaml", tmp_path, "lottery.sweep_points=5")
    assert summary["exact_takes_lottery"] and not summary["variational_takes_lottery"]
    assert summary["brute_force"]["largest_error"] < 1e-5
    assert (run_dir / "lottery.png").exists()
