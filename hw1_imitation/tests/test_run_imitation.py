"""Public test of the behavior cloning and DAgger commands (README 3.4, 4.3) on short runs."""
import csv

import torch

from hw1_imitation import run

torch.set_num_threads(1)


def test_bc_and_dagger_commands_write_their_rows_and_plot(tmp_path, capsys):
    common = ["--set", f"log_root={tmp_path}", "progress_bar=false", "bc_train_steps=50", "eval_episodes=1",
              "max_episode_steps=100"]
    run.main(["--config", "hw1_imitation/configs/bc_halfcheetah.yaml", *common])
    run.main(["--config", "hw1_imitation/configs/dagger_halfcheetah.yaml", *common, "dagger_iterations=2",
              "dagger_env_steps=150", "dagger_train_steps=20"])
    printed = capsys.readouterr().out
    assert "bc HalfCheetah-v5: eval return" in printed and "dagger HalfCheetah-v5: eval return" in printed
    (dagger_dir,) = (tmp_path / "hw1").glob("dagger_HalfCheetah-v5_0_*")
    with (dagger_dir / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["iteration"]) for r in rows] == [0, 1, 2]
    # iteration 0 is behavior cloning on 2 demonstrations; each iteration adds whole learner episodes of 100 steps
    assert [int(r["dataset_size"]) for r in rows] == [2000, 2200, 2400]
    assert [int(r["env_steps"]) for r in rows] == [0, 200, 400]
    assert (dagger_dir / "eval_return.png").exists() and (dagger_dir / "checkpoints" / "agent.pt").exists()
