"""Overhead of grading through the sandboxed harness versus plain in-process pytest.

Builds a 50-test function suite for the fixture homework (tests/fixture_hw), then times, in one run,
    harness:    grader.harness.grade.grade(...) on the reference: staging, the hardened pytest
                subprocess, one sandboxed worker reused across all 50 tests, results;
    in-process: `python -m pytest` on the same test file, whose `submission` fixture calls the
                reference functions directly in the test process (no sandbox, no wire).
Each is run --repeats times and the median wall clock is reported. The last line printed is
`ratio <harness/in-process>` (goal: at most 3.0).

    python benchmarks/grader_overhead.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.harness.grade import grade  # noqa: E402
from grader.manifest import find_homework  # noqa: E402

N_TESTS = 50

SUITE = '''
import numpy as np
import pytest

from fixhw.functions import discounted_return, normalize, reward_to_go
from grader.harness.api import assert_close, check_array, points

@pytest.mark.parametrize("case", range({n}))
@points(1, part="functions")
def test_function_matches_reference(submission, rng, case):
    rewards = rng.normal(size=64).astype(np.float32)
    name = ("discounted_return", "reward_to_go", "normalize")[case % 3]
    args = (rewards,) if name == "normalize" else (rewards, 0.97)
    expected = {{"discounted_return": discounted_return, "reward_to_go": reward_to_go, "normalize": normalize}}[name](*args)
    got = submission.call(f"fixhw.functions.{{name}}", *args)
    if name != "discounted_return":
        got = check_array(got, name, shape=(64,))
    assert_close(got, expected, name, rtol=1e-4, atol=1e-5)
'''.format(n=N_TESTS)

# The in-process variant: same test file, a `submission` that is the reference module itself.
PLAIN_CONFTEST = '''
import importlib
import zlib

import numpy as np
import pytest


class DirectSubmission:
    def call(self, target, *args, **kwargs):
        module, name = target.rsplit(".", 1)
        return getattr(importlib.import_module(module), name)(*args, **kwargs)


def pytest_configure(config):
    config.addinivalue_line("markers", "points(value, part, visibility): points")


@pytest.fixture
def submission():
    return DirectSubmission()


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
'''


def build(tmp: Path):
    shutil.copytree(REPO / "tests" / "fixture_hw" / "fixhw", tmp / "fixhw")
    manifest = tmp / "fixhw" / "submission.yaml"
    text = manifest.read_text().replace("functions: 6\n  policy: 4", f"functions: {N_TESTS}")
    manifest.write_text(text.replace("total_timeout_s: 120", "total_timeout_s: 300"))
    for suite_dir in (tmp / "suites" / "fixhw", tmp / "plain"):
        suite_dir.mkdir(parents=True)
        (suite_dir / "test_bench.py").write_text(SUITE)
    (tmp / "plain" / "conftest.py").write_text(PLAIN_CONFTEST)
    return find_homework(str(tmp / "fixhw"))


def time_harness(homework) -> float:
    start = time.perf_counter()
    results = grade(homework)
    elapsed = time.perf_counter() - start
    passed = sum(t["status"] == "passed" for t in results["tests"])
    assert passed == N_TESTS, f"harness: only {passed}/{N_TESTS} passed: {results['output']}"
    return elapsed


def time_in_process(tmp: Path) -> float:
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join([str(REPO), str(tmp)]))
    command = [sys.executable, "-P", "-m", "pytest", str(tmp / "plain"), "-q", "-p", "no:cacheprovider",
               "--rootdir", str(tmp / "plain"), "-c", os.devnull]
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, cwd=tmp, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0 and f"{N_TESTS} passed" in proc.stdout, proc.stdout[-2000:]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        tmp = Path(tmp)
        homework = build(tmp)
        harness, plain = [], []
        for _ in range(args.repeats):
            harness.append(time_harness(homework))
            plain.append(time_in_process(tmp))
    h, p = statistics.median(harness), statistics.median(plain)
    print(f"{N_TESTS} function tests, median of {args.repeats}:")
    print(f"  harness (sandboxed worker): {h:.2f} s  ({1000 * h / N_TESTS:.1f} ms/test)")
    print(f"  plain in-process pytest:    {p:.2f} s  ({1000 * p / N_TESTS:.1f} ms/test)")
    print(f"ratio {h / p:.2f}")


if __name__ == "__main__":
    main()
