"""Random inputs for the hidden tests of sac.py, shaped like what SACAgent hands its pieces.

Every input comes from the test's `rng` (new on every grading run). Sizes are those of the
handout's experiments: action dimensions 1 (InvertedPendulum), 3 (Hopper) and 6 (HalfCheetah),
E = 2 critics (1 for the "single" backup; E > 2 where the docstring's (E, ...) allows it), batches
of a few dozen transitions.

Actor outputs. SquashedGaussianActor gives a mean mu (unbounded) and log sigma in [-5, 2]; the
pre-squash sample is u = mu + sigma * noise. Two regimes:
  - moderate (`actor_outputs`): |u| <= U_MODERATE, where every legitimate way of writing the
    tanh correction agrees: the exact stable identity 2 (log 2 - u - softplus(-2u)), its |u| form,
    torch's TanhTransform, and also log(1 - tanh(u)^2 + eps) with eps <= 1e-6, whose error is at
    most eps cosh(u)^2 per dimension (6e-5 at |u| = 2.75, so 3.7e-4 summed over 6 dimensions:
    LOG_PROB_ATOL). Measured (`python -m grader.suites.hw3.sac_inputs`, 20 x 64 x 6 draws, the
    tanh correction computed in float32 against float64): eps = 1e-6 off by at most 4.4e-5, the
    naive log(1 - tanh^2) by 1.2e-6, the stable forms by 1.1e-6.
  - saturated (`saturated_actor_outputs`): a confident actor whose mean sits far out (|mu| up to
    15, sigma small), as trained actors on bounded action boxes produce. There tanh(u) rounds to
    1 in float32, the naive log(1 - tanh^2) is -inf (and loses all precision from |u| ~ 5), and
    the eps form is off by up to 2 |u| per dimension (61 in the measurement above); the docstring
    asks for the exact identity. The stable forms are off by at most 1.4e-5 there (log-probs up to
    ~150; the test allows rtol 1e-5 + atol 1e-4).
Replay batches. Transitions sampled from a buffer: `terminated` on some (the next state is
terminal: no bootstrap), `truncated` on others (cut by a time limit: they bootstrap) and both on a
few (termination wins). `truncated` is not an argument of critic_backup (only `terminated` masks);
the batch carries it so that the tests say which transitions must still bootstrap. The critics'
next-state values agree roughly (independent critics of one Q), so min, mean and the first critic
differ, by amounts of the size real twin critics show.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from hw3_qlearning_ac.sac import squashed_gaussian_sample_and_log_prob

ACT_DIMS = (1, 3, 6)          # InvertedPendulum-v5, Hopper-v5, HalfCheetah-v5
U_MODERATE = 2.75             # |u| bound of the moderate regime (see the module docstring)
LOG_PROB_ATOL = 5e-4          # log-probs summed over <= 6 dims, moderate regime (eps <= 1e-6 form: <= 3.7e-4)
GRADIENT_ATOL = 3e-4          # d log pi / d (mu, log sigma), moderate regime (eps form: <= 2 eps cosh^2 per entry)


def f32(array) -> np.ndarray:
    return np.asarray(array, dtype=np.float32)


def batch_size(rng: np.random.Generator, low: int = 16, high: int = 64) -> int:
    return int(rng.integers(low, high + 1))


def action_dim(rng: np.random.Generator, multi: bool = True) -> int:
    """An action dimension of the handout's envs; multi=True: more than one (sum vs mean shows)."""
    return int(rng.choice(ACT_DIMS[1:] if multi else ACT_DIMS))


