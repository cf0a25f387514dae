# Source of notebook.ipynb: edit this file, then run `python -m grader.notebooks hw3`.
# (TA header: the lines above the first cell reach neither notebook nor student edition.)

# %% [markdown]
# # Homework 3: Q-learning and actor-critic
# This notebook drives the homework from Colab or Jupyter: it installs the course, runs the public
# tests, trains your DQN on CartPole and your SAC on InvertedPendulum for a few thousand env steps,
# and plots their learning curves.
# Implement the TODOs in `hw3_qlearning_ac/schedules.py`, `dqn.py`, `sac.py` and `atari.py` first
# (see the README); the code you write lives in those files, not in this notebook.

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
# Fast checks of each TODO (shapes and hand-computed values), plus a few short trainings. They fail
# with "not implemented" until you fill the functions in.

# %% Public tests
_ = subprocess.run([sys.executable, "-m", "pytest", "-q", "hw3_qlearning_ac/tests"])

# %% [markdown]
# ## DQN on CartPole
# `dqn_smoke.yaml`: 5000 env steps, about 15 seconds of CPU, evaluated every 500. The evaluation
# return should climb well above a random policy's (about 22). For the real experiments use the configs in
# `hw3_qlearning_ac/configs/` (README sections 2 and 3).

# %% DQN
_ = subprocess.run([sys.executable, "-m", "hw3_qlearning_ac.run",
                    "--config", "hw3_qlearning_ac/configs/dqn_smoke.yaml",
                    "--set", "eval_every=500", "log_root=runs/notebook/dqn"],
                   check=True)

# %% [markdown]
# ## SAC on InvertedPendulum
# The reparameterized SAC of README section 3 for 2000 env steps (the first 1000 are random actions;
# about 15-30 seconds of CPU), evaluated every 500. The evaluation return should leave the untrained
# policy's (about 6) behind. The full run, `sac_inverted_pendulum_reparam.yaml`, takes 20 000.

# %% SAC
_ = subprocess.run([sys.executable, "-m", "hw3_qlearning_ac.run",
                    "--config", "hw3_qlearning_ac/configs/sac_inverted_pendulum_reparam.yaml",
                    "--set", "total_env_steps=2000", "log_every=500", "eval_every=500", "log_root=runs/notebook/sac"],
                   check=True)

# %% [markdown]
# ## Learning curves
# `python -m common.plotting` draws the mean and spread over seeds of every run in the folders it is given.

# %% Plot
for name in ("dqn", "sac"):
    _ = subprocess.run([sys.executable, "-m", "common.plotting", f"runs/notebook/{name}/hw3",
                        "--x", "env_steps", "--y", "eval_return", "--out", f"runs/notebook/{name}.png"],
                       check=True)
from IPython.display import Image, display
display(Image("runs/notebook/dqn.png"), Image("runs/notebook/sac.png"))
