"""Train (or finish training) an expert with homework 3's reference SAC and save it for homework 1.

    python -m hw1_imitation.make_expert --env HalfCheetah-v5 --init-from runs/hw3_targets/sac_halfcheetah_min/seed0/hw3/<run>
    python -m hw1_imitation.make_expert --env Walker2d-v5 --time-budget-h 2      # resumable: run it again to go on
    python -m hw1_imitation.make_expert --env Ant-v5 --export-only                 # save the latest checkpoint's actor

Instructor tool: it imports homework 3's reference SAC (hw3_qlearning_ac.sac_training.train_sac),
which the student edition ships as TODOs. Steps:
  1. training, resumable: runs go to <run-root>/<env>/hw3/<run>/ and checkpoint every
     `checkpoint_every` env steps (replay buffer included). A new call continues the newest run there;
     the first call may instead take over a homework 3 run of the SAME config (`--init-from RUN_DIR`),
     which the metadata records (which run, at what step). Training stops at the config's
     `total_env_steps` (or `--total-env-steps`), or after `--time-budget-h` hours of this call.
  2. export: the actor's mean head of the newest checkpoint, a = bias + scale tanh(mu(s)), as a float32
     state dict (experts/<env>.pt, `torch.load(..., weights_only=True)`) that
     hw1_imitation.experts.ExpertPolicy loads; SAC acts on raw observations, so there is no
     normalization to save.
  3. measurement: 10 deterministic episodes (seeds EVAL_SEED + i), mean/std/min/max of the return.
  4. metadata (experts/<env>.json): env id, architecture, action box, the chain of runs with their
     env steps and wall time, total env steps and wall time, the returns, the CS 285 reference
     return and the ratio, this command.
"""
from __future__ import annotations

import argparse
import csv
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import yaml

from common.envs import make_env
from common.torch_utils import set_torch_threads
from hw1_imitation.experts import CS285_EXPERT_RETURNS, EXPERTS_DIR, ExpertPolicy, expert_paths

REPO = Path(__file__).resolve().parent.parent
CONFIGS = {  # the homework 3 SAC config each expert trains with (hw3's when hw3 has one for the env)
    "HalfCheetah-v5": REPO / "hw3_qlearning_ac/configs/sac_halfcheetah_min.yaml",
    "Hopper-v5": REPO / "hw3_qlearning_ac/configs/sac_hopper.yaml",
    "Walker2d-v5": REPO / "hw1_imitation/configs/expert_walker2d.yaml",
    "Ant-v5": REPO / "hw1_imitation/configs/expert_ant.yaml",
}
EVAL_SEED = 20_000
EVAL_EPISODES = 10


def evaluate_expert(expert: ExpertPolicy, env_id: str, episodes: int = EVAL_EPISODES, seed: int = EVAL_SEED) -> np.ndarray:
    """Returns of `episodes` deterministic episodes in fresh envs seeded seed, seed + 1, ... -> (episodes,)."""
    returns = np.zeros(episodes)
    for i in range(episodes):
        env = make_env(env_id, seed=seed + i)
        obs, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(expert.act(obs[None])[0])
            returns[i] += reward
            done = terminated or truncated
        env.close()
    return returns


def runs_in(root: Path) -> list[Path]:
    """Run directories under root holding a resume checkpoint, oldest first (by their stamp)."""
    return sorted((p.parent.parent for p in root.glob("**/checkpoints/resume.pt")), key=lambda p: p.name.rsplit("_", 1)[-1])


def checkpoint_step(run_dir: Path) -> int:
    return int(torch.load(run_dir / "checkpoints" / "resume.pt", weights_only=True, map_location="cpu")["env_steps"])


def run_segment(run_dir: Path, up_to_step: int | None = None) -> dict:
    """What one run directory contributed: its first and last logged env step and its wall time."""
    with (run_dir / "metrics.csv").open() as f:
        rows = [row for row in csv.DictReader(f) if row.get("env_steps")]
    if up_to_step is not None:
        rows = [row for row in rows if int(float(row["env_steps"])) <= up_to_step]
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    return {"run_dir": str(run_dir.relative_to(REPO) if run_dir.is_relative_to(REPO) else run_dir),
            "resumed_from": config.get("resume_from"),
            "last_env_steps": int(float(rows[-1]["env_steps"])), "wall_time_s": float(rows[-1]["time_s"])}


def chain_of(run_dir: Path) -> list[dict]:
    """The runs that led to run_dir's checkpoint, oldest first, following each config's resume_from."""
    segments, step = [], checkpoint_step(run_dir)
    while run_dir is not None:
        segment = run_segment(run_dir, up_to_step=step)
        segments.append(segment)
        previous = segment["resumed_from"]
        run_dir = None if previous is None else Path(previous)
        if run_dir is not None:
            run_dir = run_dir if run_dir.is_dir() else run_dir.parent.parent
            step = checkpoint_step(run_dir)
    segments.reverse()
    for before, segment in zip([None] + segments[:-1], segments):
        segment["first_env_steps"] = 0 if before is None else before["last_env_steps"]
    return segments


