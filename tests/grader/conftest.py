"""Shared helpers of the grader machinery tests: the fixture homework and a staged submission."""
from pathlib import Path

import pytest

from grader.manifest import find_homework

FIXTURE_ROOT = Path(__file__).resolve().parent.parent / "fixture_hw"
FIXTURE_PACKAGE = FIXTURE_ROOT / "fixhw"
STARTER = FIXTURE_ROOT / "starter"


@pytest.fixture(scope="session")
def homework():
    return find_homework(str(FIXTURE_PACKAGE))


@pytest.fixture
def staged_submission(homework, tmp_path):
    """Factory: stage a submission directory (None = reference) and return a live Submission proxy."""
    from grader.harness.client import Submission
    from grader.harness.staging import stage
    from grader.sandbox.launcher import SandboxSettings

    proxies = []

    def make(submission=None, force_fallback=False):
        tmp_path.chmod(0o755)
        stage_dir = tmp_path / f"stage{len(proxies)}"
        stage(homework, submission, stage_dir)
        # raw arrays: these tests check the wire itself (suites get StudentArray, see test_api_student_values.py)
        proxy = Submission(SandboxSettings(stage_dir, homework.limits, force_fallback), default_timeout=20,
                           wrap_arrays=False)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.discard()
