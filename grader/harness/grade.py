"""`python -m grader grade HW [--submission PATH] [--out results.json] [--public]`.

    1. stage: instructor edition + the submission's editable files in a temp dir (staging.py);
    2. run the hidden suite with pytest in a trusted subprocess, hardened: plugin autoload off, only
       the grader's plugin and ini, rootdir and confcutdir pinned to the suite; the suite reaches the
       submission only through the sandboxed worker (plugin.py, client.py);
       with --public: run the homework's public tests inside the sandbox instead (feedback only);
    3. write Gradescope results.json atomically and print a table.
results.json is written whatever happens: an internal error gives a valid file with score 0.
"""
from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.harness.results import (error_results, format_table, gradescope_results, unreadable_submission_results,
                                    write_results)
from grader.harness.staging import SubmissionError, stage
from grader.manifest import REPO_ROOT, Homework, find_homework

HARNESS_INI = Path(__file__).with_name("pytest.ini")
MAX_PUBLIC_REPORTS = 500
PUBLIC_NOTE = "Public tests ran with your code inside the sandbox: feedback, not your grade."
# The harness's own memory beyond what the worker may use. Measured: grading the hw2 reference, the
# harness peaks at about 320 MB of data (VmData); a slip in a suite (a student array broadcast to
# (n, n)) must be a MemoryError in one test, never a machine that runs out of memory.
HARNESS_BASE_MB = 1024


def harness_memory_mb(limits) -> int:
    """Data-segment cap of the harness subprocess: the worker's memory limit plus HARNESS_BASE_MB."""
    return int(limits.memory_mb) + HARNESS_BASE_MB


