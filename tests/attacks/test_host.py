"""Attacks on the host and on other gradings, and the instructor tree as an attack surface.

- editor backups of the reference next to it (`functions.py~`) must never reach /course, and solution
  text in any staged file must stop the grading (not be graded around);
- without a working bubblewrap a grade is an error, unless the instructor chose `--unsandboxed`;
- two sandboxes at once share no uid (so no RLIMIT_NPROC, no keyring) and one cannot take the CPU
  from the other (cgroup cpu quota).
The sandbox's own attacks (keyring, user namespaces, memory in flight, ptys) are submissions in
submissions/, graded by test_attacks.py.
"""
import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from grader.harness.grade import run
from grader.manifest import find_homework
from grader.sandbox import cgroups, launcher

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "fixture_hw"
STARTER_SCORE = 0.0
BACKUPS = {"functions.py": ("functions.py~", "functions.py.orig"), "policy.py": ("policy.py.bak", "policy.py~")}


def grade(hw: Path, submission: Path, out: Path, unsandboxed: bool = False) -> tuple[int, dict]:
    args = argparse.Namespace(hw=str(hw), submission=str(submission), out=str(out), public=False,
                              unsandboxed=unsandboxed or not launcher.bwrap_works())
    status = run(args)
    return status, json.loads(out.read_text())


def instructor_copy(tmp_path: Path, git: bool) -> Path:
    """A copy of the fixture homework's instructor tree, as a git checkout (all committed) or not."""
    root = tmp_path / "instructor"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__"))
    if git:
        quiet = {"capture_output": True, "check": True, "cwd": root}
        subprocess.run(["git", "init", "-q"], **quiet)
        subprocess.run(["git", "add", "-A"], **quiet)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course"], **quiet)
    return root


# ------------------------------------------------------------------------------------- staging
@pytest.mark.parametrize("layout", ["git checkout", "plain copy"])
def test_editor_backups_of_the_reference_never_reach_the_sandbox(tmp_path, layout):
    """The submission runs whatever backup of the reference it finds next to its own files."""
    root = instructor_copy(tmp_path, git=layout == "git checkout")
    for original, backups in BACKUPS.items():
        for backup in backups:  # untracked, as an editor leaves them
            shutil.copyfile(root / "fixhw" / original, root / "fixhw" / backup)
    status, results = grade(root / "fixhw", HERE / "submissions" / "editor_backups", tmp_path / "results.json")
    assert status == 0
    assert results["score"] <= STARTER_SCORE, [(t["name"], t["score"]) for t in results["tests"]]


def test_solution_text_in_any_staged_file_refuses_to_grade(tmp_path):
    """A backup committed by mistake (tracked, so staged) or solution lines pasted into a data file:
    the grade stops with an instructor-facing error naming the files, never quoting them."""
    root = instructor_copy(tmp_path, git=True)
    package = root / "fixhw"
    shutil.copyfile(package / "functions.py", package / "functions.py.orig")
    reference = (package / "policy.py").read_text()
    solution_line = next(line for line in reference.splitlines() if "np.argmax(observations" in line)
    (package / "notes.txt").write_text(f"act:\n{solution_line}\n")
    subprocess.run(["git", "add", "-f", "fixhw/functions.py.orig", "fixhw/notes.txt"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "oops"], cwd=root, check=True)
    status, results = grade(package, HERE / "submissions" / "editor_backups", tmp_path / "results.json")
    assert status == 2 and results["score"] == 0
    assert "refusing to grade" in results["output"]
    assert "fixhw/functions.py.orig" in results["output"] and "fixhw/notes.txt" in results["output"]
    assert "argmax" not in results["output"] and "np.sum" not in results["output"]


# ------------------------------------------------------------------------------------- fallback
FAKE_BWRAP = {
    "broken": "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n",
    "slow": "#!/bin/sh\nsleep 10\n",  # an overloaded host: the probe times out
}


@pytest.mark.parametrize("kind", sorted(FAKE_BWRAP))
def test_a_grade_without_a_working_bwrap_is_an_error_unless_unsandboxed(tmp_path, monkeypatch, kind):
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text(FAKE_BWRAP[kind])
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    monkeypatch.setattr(launcher, "PROBE_TIMEOUT_S", 1)
    launcher._probe_bwrap.cache_clear()
    launcher.bwrap_works.cache_clear()
    try:
        args = argparse.Namespace(hw=str(FIXTURE / "fixhw"), submission=None, out=str(tmp_path / "r.json"),
                                  public=False, unsandboxed=False)
        assert run(args) == 2
        results = json.loads((tmp_path / "r.json").read_text())
        assert results["score"] == 0 and "--unsandboxed" in results["output"]
        assert ("Permission denied" if kind == "broken" else "did not finish") in results["output"]
        if kind == "broken":  # the instructor's explicit choice: graded, and the output says how
            args.unsandboxed = True
            assert run(args) == 0
            results = json.loads((tmp_path / "r.json").read_text())
            assert results["score"] == 10 and launcher.FALLBACK_WARNING in results["output"]
    finally:
        launcher._probe_bwrap.cache_clear()
        launcher.bwrap_works.cache_clear()