def train(env_id: str, root: Path, init_from: Path | None, total_env_steps: int | None, budget_h: float | None) -> Path:
    """Continue the newest run under root (or take over init_from) up to total_env_steps; returns the newest run."""
    from common.config import load_config
    from common.logger import Logger
    from hw3_qlearning_ac.sac_training import SACRunConfig, train_sac

    existing = runs_in(root)
    start_from = existing[-1] if existing else init_from
    overrides = [f"log_root={root}", "progress_bar=true"]
    if total_env_steps is not None:
        overrides.append(f"total_env_steps={total_env_steps}")
    if budget_h is not None:
        overrides.append(f"time_budget_s={budget_h * 3600}")
    if start_from is not None:
        overrides.append(f"resume_from={start_from.resolve()}")
    config = load_config(SACRunConfig, CONFIGS[env_id], overrides)
    if config.env_id != env_id:
        raise SystemExit(f"{CONFIGS[env_id]} trains {config.env_id}, not {env_id}")
    if start_from is not None and checkpoint_step(start_from) >= config.total_env_steps:
        print(f"{start_from} already holds {checkpoint_step(start_from)} env steps (>= {config.total_env_steps}): no training")
        return start_from
    if config.checkpoint_every is None:
        config.checkpoint_every = 10_000
    with Logger("hw3", config.exp_name, config.env_id, config.seed, config, root=root) as logger:
        train_sac(config, logger)
    return logger.run_dir


def export(env_id: str, run_dir: Path, out: Path, command: str, episodes: int, own_root: Path) -> dict:
    """Save the actor's mean head of run_dir's checkpoint and its metadata under out; returns the metadata."""
    state = torch.load(run_dir / "checkpoints" / "resume.pt", weights_only=True, map_location="cpu")
    agent = state["agent"]
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    hidden = list(config["agent"]["hidden_sizes"])
    env = make_env(env_id)
    obs_dim, act_dim = int(np.prod(env.observation_space.shape)), int(env.action_space.shape[0])
    low, high = env.action_space.low.astype(float).tolist(), env.action_space.high.astype(float).tolist()
    env.close()
    expert = ExpertPolicy(obs_dim, act_dim, hidden, low, high)
    weights = {}
    for name in expert.mean_net.state_dict():
        value = agent[f"actor.net.{name}"].float()
        if name == f"{2 * len(hidden)}.weight" or name == f"{2 * len(hidden)}.bias":
            value = value[:act_dim]  # the actor outputs [mu, raw log sigma]: keep mu
        weights[f"mean_net.{name}"] = value.clone().contiguous()
    weights["action_scale"], weights["action_bias"] = expert.action_scale, expert.action_bias
    expert.load_state_dict(weights)
    returns = evaluate_expert(expert.eval(), env_id, episodes)
    chain = chain_of(run_dir)
    reference = CS285_EXPERT_RETURNS.get(env_id)
    metadata = {
        "env_id": env_id,
        "policy": "a = action_bias + action_scale * tanh(mean_net(s)), the SAC actor's deterministic action",
        "observation_normalization": "none (the expert acts on raw observations, as SAC was trained)",
        "obs_dim": obs_dim, "act_dim": act_dim, "hidden_sizes": hidden, "activation": "relu",
        "action_low": low, "action_high": high,
        "trained_by": "homework 3's reference SAC (hw3_qlearning_ac.sac_training.train_sac)",
        "training_config": config,
        "training_runs": chain,
        # the last homework 3 piece before this tool's own runs (a taken-over run may itself be resumed)
        "taken_over_from": next(({"run_dir": s["run_dir"], "at_env_steps": s["last_env_steps"]} for s in reversed(chain)
                                 if not (REPO / s["run_dir"]).resolve().is_relative_to(own_root.resolve())), None),
        "total_env_steps": chain[-1]["last_env_steps"],
        "total_wall_time_s": round(sum(s["wall_time_s"] for s in chain), 1),
        "eval_episodes": episodes, "eval_seed": EVAL_SEED,
        "eval_returns": [round(float(r), 2) for r in returns],
        "mean_return": round(float(returns.mean()), 2), "std_return": round(float(returns.std()), 2),
        "cs285_expert_return": reference,
        "fraction_of_cs285": None if reference is None else round(float(returns.mean()) / reference, 3),
        "command": command,
        "exported_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    paths = expert_paths(env_id, out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(expert.state_dict(), paths["weights"])
    paths["metadata"].write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=sorted(CONFIGS))
    parser.add_argument("--init-from", type=Path, default=None,
                        help="a homework 3 SAC run dir of the same config to take over (first call only)")
    parser.add_argument("--total-env-steps", type=int, default=None, help="default: the config's total_env_steps")
    parser.add_argument("--time-budget-h", type=float, default=None, help="stop this call after so many hours")
    parser.add_argument("--run-root", type=Path, default=REPO / "runs" / "hw1_experts")
    parser.add_argument("--export-only", action="store_true", help="no training: export the newest checkpoint")
    parser.add_argument("--eval-episodes", type=int, default=EVAL_EPISODES)
    parser.add_argument("--out", type=Path, default=EXPERTS_DIR)
    args = parser.parse_args(argv)
    set_torch_threads()
    root = args.run_root / args.env
    start = time.perf_counter()
    if args.export_only:
        existing = runs_in(root)
        run_dir = existing[-1] if existing else args.init_from
        if run_dir is None:
            raise SystemExit(f"no run under {root} and no --init-from: nothing to export")
    else:
        run_dir = train(args.env, root, args.init_from, args.total_env_steps, args.time_budget_h)
    command = "python -m hw1_imitation.make_expert " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    meta = export(args.env, run_dir, args.out, command, args.eval_episodes, root)
    print(f"{args.env}: mean return {meta['mean_return']:.1f} +- {meta['std_return']:.1f} over {args.eval_episodes} "
          f"episodes ({meta['fraction_of_cs285']:.0%} of the CS 285 expert's {meta['cs285_expert_return']:.0f}), "
          f"{meta['total_env_steps']} env steps, {meta['total_wall_time_s'] / 60:.1f} min of training "
          f"(this call {(time.perf_counter() - start) / 60:.1f} min)")
    print(f"expert: {expert_paths(args.env, args.out)['weights']}  metadata: {expert_paths(args.env, args.out)['metadata']}")


if __name__ == "__main__":
    main()
