"""Each submission under submissions/ tries to cheat the grader on the fixture homework.

Every attack must score no more than the untouched starter, leave a valid results.json, and change
nothing outside the sandbox. Some attacks also report what they managed to see or do through an
exception message, which the test reads from the results (it must be: nothing).
"""
import argparse
import hashlib
import json
import os
import re
import stat
import zipfile
from pathlib import Path

import pytest

from grader.harness.grade import run
from grader.sandbox import cgroups
from grader.sandbox.launcher import bwrap_works

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURE = REPO / "tests" / "fixture_hw"
ATTACKS = sorted(p.name for p in (HERE / "submissions").iterdir() if p.is_dir())
STARTER_SCORE = 0.0  # tests/grader/test_grade.py proves the starter scores exactly this

# attack -> text that must appear in some test's output (what the attack saw or did: nothing)
REPORTED = {
    "read_secrets": "found: []",
    "write_grader_files": "written: []",
    "network": "reached: []",
    "grader_env_detection": "graded: False",
    "hostile_values": "returned a value that cannot be graded",
    "kernel_keyring": "keyring: []",
    "nested_user_namespace": "userns: []",
    "pty_pool": "ptys: []",
    "memfd_in_flight": "memory limit exceeded",
}
DAEMON_MARKER = "attack-daemon-marker-7f3a"
# Without bubblewrap these would really damage the machine running the tests (rewrite the grader,
# fill the disk, fork-bomb as root): the fallback is not a sandbox, so they only run inside one.
NEEDS_SANDBOX = {"write_grader_files", "fork_bomb_and_daemon", "resource_bombs", "kernel_keyring",
                 "nested_user_namespace", "pty_pool"}
# memory that only a cgroup counts: without one (not root) the attack would really hold it
NEEDS_CGROUP = {"memfd_in_flight"}
# files an attack might try to rewrite (others in grader/ are being edited by other work in progress)
GUARDED = (REPO / "grader" / "harness", REPO / "grader" / "sandbox", REPO / "grader" / "wire.py",
           REPO / "grader" / "manifest.py", FIXTURE)


def grade_cli(submission, out: Path) -> dict:
    args = argparse.Namespace(hw=str(FIXTURE / "fixhw"), submission=str(submission), out=str(out), public=False,
                              unsandboxed=not bwrap_works())  # without bwrap: the fallback, chosen explicitly
    assert run(args) in (0, 2)
    return strict_json(out.read_text())  # always written, always valid JSON


def strict_json(text: str) -> dict:
    """Parse like a strict JSON reader (Gradescope's): no NaN or Infinity, no control characters or
    lone surrogates in what the student and the instructor's terminal are shown."""
    def refuse(constant):
        raise AssertionError(f"results.json holds {constant}, which is not JSON")
    results = json.loads(text, parse_constant=refuse)
    for test in results["tests"]:
        assert not UNSAFE_TEXT.search(test["output"] + test["name"]), repr(test["output"][:300])
    return results


UNSAFE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\ud800-\udfff]")


def fingerprint(*roots: Path) -> str:
    """Hash of every file under the grader and the fixture homework (attacks must not change any)."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_scores_no_more_than_the_starter(attack, tmp_path, monkeypatch):
    if attack in NEEDS_SANDBOX and not bwrap_works():
        pytest.skip("bubblewrap is not usable here; this attack would harm the host")
    if attack in NEEDS_CGROUP and cgroups.support() is not None:
        pytest.skip(f"no per-worker cgroup here ({cgroups.support()}): only a memory cgroup stops this attack")
    # variables an attack could use to tell it is graded, or steal
    monkeypatch.setenv("GRADESCOPE", "1")
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GRADER_ATTACK_SECRET", "hunter2")
    before = fingerprint(*GUARDED)
    results = grade_cli(HERE / "submissions" / attack, tmp_path / "out" / "results.json")
    assert results["score"] <= STARTER_SCORE, [(t["name"], t["score"], t["output"][:200]) for t in results["tests"]]
    assert len(results["tests"]) == 6
    if bwrap_works():  # the fallback can see and write the disk: only the score is checked there
        assert fingerprint(*GUARDED) == before
    assert sorted(os.listdir(tmp_path / "out")) == ["results.json"]
    if attack in REPORTED and bwrap_works():
        outputs = "\n".join(t["output"] for t in results["tests"])
        assert REPORTED[attack] in outputs, outputs
    if attack == "fork_bomb_and_daemon":
        assert processes_with(DAEMON_MARKER) == []


@pytest.mark.parametrize("name, mode", [("../../escape.py", 0o100644), ("/tmp/escape_abs.py", 0o100644),
                                        ("fixhw/functions.py", stat.S_IFLNK | 0o777)])
def test_zip_with_traversal_or_symlink_is_refused(tmp_path, name, mode):
    archive = tmp_path / "deep" / "er" / "submission.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        zf.writestr(info, "raise SystemExit(0)\n" if mode & 0o100000 and not stat.S_ISLNK(mode)
                    else str(FIXTURE / "suites" / "fixhw" / "test_functions.py"))
        zf.writestr("fixhw/policy.py", "x = 1\n")
    results = grade_cli(archive, tmp_path / "results.json")
    assert results["score"] == 0 and results["output"].startswith("Your submission could not be read")
    assert not (tmp_path / "escape.py").exists() and not Path("/tmp/escape_abs.py").exists()
