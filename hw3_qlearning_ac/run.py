"""Train a homework 3 agent: `python -m hw3_qlearning_ac.run --config CONFIG [--set k=v ...]`.

    python -m hw3_qlearning_ac.run --config hw3_qlearning_ac/configs/dqn_cartpole.yaml
    python -m hw3_qlearning_ac.run --config hw3_qlearning_ac/configs/soft_q_cartpole.yaml --set agent.alpha=0.05

The config's `algorithm` picks the training loop (ALGORITHMS below); each loop shows a progress
bar, logs rows to runs/hw3/<exp_name>_<env_id>_<seed>_<stamp>/metrics.csv and evaluates every
`eval_every` env steps (eval_return, eval_return_std). The trained agent is saved to
<run_dir>/checkpoints/agent.pt and the eval_return curve to <run_dir>/eval_return.png.
"""
from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from pathlib import Path

import yaml

from common.config import add_config_arguments, parse_config
from common.logger import run_experiment

# algorithm -> "module:ConfigClass:train_function"; the module is imported only when it is used.
ALGORITHMS = {
    "dqn": "hw3_qlearning_ac.dqn_training:DQNRunConfig:train_dqn",
    "soft_q": "hw3_qlearning_ac.dqn_training:DQNRunConfig:train_dqn",
    "sac": "hw3_qlearning_ac.sac_training:SACRunConfig:train_sac",
}


def algorithm_of(argv: Sequence[str] | None) -> str:
    """The `algorithm` the command line asks for: a `--set algorithm=...`, else the config file's, else dqn."""
    args, _ = add_config_arguments(argparse.ArgumentParser(add_help=False)).parse_known_args(argv)
    algorithm = "dqn"
    if args.config is not None and Path(args.config).exists():
        values = yaml.safe_load(Path(args.config).read_text()) or {}
        if isinstance(values, dict) and "algorithm" in values:
            algorithm = str(values["algorithm"])
    for override in args.overrides:
        key, _, value = override.partition("=")
        if key.strip() == "algorithm":
            algorithm = value.strip()
    if algorithm not in ALGORITHMS:
        raise SystemExit(f"unknown algorithm {algorithm!r}: choose one of {', '.join(ALGORITHMS)}")
    return algorithm


def load_trainer(algorithm: str):
    """(config class, train function) of `algorithm`."""
    module_name, config_name, train_name = ALGORITHMS[algorithm].split(":")
    module = importlib.import_module(module_name)
    return getattr(module, config_name), getattr(module, train_name)


def main(argv: Sequence[str] | None = None) -> None:
    config_class, train = load_trainer(algorithm_of(argv))
    config = parse_config(config_class, argv, description=__doc__.splitlines()[0])
    logger = run_experiment("hw3", config, train)
    if config.algorithm in ("dqn", "soft_q"):
        from hw3_qlearning_ac.dqn_training import plot_q_estimates

        print(f"Q-value estimates vs returns: {plot_q_estimates([logger.run_dir], logger.run_dir / 'q_estimates.png')}")
    if getattr(config, "checkpoint_every", None):
        print(f"resume:  --set resume_from={logger.run_dir}")
    print(f"compare experiments and seeds: python -m common.plotting {logger.run_dir.parent} --out curves.png")


if __name__ == "__main__":
    main()
