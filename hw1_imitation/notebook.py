# Source of notebook.ipynb: edit this file, then run `python -m grader.notebooks hw1`.
# (TA header: the lines above the first cell reach neither notebook nor student edition.)

# %% [markdown]
# # Homework 1: imitation learning
# This notebook drives the homework from Colab or Jupyter: it installs the course, runs the public
# tests, then the experiments of parts 1-2 (behavior cloning and DAgger on HalfCheetah), part 3
# (expressive policies) and parts 4-6 (control as inference, MaxEnt inverse RL, the optimism
# problem) and shows their figures. Implement the TODOs in `hw1_imitation/*.py` first
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
# Fast checks of each TODO (hand-computed values and brute force over every trajectory of tiny
# MDPs). They fail with "not implemented" until you fill the functions in.

# %% Public tests
_ = subprocess.run([sys.executable, "-m", "pytest", "-q", "hw1_imitation/tests"])

# %% [markdown]
# ## Behavior cloning and DAgger on HalfCheetah (README 3.4, 4.3)
# Behavior cloning from 2 expert demonstrations (about half a minute of CPU), then DAgger's 10
# iterations (about 2 minutes), drawn with the expert and BC as horizontal lines. For the other
# tasks use `configs/bc_<task>.yaml` and `configs/dagger_<task>.yaml`.

# %% Behavior cloning and DAgger
for algorithm in ("bc", "dagger"):
    _ = subprocess.run([sys.executable, "-m", "hw1_imitation.run",
                        "--config", f"hw1_imitation/configs/{algorithm}_halfcheetah.yaml",
                        "--set", "log_root=runs/notebook", "progress_bar=false"], check=True)
_ = subprocess.run([sys.executable, "-m", "hw1_imitation.imitation_plots", "runs/notebook/hw1",
                    "--env", "HalfCheetah-v5", "--out", "runs/notebook/figures/dagger_halfcheetah.png"], check=True)
from IPython.display import Image, display
display(Image("runs/notebook/figures/dagger_halfcheetah.png"))

# %% [markdown]
# ## Expressive policies on the two-ways task (README 5.4)
# A Gaussian, a mixture of Gaussians and a flow-matching head cloned from demonstrations that pass
# the obstacle on the left or on the right; about a minute of CPU each. Left: the paths; right: the
# actions each policy takes at the start, next to the expert's.

# %% Expressive policies
for policy in ("gaussian", "mixture", "flow"):
    _ = subprocess.run([sys.executable, "-m", "hw1_imitation.run_expressive",
                        "--config", f"hw1_imitation/configs/expressive_{policy}.yaml",
                        "--set", "log_root=runs/notebook", "figures_dir=runs/notebook/figures"], check=True)
from IPython.display import Image, display
for policy in ("gaussian", "mixture", "flow"):
    display(Image(f"runs/notebook/figures/expressive_{policy}.png"))

# %% [markdown]
# ## MaxEnt inverse RL on the gridworld (README 7.3)
# A few seconds: 200 demonstrations of the soft-optimal expert, 300 gradient steps.

# %% MaxEnt IRL
_ = subprocess.run([sys.executable, "-m", "hw1_imitation.run_tabular",
                    "--config", "hw1_imitation/configs/maxent_irl.yaml",
                    "--set", "log_root=runs/notebook", "figures_dir=runs/notebook/figures"], check=True)
from IPython.display import Image
Image("runs/notebook/figures/maxent_irl_maps.png")

# %% [markdown]
# ## The optimism problem on the lottery (README 8.2)

# %% Lottery
_ = subprocess.run([sys.executable, "-m", "hw1_imitation.run_tabular",
                    "--config", "hw1_imitation/configs/lottery.yaml",
                    "--set", "log_root=runs/notebook", "figures_dir=runs/notebook/figures"], check=True)
Image("runs/notebook/figures/lottery.png")