def _cap_memory(megabytes: int):
    """preexec_fn: RLIMIT_DATA counts the private writable memory numpy and torch allocate, but not
    the address space libraries reserve (which RLIMIT_AS would, e.g. CUDA's)."""
    def cap():
        _die_with_parent()
        hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
        limit = megabytes * 2**20 if hard == resource.RLIM_INFINITY else min(megabytes * 2**20, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    return cap


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: when the grading process is killed (a batch's timeout, Ctrl-C), the kernel
    kills the harness too (and the harness's own death kills its sandbox, see launcher.py)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the harness's own time limits still end it
        pass


def run(args) -> int:
    """CLI entry point (called by grader.cli); returns the process exit status."""
    out = Path(args.out)
    if not args.public and _student_edition_without_suite(args.hw):
        print(f"The hidden tests of {args.hw} are not part of the student edition: they run when you submit. "
              f"For feedback now, run the public tests: python -m grader grade {args.hw} --public")
        return 0
    results, outcome = grade_and_write(args.hw, out, submission=args.submission, public=args.public,
                                       seed=getattr(args, "seed", None),
                                       force_fallback=getattr(args, "unsandboxed", False))
    if outcome == UNREADABLE:
        print(results["output"])
        return 0
    if outcome == ERROR:
        print(results["output"], file=sys.stderr)
        return 2
    print(format_table(results, public=args.public))
    if results["output"].strip():
        print("\n" + results["output"].strip())
    print(f"\nresults written to {out}")
    return 0


# What grade_and_write says happened (grader.batch turns it into a gradebook row's status).
GRADED, INCOMPLETE, UNREADABLE, ERROR = "graded", "incomplete", "unreadable", "error"
NOT_FINISHED = "grading did not finish normally"
STOPPED = "grading stopped: the whole suite took longer than"


def grade_and_write(hw: str, out: Path, submission: str | Path | None = None, public: bool = False,
                    seed: int | None = None, force_fallback: bool = False) -> tuple[dict, str]:
    """Grade, write results.json to `out` whatever happens, and return (results, outcome).

    outcome: GRADED; INCOMPLETE (the suite did not run to its end: a harness crash or the total time
    limit; tests not run score 0); UNREADABLE (the submission was refused, e.g. a malformed zip:
    score 0 and what to fix); ERROR (the grader's own failure: score 0 and the reason). Never raises
    for a grading problem."""
    started = time.monotonic()
    try:
        results = grade(find_homework(hw), submission=submission, public=public, seed=seed,
                        force_fallback=force_fallback)
        outcome = INCOMPLETE if (NOT_FINISHED in results["output"] or STOPPED in results["output"]) else GRADED
    except SubmissionError as err:
        results, outcome = unreadable_submission_results(str(err), time.monotonic() - started), UNREADABLE
    except Exception as err:  # the grader's own failure: still leave a valid results.json behind
        results, outcome = error_results(f"{type(err).__name__}: {err}", time.monotonic() - started), ERROR
    write_results(Path(out), results)
    return results, outcome


def _student_edition_without_suite(hw: str) -> bool:
    """True in the student edition (the release leaves out grader/suites/ whole) when `hw` has no suite."""
    if (REPO_ROOT / "grader" / "suites").exists():
        return False
    try:
        return not find_homework(hw).suite_dir.is_dir()
    except Exception:  # an unknown homework or a bad manifest: grade() reports it as usual
        return False


def grade(homework: Homework, submission: str | Path | None = None, public: bool = False,
          force_fallback: bool = False, seed: int | None = None) -> dict:
    """Grade `submission` (None: the instructor's reference) and return Gradescope results.

    `seed` drives the hidden tests' random inputs (the `rng` fixture). A new one each run means a
    student cannot learn fixed inputs from one submission's feedback and hard-code the answers.
    """
    started = time.monotonic()
    seed = secrets.randbelow(2**31) if seed is None else seed
    if not public:  # a grade never falls back to running without bwrap unless asked (--unsandboxed)
        from grader.sandbox.launcher import SandboxSettings, sandbox_notes
        sandbox_notes(SandboxSettings(Path(), homework.limits, force_fallback))  # raises SandboxUnavailable
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        tmp = Path(tmp)
        os.chmod(tmp, 0o755)  # the fallback worker runs as nobody and must reach the stage
        stage_dir = tmp / "stage"
        notes = stage(homework, None if submission is None else Path(submission), stage_dir, public_tests=public)
        if public:
            tests, warnings = _run_public(homework, stage_dir, force_fallback)
            notes.insert(0, PUBLIC_NOTE)
        else:
            tests, warnings = _run_hidden(homework, stage_dir, tmp, force_fallback, seed)
            notes.append(f"hidden tests' random inputs: seed {seed} (reproduce with --seed {seed})")
    return gradescope_results(tests, time.monotonic() - started, "\n".join(notes + warnings))


def _run_hidden(homework: Homework, stage_dir: Path, tmp: Path, force_fallback: bool, seed: int):
    if not homework.suite_dir.is_dir():
        raise FileNotFoundError(f"no hidden suite at {homework.suite_dir}")
    results_path, config_path = tmp / "harness-results.json", tmp / "harness-config.json"
    config_path.write_text(json.dumps({
        "stage": str(stage_dir), "results": str(results_path), "parts": homework.parts,
        "limits": dataclasses.asdict(homework.limits), "force_fallback": force_fallback,
        "input_seed": seed, "harness_memory_mb": harness_memory_mb(homework.limits)}))
    suite = str(homework.suite_dir)
    command = [sys.executable, "-P", "-m", "pytest", suite, "-c", str(HARNESS_INI), "--rootdir", suite,
               "--confcutdir", suite, "-p", "grader.harness.plugin", "--grader-config", str(config_path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join(dict.fromkeys([str(REPO_ROOT), str(homework.root)])))
    process = subprocess.Popen(command, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True, preexec_fn=_cap_memory(harness_memory_mb(homework.limits)))
    warnings = []
    try:
        log, _ = process.communicate(timeout=homework.limits.total_timeout_s + 60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        log, _ = process.communicate()
        warnings.append(f"{STOPPED} {homework.limits.total_timeout_s:g} s")
    if not results_path.exists():
        sys.stderr.write(log.decode("utf-8", "replace")[-5000:])
        raise RuntimeError(f"the harness ended (status {process.returncode}) without results")
    data = json.loads(results_path.read_text())
    if process.returncode not in (0, 1) or not data.get("finished"):
        sys.stderr.write(log.decode("utf-8", "replace")[-5000:])
        warnings.append(f"{NOT_FINISHED} (harness status {process.returncode}); "
                        "tests that did not run score 0")
    return data["tests"], list(data.get("warnings", [])) + warnings


def _run_public(homework: Homework, stage_dir: Path, force_fallback: bool):
    from grader.sandbox.launcher import (SANDBOX_STAGE, SandboxSettings, Worker, WorkerDied, WorkerTimeout,
                                         sandbox_notes)

    # feedback only: without bwrap (a student's laptop) it runs unsandboxed, with a warning
    settings = SandboxSettings(stage_dir, homework.limits, force_fallback, allow_fallback=True)
    worker = Worker(settings)
    root = SANDBOX_STAGE if worker.sandboxed else str(stage_dir)
    warnings = sandbox_notes(settings)
    try:
        reply = worker.request({"op": "run_public_tests", "path": f"{root}/{homework.package}/tests"},
                               timeout=homework.limits.total_timeout_s)
    except (WorkerTimeout, WorkerDied) as err:  # the student's code broke the run: their feedback, not our bug
        reply = {"ok": False, "error": {"message": str(err)}}
    finally:
        worker.kill()
    reports = reply.get("value") if reply.get("ok") else None
    if not isinstance(reports, list):
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        message = f"the public tests could not run to the end: {str(error.get('message', ''))[:2000]}"
        return [{"name": "public tests", "score": 0.0, "max_score": 1.0, "status": "failed", "output": message,
                 "visibility": "visible"}], warnings
    reports = reports[:MAX_PUBLIC_REPORTS]  # the worker's list: untrusted, keep results.json small
    tests = [{"name": "public " + str(r.get("name", "?")).rsplit("/", 1)[-1], "score": 1.0 if r.get("outcome") == "passed" else 0.0,
              "max_score": 1.0, "status": "passed" if r.get("outcome") == "passed" else "failed",
              "output": str(r.get("message", ""))[:3000], "visibility": "visible"}
             for r in reports if isinstance(r, dict)]
    return tests, warnings
