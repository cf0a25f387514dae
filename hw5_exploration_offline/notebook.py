# Source of notebook.ipynb: edit this file, then run `python -m grader.notebooks hw5`.
# (TA header: the lines above the first cell reach neither notebook nor student edition.)

# %% [markdown]
# # Homework 5: exploration and offline RL
# This notebook drives the homework from Colab or Jupyter: it installs the course, runs the public
# tests, explores a PointMass maze with random actions and with your RND agent, draws where each
# went, and plots the state coverage.
# Then it learns from a fixed dataset with offline DQN and with CQL and compares what their critics
# believe with what their greedy policies achieve.
# Implement the TODOs in `hw5_exploration_offline/rnd.py`, `cql.py`, `awac.py`, `iql.py` and
# `offline_training.py` first (see the README); every learner uses homework 3's DQN, so your homework 3
# `dqn.py` and `schedules.py` must be finished too. The code you write lives in those files, not in
# this notebook.

# %% Setup
import os, subprocess, sys
# Jupyter starts in the homework folder; the course code lives one level up.
if not os.path.isdir("common") and os.path.isdir(os.path.join("..", "common")):
    os.chdir("..")
sys.path.insert(0, os.getcwd())
try:
    import common  # noqa: F401
except ImportError:  # a fresh Colab machine: install the course first
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "."], check=True)

# %% [markdown]
# ## Public tests
# Fast checks of each TODO (shapes and hand-computed values). They fail with "not implemented"
# until you fill the functions in.

# %% Public tests
_ = subprocess.run([sys.executable, "-m", "pytest", "-q", "hw5_exploration_offline/tests"])

# %% [markdown]
# ## Exploration on the Medium maze: random actions against RND
# 3000 env steps each (README 3.5 uses 10 000): random actions take a few seconds, RND about
# 15 seconds of CPU.
# Each run logs `state_coverage` (the share of the maze's free cells visited so far) every
# 500 steps and draws a heatmap of where it went. RND should already reach further than the random
# walk, which stays near the start.

# %% Exploration
for method in ("random", "rnd"):
    _ = subprocess.run([sys.executable, "-m", "hw5_exploration_offline.run",
                        "--config", f"hw5_exploration_offline/configs/explore_{method}.yaml",
                        "--set", "total_env_steps=3000", "log_every=500", f"log_root=runs/notebook/{method}"],
                       check=True)

# %% [markdown]
# ## Where each method went
# The heatmap of each run (log colour scale; white cells were never visited).

# %% Heatmaps
import glob
from IPython.display import Image, display
for method in ("random", "rnd"):
    display(Image(sorted(glob.glob(f"runs/notebook/{method}/hw5/*/heatmap.png"))[-1]))

# %% [markdown]
# ## Coverage curves
# `python -m common.plotting` draws the mean and spread over seeds of every run in the folders it
# is given (one seed each here).

# %% Plot
_ = subprocess.run([sys.executable, "-m", "common.plotting", "runs/notebook/random/hw5", "runs/notebook/rnd/hw5",
                    "--x", "env_steps", "--y", "state_coverage", "--out", "runs/notebook/coverage.png"],
                   check=True)
display(Image("runs/notebook/coverage.png"))

# %% [markdown]
# ## Offline: offline DQN against CQL on the Hard maze's dataset
# Both learn from the first 10 000 transitions of `datasets/pointmass_hard_rnd_20k.npz` (an RND run;
# `dataset_size: 10000` in their configs) for 4000 gradient steps (about a minute of CPU each;
# README 4.4 uses 20 000), evaluated every 1000. Each run
# draws `eval_return.png` and `q_estimates.png` (the critic's Q(s0, a0) next to the discounted return
# that followed) in its run directory: offline DQN's estimate drifts above what its policy achieves.

# %% Offline
for config in ("offline_dqn_hard", "cql_hard"):
    _ = subprocess.run([sys.executable, "-m", "hw5_exploration_offline.run",
                        "--config", f"hw5_exploration_offline/configs/{config}.yaml",
                        "--set", "offline_steps=4000", "eval_every=1000", f"log_root=runs/notebook/{config}"],
                       check=True)

# %% [markdown]
# ## Returns and Q estimates

# %% Offline plots
_ = subprocess.run([sys.executable, "-m", "common.plotting", "runs/notebook/offline_dqn_hard/hw5",
                    "runs/notebook/cql_hard/hw5", "--x", "gradient_steps", "--y", "eval_return",
                    "--out", "runs/notebook/offline_return.png"], check=True)
display(Image("runs/notebook/offline_return.png"))
for config in ("offline_dqn_hard", "cql_hard"):
    display(Image(sorted(glob.glob(f"runs/notebook/{config}/hw5/*/q_estimates.png"))[-1]))