# ------------------------------------------------------------------------------------ neighbours
NEIGHBOUR = '''
import os, threading, time

_held = []

def hold_threads():
    """Start sleeping threads until the limits refuse one; keep them."""
    threading.stack_size(256 * 1024)  # small stacks: the process limit, not the address space, stops it
    stop = threading.Event()
    try:
        while len(_held) < 500:
            thread = threading.Thread(target=stop.wait, daemon=True)
            thread.start()
            _held.append(thread)
    except RuntimeError:
        pass
    return len(_held)

def start_threads(n):
    threads = [threading.Thread(target=time.sleep, args=(0.01,)) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return n

def busy(seconds, processes):
    """CPU seconds per wall second of `processes` busy children."""
    start = time.monotonic()
    pids = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            while time.monotonic() - start < seconds:
                pass
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    times = os.times()
    return (times.children_user + times.children_system) / (time.monotonic() - start)
'''


def test_concurrent_sandboxes_share_no_uid_thread_limit_or_cpu(tmp_path):
    if not launcher.bwrap_works() or os.getuid() != 0:
        pytest.skip("a uid per sandbox needs bubblewrap and a grader running as root")
    from grader.harness.client import StudentCodeError, Submission
    from grader.harness.staging import stage
    homework = find_homework(str(FIXTURE / "fixhw"))
    tmp_path.chmod(0o755)
    (tmp_path / "sub" / "fixhw").mkdir(parents=True)
    (tmp_path / "sub" / "fixhw" / "functions.py").write_text(NEIGHBOUR)
    limits = dataclasses.replace(homework.limits, test_timeout_s=30)
    sandboxes = []
    for name in ("a", "b"):
        stage(homework, tmp_path / "sub", tmp_path / name)
        sandboxes.append(Submission(launcher.SandboxSettings(tmp_path / name, limits), default_timeout=30))
    first, second = sandboxes
    try:
        held = first.call("fixhw.functions.hold_threads")
        assert held < 500  # its own limits stopped it (RLIMIT_NPROC / pids.max)
        try:
            assert second.call("fixhw.functions.start_threads", 8) == 8
        except StudentCodeError as err:
            pytest.fail(f"a sandbox holding {held} threads kept another from starting 8: {err}")
        assert first.call("os.getuid") != second.call("os.getuid")
        if cgroups.support() is None:  # the cpu quota: 3 busy processes get about `cpus` CPUs in all
            started = time.monotonic()
            ratio = second.call("fixhw.functions.busy", 2.0, 3)
            assert ratio <= limits.cpus + 0.3, f"3 busy processes used {ratio:.2f} CPUs (quota {limits.cpus})"
            assert time.monotonic() - started < 20
    finally:
        for sandbox in sandboxes:
            sandbox.discard()


def test_cgroups_are_used_where_the_host_allows_and_removed_after(tmp_path):
    """As root on a host with writable cgroups (CI), each worker gets one, and it is gone after."""
    reason = cgroups.support()
    if reason is not None:
        pytest.skip(f"no usable cgroup here: {reason}")
    from grader.harness.staging import stage
    homework = find_homework(str(FIXTURE / "fixhw"))
    tmp_path.chmod(0o755)
    stage(homework, None, tmp_path / "stage")
    worker = launcher.Worker(launcher.SandboxSettings(tmp_path / "stage", homework.limits))
    try:
        assert worker.cgroup is not None and worker.process.pid in worker.cgroup.pids()
        directories = list(worker.cgroup.dirs.values())
        limits, dirs = homework.limits, worker.cgroup.dirs
        expected = {  # file -> value the sandbox's limits imply (v1 names, or v2)
            ("memory", "memory.limit_in_bytes"): str(limits.memory_mb * 2**20),
            ("pids", "pids.max"): str(limits.max_processes + 4),
            ("cpu", "cpu.cfs_quota_us"): str(int(limits.cpus * cgroups.CPU_PERIOD_US)),
        } if worker.cgroup.version == 1 else {
            ("", "memory.max"): str(limits.memory_mb * 2**20), ("", "pids.max"): str(limits.max_processes + 4)}
        for (controller, name), value in expected.items():
            if controller in dirs:
                assert (dirs[controller] / name).read_text().strip() == value, name
        assert all(d.is_dir() for d in directories)
    finally:
        worker.kill()
    assert not any(d.exists() for d in directories)


def test_without_a_cgroup_the_output_says_so_and_todays_limits_remain(tmp_path, monkeypatch):
    """Not root, or /sys/fs/cgroup read-only: one line in the output, and the rlimits still hold."""
    from grader.harness.client import StudentCodeError, Submission
    from grader.harness.staging import stage
    monkeypatch.setattr(cgroups, "support", lambda: "the grader is not root")
    settings_kind = {"force_fallback": not launcher.bwrap_works()}
    notes = launcher.sandbox_notes(launcher.SandboxSettings(tmp_path, **settings_kind))
    assert launcher.NO_CGROUP_NOTE.format(reason="the grader is not root") in notes
    homework = find_homework(str(FIXTURE / "fixhw"))
    tmp_path.chmod(0o755)
    (tmp_path / "sub" / "fixhw").mkdir(parents=True)
    (tmp_path / "sub" / "fixhw" / "functions.py").write_text(
        "import numpy as np\ndef discounted_return(r, g):\n    return float(np.ones(10**10).sum())\n")
    stage(homework, tmp_path / "sub", tmp_path / "stage")
    submission = Submission(launcher.SandboxSettings(tmp_path / "stage", homework.limits, **settings_kind),
                            default_timeout=20)
    try:
        with pytest.raises(StudentCodeError, match="ran out of memory"):  # RLIMIT_AS
            submission.call("fixhw.functions.discounted_return", [1.0], 0.9)
        assert submission._worker is None or submission._worker.cgroup is None
    finally:
        submission.discard()
