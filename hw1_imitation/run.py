"""Train homework 1's behavior cloning or DAgger: `python -m hw1_imitation.run --config CONFIG [--set k=v ...]`.

    python -m hw1_imitation.run --config hw1_imitation/configs/bc_halfcheetah.yaml
    python -m hw1_imitation.run --config hw1_imitation/configs/dagger_hopper.yaml --set seed=1

The config's `algorithm` (bc or dagger) picks the loop of imitation_training.py; it shows a
progress bar over iterations, logs one row per iteration to
runs/hw1/<exp_name>_<env_id>_<seed>_<stamp>/metrics.csv, saves the policy to
<run_dir>/checkpoints/agent.pt and, for DAgger, draws eval_return over iterations with the expert's
return as a line (<run_dir>/eval_return.png). The other parts have their own commands:
`python -m hw1_imitation.run_expressive` (part 3) and `python -m hw1_imitation.run_tabular` (parts 4-6).
"""
from __future__ import annotations

import csv
from collections.abc import Sequence

from common.config import parse_config
from common.logger import Logger, save_checkpoint
from hw1_imitation.imitation_training import ImitationConfig, train_imitation


def run(config: ImitationConfig) -> dict:
    """Train `config` in a new run directory; returns its summary (final eval return, the expert's, run_dir)."""
    with Logger("hw1", config.exp_name, config.env_id, config.seed, config, root=config.log_root) as logger:
        policy = train_imitation(config, logger)
        save_checkpoint(logger, "agent", policy.state_dict())
    with logger.metrics_path.open() as f:
        last = list(csv.DictReader(f))[-1]
    return {"eval_return": float(last["eval_return"]), "eval_return_std": float(last["eval_return_std"]),
            "expert_return": float(last["expert_return"]), "iteration": int(last["iteration"]),
            "dataset_size": int(last["dataset_size"]), "run_dir": logger.run_dir}


def main(argv: Sequence[str] | None = None) -> None:
    config = parse_config(ImitationConfig, argv, description=__doc__.splitlines()[0])
    summary = run(config)
    run_dir, expert = summary["run_dir"], summary["expert_return"]
    print(f"{config.algorithm} {config.env_id}: eval return {summary['eval_return']:.1f} "
          f"+- {summary['eval_return_std']:.1f} over {config.eval_episodes} episodes "
          f"({summary['eval_return'] / expert:.0%} of the expert's {expert:.0f}) after iteration {summary['iteration']}")
    print(f"metrics: {run_dir / 'metrics.csv'}")
    if config.algorithm == "dagger":
        from hw1_imitation.imitation_plots import plot_dagger  # matplotlib only once the numbers exist

        print(f"plot:    {plot_dagger([run_dir], run_dir / 'eval_return.png', title=config.exp_name)}")
    print(f"policy:  {run_dir / 'checkpoints' / 'agent.pt'}")


if __name__ == "__main__":
    main()
