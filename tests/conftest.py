"""Fixtures shared by the project's own tests."""
import os
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest

PLANTED_TEST = "test_planted_change_is_graded_as_its_kind_requires"
# Mutant gradings are subprocesses held to one CPU each by their sandbox: two at a time keep both of
# CI's cores busy (halving the mutant tests' wall time) without changing what any single grading sees.
MUTANT_WORKERS = int(os.environ.get("DEEPRL_MUTANT_WORKERS", "2"))


@pytest.fixture(scope="module")
def graded_mutants(request):
    """name -> (problem, results) for every mutant of the calling test module that this session selected,
    each graded once with the fixed seed crc32(name) (a red run is reproducible), two at a time."""
    module = request.module
    names = [item.callspec.params["name"] for item in request.session.items
             if item.module is module and getattr(item, "originalname", "") == PLANTED_TEST]
    by_name = {m.name: m for m in module.mutants.MUTANTS}

    def grade(name):
        return name, module.mutants.run(by_name[name], seed=zlib.crc32(name.encode()))

    with ThreadPoolExecutor(max_workers=max(1, MUTANT_WORKERS)) as pool:
        return dict(pool.map(grade, names))
