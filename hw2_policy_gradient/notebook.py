# Source of notebook.ipynb: edit this file, then run `python -m grader.notebooks hw2`.
# (TA header: the lines above the first cell reach neither notebook nor student edition.)

# %% [markdown]
# # Homework 2: policy gradients
# This notebook drives the homework from Colab or Jupyter: it installs the course, runs your
# implementation on a short CartPole experiment, and plots the learning curve.
# Implement the TODOs in `hw2_policy_gradient/*.py` first (see the README); the code you write
# lives in those files, not in this notebook.

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
_ = subprocess.run([sys.executable, "-m", "pytest", "-q", "hw2_policy_gradient/tests"])

# %% [markdown]
# ## A short experiment
# CartPole with reward-to-go and normalized advantages, 5000 env steps (a few seconds). For the
# real experiments use the configs in `hw2_policy_gradient/configs/` (README sections 3 to 6).

# %% Short experiment
_ = subprocess.run([sys.executable, "-m", "hw2_policy_gradient.run",
                    "--config", "hw2_policy_gradient/configs/smoke.yaml", "--set", "total_env_steps=5000",
                    "log_root=runs/notebook"],
                   check=True)

# %% Plot
_ = subprocess.run([sys.executable, "-m", "common.plotting", "runs/notebook/hw2", "--out", "runs/notebook/curve.png"],
                   check=True)
from IPython.display import Image
Image("runs/notebook/curve.png")
