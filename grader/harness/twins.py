"""Twins: a reference object and the student's, holding the same weights, compared after the same update.

An update test builds the reference network (or agent) locally, the student's in the worker with
`submission.new`, copies the reference's weights into it (`submission.set_state(student,
state_of(local))`), runs one update on each with the same inputs, then compares the weights:

    got = student_parameters(submission, student, state_of(local), "the online network")
    assert_same_parameters(got, state_of(local), "after one update")

What every homework's twin tests share lives here (a bundle ships one suite, so suites cannot import
each other; they import this, which ships with the grader).
"""
from __future__ import annotations

import numpy as np

from grader.harness.api import assert_close, check_array

FORGIVEN_FRACTION = 0.005  # of the entries of one tensor: Adam's per-entry scaling amplifies float rounding


def remote_tensor(submission, array, requires_grad: bool = False):
    """A torch tensor in the worker (what the student's functions take)."""
    if requires_grad:
        return submission.new("torch.tensor", array, requires_grad=True)
    return submission.new("torch.as_tensor", array)


def state_of(module) -> dict:
    """The reference module's state_dict as numpy arrays (copies: a later update does not change them)."""
    return {name: value.detach().numpy().copy() for name, value in module.state_dict().items()}


def with_prefix(state: dict, prefix: str) -> dict:
    """The entries of `state` whose names start with `prefix` (one network of an agent, e.g. "q_network.")."""
    return {k: v for k, v in state.items() if k.startswith(prefix)}


def student_parameters(submission, student, expected: dict, what: str,
                       keep: str = "the networks as the course builds them") -> dict:
    """The student's parameters named like `expected`'s keys, each checked against its shape.
    keep: what the student must leave as given for the names to match (the message says)."""
    got = submission.get_state(student)
    if not isinstance(got, dict):
        raise AssertionError(f"{what}: state_dict() must return a dict of tensors")
    missing = sorted(set(expected) - set(got))
    assert not missing, f"{what}: state_dict() lacks {missing[:3]} (keep {keep})"
    return {k: check_array(got[k], f"{what} parameter {k}", shape=v.shape) for k, v in expected.items()}


def assert_same_parameters(got: dict, expected: dict, what: str, rtol: float = 1e-3, atol: float = 1e-5,
                           forgiven_fraction: float = FORGIVEN_FRACTION) -> None:
    """Parameters (dicts of arrays, `expected`'s names) equal up to float rounding. Adam divides each
    gradient entry by its own size, so an entry whose gradient is near 0 moves by an amount that
    rounding alone can change (a correct loss written another way adds in another order): up to
    `forgiven_fraction` of a tensor's entries are forgiven; a wrong update moves most of them.
    what: the start of the message ("after one update")."""
    for name, value in expected.items():
        mismatched = int((~np.isclose(got[name], value, rtol=rtol, atol=atol)).sum())
        if mismatched > int(forgiven_fraction * value.size):
            assert_close(got[name], value, f"{what}: parameter {name}", rtol=rtol, atol=atol)
