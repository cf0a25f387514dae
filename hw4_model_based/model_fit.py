"""Fit the ensemble to random-action data and plot its open-loop predictions (README section 3.6).

    python -m hw4_model_based.model_fit                                  # HalfCheetah, 10k random steps
    python -m hw4_model_based.model_fit --env hw4/Obstacles-v0 --steps 2000 --out obstacles_open_loop.png

Open loop: from the true first state of a held-out random episode, each member is fed its OWN
predictions for `--horizon` steps, under the episode's actions,

    s_hat_{0,i} = s_0,    s_hat_{t+1,i} = f_i(s_hat_{t,i}, a_t),

and the plot shows a few observation entries of every member against the truth. It also prints
the error after 1, 5, 15 and `--horizon` steps, in units of each entry's standard deviation.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from common.envs import make_env
from common.rollouts import concatenate, random_policy, sample_trajectories, sample_trajectory
from common.torch_utils import seed_everything, set_torch_threads, to_numpy, to_torch
from hw4_model_based.dynamics import EnsembleDynamics, train_ensemble
from hw4_model_based.envs import HALFCHEETAH_ID

HELD_OUT_SEED_OFFSET = 10_000
# Observation entries worth looking at, with their names.
SHOWN_ENTRIES = {
    HALFCHEETAH_ID: {0: "torso height", 1: "torso angle", 8: "forward velocity (end of step)",
                     17: "forward velocity (step mean)"},
}


@torch.no_grad()
def open_loop_predictions(model: EnsembleDynamics, first_obs: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Every member's own rollout of `actions` (T, d_a) from `first_obs` (d_s,) -> (E, T + 1, d_s)."""
    states = to_torch(first_obs).expand(model.num_members, 1, -1)
    predictions = [states]
    for action in to_torch(actions):
        states = model.predict_next_obs(states, action.expand(model.num_members, 1, -1))
        predictions.append(states)
    return to_numpy(torch.cat(predictions, dim=1))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=HALFCHEETAH_ID)
    parser.add_argument("--steps", type=int, default=10_000, help="random-action env steps to fit on")
    parser.add_argument("--horizon", type=int, default=50)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="open_loop.png")
    args = parser.parse_args(argv)
    set_torch_threads()
    seed_everything(args.seed)

    env = make_env(args.env, seed=args.seed)
    data = concatenate(sample_trajectories(env, random_policy(env), min_steps=args.steps))
    held_out_env = make_env(args.env, seed=args.seed + HELD_OUT_SEED_OFFSET)
    episode = sample_trajectory(held_out_env, random_policy(held_out_env))
    obs_dim, act_dim = data.observations.shape[1], data.actions.shape[1]
    model = EnsembleDynamics(obs_dim, act_dim, args.members, args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = train_ensemble(model, optimizer, data.observations, data.actions, data.next_observations,
                          args.epochs, 256, np.random.default_rng(args.seed))
    print(f"{args.env}: {len(data)} random steps, final training loss {loss:.4f}")

    horizon = min(args.horizon, len(episode))
    predicted = open_loop_predictions(model, episode.observations[0], episode.actions[:horizon])
    true = np.concatenate([episode.observations[:1], episode.next_observations[:horizon]])
    scale = data.observations.std(axis=0) + 1e-8
    for t in sorted({1, 5, 15, horizon} & set(range(1, horizon + 1))):
        error = np.abs(predicted[:, t] - true[t]) / scale
        print(f"open-loop error after {t:3d} steps (in stds, mean over entries and members): {error.mean():.3f}")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = SHOWN_ENTRIES.get(args.env, {i: f"entry {i}" for i in range(min(obs_dim, 4))})
    figure, axes = plt.subplots(1, len(entries), figsize=(3.2 * len(entries), 2.8), squeeze=False)
    for ax, (entry, name) in zip(axes[0], entries.items()):
        for i in range(args.members):
            ax.plot(predicted[i, :, entry], color="tab:blue", alpha=0.6, linewidth=1,
                    label="ensemble members" if i == 0 else None)
        ax.plot(true[:, entry], color="black", linewidth=1.5, label="true")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=2, frameon=False)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    figure.savefig(args.out, dpi=120)
    print(f"plot: {args.out}")


if __name__ == "__main__":
    main()
