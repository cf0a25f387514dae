"""Shared fixtures of the release-tool tests.

`toy_course/` is a tiny instructor tree (one homework, hw0_toy, with solution markers, public tests,
a notebook source, a hidden suite and instructor-only files). It is a fixture, not a test package:
pytest must not collect its tests, which only pass from its own root.
"""
import shutil
from pathlib import Path

import pytest

collect_ignore = ["toy_course"]

TOY_COURSE = Path(__file__).resolve().parent / "toy_course"


@pytest.fixture
def toy_root(tmp_path: Path) -> Path:
    """A private, writable copy of the toy instructor tree."""
    root = tmp_path / "course"
    shutil.copytree(TOY_COURSE, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return root
