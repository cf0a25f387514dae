# Source of notebook.ipynb: edit this file, then run `python -m grader.notebooks hw4`.
# (TA header: the lines above the first cell reach neither notebook nor student edition.)

# %% [markdown]
# # Homework 4: model-based reinforcement learning
# This notebook drives the homework from Colab or Jupyter: it installs the course, runs your
# implementation on a short MPC experiment on the obstacles course, and plots the learning curve and
# the path of the last episode.
# Implement the TODOs in `hw4_model_based/dynamics.py`, `planning.py` and `mbpo.py` first (see the
# README); the code you write lives in those files, not in this notebook.

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
_ = subprocess.run([sys.executable, "-m", "pytest", "-q", "hw4_model_based/tests"])

# %% [markdown]
# ## A short experiment
# MPC with random shooting on the obstacles course: 1000 random steps, then 4 iterations of fitting
# the ensemble and 100 planned steps (about 10 s of CPU). Random actions score about -107; the
# reference reaches -35 to -24 here. For the real experiments use the configs in
# `hw4_model_based/configs/` (README sections 3.6, 4.5 to 4.8 and 5.3).

# %% Short experiment
_ = subprocess.run([sys.executable, "-m", "hw4_model_based.run",
                    "--config", "hw4_model_based/configs/smoke.yaml", "--set", "log_root=runs/notebook"],
                   check=True)

# %% Plot
_ = subprocess.run([sys.executable, "-m", "common.plotting", "runs/notebook/hw4", "--out", "runs/notebook/curve.png"],
                   check=True)
from IPython.display import Image
Image("runs/notebook/curve.png")

# %% Path of the last episode
import glob
Image(sorted(glob.glob("runs/notebook/hw4/*/path.png"))[-1])