def actor_outputs(rng: np.random.Generator, batch: int, act_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """mean, log_std (B, d) of an actor in the moderate regime (with `moderate_noise`: |u| <= U_MODERATE)."""
    mean = rng.uniform(-1.2, 1.2, size=(batch, act_dim))
    log_std = rng.uniform(-2.5, -0.5, size=(batch, act_dim))
    return f32(mean), f32(log_std)


def moderate_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal noise, kept in [-2.5, 2.5] (99% of draws are): |mu| + sigma |noise| <= 2.72."""
    return f32(np.clip(rng.standard_normal(shape), -2.5, 2.5))


def saturated_actor_outputs(rng: np.random.Generator, batch: int, act_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """mean, log_std (B, d): about half of the entries with |mu| in [5, 15] and sigma in [0.007, 0.37],
    so tanh(u) is 1.0 in float32 for many; every row has at least one such entry, a few rows none is
    moderate."""
    far = rng.random((batch, act_dim)) < 0.5
    far[np.arange(batch), rng.integers(0, act_dim, size=batch)] = True
    mean = np.where(far, rng.choice([-1.0, 1.0], size=(batch, act_dim)) * rng.uniform(5.0, 15.0, size=(batch, act_dim)),
                    rng.uniform(-1.2, 1.2, size=(batch, act_dim)))
    log_std = rng.uniform(-5.0, -1.0, size=(batch, act_dim))
    return f32(mean), f32(log_std)


def sampled_log_probs(rng: np.random.Generator, shape: tuple[int, ...], act_dim: int) -> np.ndarray:
    """log pi(a|s) of actions a squashed Gaussian actor samples, shape (..., B): what the losses receive."""
    batch = shape[-1]
    mean, log_std = actor_outputs(rng, batch, act_dim)
    noise = torch.as_tensor(f32(rng.standard_normal((*shape, act_dim))))
    with torch.no_grad():
        _, log_probs = squashed_gaussian_sample_and_log_prob(torch.as_tensor(mean), torch.as_tensor(log_std), noise)
    return log_probs.numpy().astype(np.float32)


def random_gamma(rng: np.random.Generator) -> float:
    return round(float(rng.uniform(0.9, 0.995)), 3)


def random_alpha(rng: np.random.Generator) -> float:
    """A temperature as auto-tuning visits them (0.01 to 1)."""
    return round(math.exp(float(rng.uniform(math.log(0.01), math.log(1.0)))), 4)


def episode_end_flags(rng: np.random.Generator, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """terminated, truncated (B,) of transitions drawn from a replay buffer: most continue; every
    kind of ending occurs (terminated only, truncated only, both) and at least 3 transitions continue."""
    kind = rng.choice(4, size=batch, p=[0.6, 0.2, 0.15, 0.05])   # continue, terminated, truncated, both
    kind[rng.permutation(batch)[:6]] = [1, 2, 3, 0, 0, 0]
    return (kind == 1) | (kind == 3), (kind == 2) | (kind == 3)


def next_q_values(rng: np.random.Generator, num_critics: int, batch: int) -> np.ndarray:
    """Q_targ_e(s', a') (E, B): one underlying value per transition, each critic off by its own error."""
    scale = float(rng.uniform(5.0, 100.0))                     # returns of the handout's envs
    values = rng.normal(0.5 * scale, scale, size=batch)
    return f32(values + rng.normal(0.0, 0.05 * scale, size=(num_critics, batch)))


def replay_batch(rng: np.random.Generator, num_critics: int, batch: int | None = None) -> dict:
    """The inputs of critic_backup for one replay batch, and its truncated flags (not an argument)."""
    batch = batch_size(rng) if batch is None else batch
    terminated, truncated = episode_end_flags(rng, batch)
    return dict(rewards=f32(rng.normal(rng.uniform(-1.0, 3.0), rng.uniform(0.5, 2.0), size=batch)),
                terminated=terminated, truncated=truncated,
                next_q_values=next_q_values(rng, num_critics, batch),
                next_log_probs=sampled_log_probs(rng, (batch,), action_dim(rng, multi=False)))


def sampled_q_values(rng: np.random.Generator, num_samples: int, batch: int) -> np.ndarray:
    """Q(s_i, a_ni) (N, B): a value per state, varying with the sampled action around it."""
    scale = float(rng.uniform(5.0, 100.0))
    state_values = rng.normal(0.5 * scale, scale, size=batch)
    return f32(state_values + rng.normal(0.0, 0.1 * scale, size=(num_samples, batch)))


def action_box(rng: np.random.Generator, act_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """An env's action box: symmetric like MuJoCo's ([-3, 3] for InvertedPendulum), sometimes shifted."""
    half = rng.uniform(0.5, 3.0, size=act_dim)
    center = np.where(rng.random(act_dim) < 0.3, rng.uniform(-1.0, 1.0, size=act_dim), 0.0)
    return f32(center - half), f32(center + half)


def agent_batch(rng: np.random.Generator, batch: int, obs_dim: int, low: np.ndarray, high: np.ndarray) -> dict:
    """One replay batch as SACAgent.update receives it: env-unit actions inside the box, bool terminated
    (truncated transitions come with terminated False: they bootstrap)."""
    terminated, _ = episode_end_flags(rng, batch)
    observations = f32(rng.normal(size=(batch, obs_dim)))
    next_observations = f32(observations + rng.normal(0.0, 0.1, size=(batch, obs_dim)))
    return dict(observations=observations, actions=f32(rng.uniform(low, high, size=(batch, len(low)))),
                rewards=f32(rng.normal(1.0, 1.0, size=batch)), next_observations=next_observations,
                terminated=terminated)


def measure_tanh_corrections(seed: int = 0, draws: int = 20) -> None:
    """Prints how far each way of writing log pi(a|s) lands from float64, in both regimes (the numbers
    of the module docstring): python -m grader.suites.hw3.sac_inputs"""
    import torch.nn.functional as F

    corrections = {
        "stable (reference)": lambda u: 2 * (math.log(2) - u - F.softplus(-2 * u)),
        "|u| form": lambda u: 2 * (math.log(2) - u.abs() - torch.log1p(torch.exp(-2 * u.abs()))),
        "TanhTransform": lambda u: torch.distributions.transforms.TanhTransform().log_abs_det_jacobian(u, torch.tanh(u)),
        "naive log(1 - tanh^2)": lambda u: torch.log(1 - torch.tanh(u) ** 2),
        "log(1 - tanh^2 + 1e-6)": lambda u: torch.log(1 - torch.tanh(u) ** 2 + 1e-6),
    }
    rng = np.random.default_rng(seed)
    for regime, outputs, noise in (("moderate", actor_outputs, moderate_noise),
                                   ("saturated", saturated_actor_outputs, lambda r, s: f32(r.standard_normal(s)))):
        worst = dict.fromkeys(corrections, 0.0)
        for _ in range(draws):
            mean, log_std = (torch.as_tensor(x) for x in outputs(rng, 64, 6))
            u = mean + log_std.exp() * torch.as_tensor(noise(rng, (64, 6)))
            gaussian = torch.distributions.Normal(mean, log_std.exp()).log_prob(u)
            exact = (gaussian.double() - corrections["stable (reference)"](u.double())).sum(-1)
            for name, correction in corrections.items():
                error = ((gaussian - correction(u)).sum(-1).double() - exact).abs().max().item()
                worst[name] = max(worst[name], error)
        print(f"{regime}: max |log pi - float64| over {draws} x 64 x 6 draws: "
              + ", ".join(f"{name} {error:.2g}" for name, error in worst.items()))


if __name__ == "__main__":
    measure_tanh_corrections()
