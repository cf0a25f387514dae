"""`python -m grader bundle HW OUT.zip`: a Gradescope autograder for one homework.

Gradescope's autograder format (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
the zip's root holds `setup.sh` (run once, as root, when Gradescope builds the grading image from
its Ubuntu base) and `run_autograder` (run for every submission, in /autograder); the whole zip is
extracted to /autograder/source, the student's files arrive in /autograder/submission, and
/autograder/results/results.json must exist when run_autograder ends.

The zip holds what grading this homework needs and nothing else:
    setup.sh, run_autograder      (written from the templates below)
    pyproject.toml, README.md, release.yaml
    common/, grader/              (the release's selection: no instructor tools such as check.py)
    grader/suites/<hw>/           (this homework's hidden suite only, never another homework's)
    <package>/                    (the instructor edition, reference included; no notebooks,
                                   figures or Markdown: the grader stages code only), and each
                                   package the manifest's `uses` names (staged for the worker as
                                   its solved edition, whatever the student's earlier homework)
Files come from `git ls-files` in a git checkout (no untracked scratch, no runs/, no .venv), else
from a walk that drops build litter and editor backups, as the grader's staging does. The bundle is
not a git checkout: on Gradescope, staging walks it.

setup.sh installs Python 3.11 (the image's, else deadsnakes), bubblewrap, the CPU build of the
pinned torch and then the bundled tree (`pip install -e`), into a venv outside /autograder/source.
run_autograder grades with `python -m grader grade HW --submission ... --out ...`; every path is an
environment variable, so a test can run it against a simulated /autograder in a temp dir:

    AUTOGRADER_ROOT (/autograder), AUTOGRADER_SOURCE ($AUTOGRADER_ROOT/source),
    AUTOGRADER_SUBMISSION ($AUTOGRADER_ROOT/submission),
    AUTOGRADER_RESULTS ($AUTOGRADER_ROOT/results/results.json),
    DEEPRL_PYTHON (the venv's python), DEEPRL_SANDBOX (auto | require | off), DEEPRL_SEED (optional)

Sandbox. Gradescope runs the container as root, and a Docker container often cannot create the
namespaces bubblewrap needs. DEEPRL_SANDBOX=auto (the default) probes bwrap: when it works the
grade is sandboxed as anywhere else; when it does not, run_autograder says so in its output (the
instructor's "Autograder Output") and passes `--unsandboxed` explicitly, after making the hidden
suite and the results folder unreadable to other users (mode 700): the fallback worker runs as an
unprivileged uid, with the grader's resource limits, and can read only world-readable files.
DEEPRL_SANDBOX=require never falls back (no bwrap: results.json with score 0 and the reason);
DEEPRL_SANDBOX=off always grades unsandboxed.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

from grader.harness.staging import instructor_files
from grader.manifest import REGISTRY, REPO_ROOT, Homework, ManifestError, find_homework
from grader.release import is_excluded, load_config

ROOT_FILES = ("pyproject.toml", "README.md", "release.yaml")
# not needed to grade (the grader stages code only) and the bulk of a homework folder
SKIPPED_SUFFIXES = (".md", ".ipynb", ".png", ".jpg", ".jpeg", ".gif", ".mp4", ".pdf")
DEFAULT_VENV = "/opt/deeprl-course-venv"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
ZIP_DATE = (2024, 1, 1, 0, 0, 0)  # fixed: the same tree gives the same zip


class BundleError(ValueError):
    """The homework cannot be bundled (no hidden suite, a suite outside the homework's tree...)."""


def bundle_files(homework: Homework) -> dict[str, Path]:
    """Archive name -> file on disk, for everything the autograder needs besides the two scripts."""
    if not homework.suite_dir.is_dir():
        raise BundleError(f"{homework.id}: no hidden suite at {homework.suite_dir}: nothing to grade with")
    try:
        suite = homework.suite_dir.resolve().relative_to(homework.root.resolve()).as_posix()
    except ValueError:
        raise BundleError(f"{homework.id}: the hidden suite {homework.suite_dir} is outside {homework.root}") from None
    excluded = load_config(REPO_ROOT)["exclude"]  # release.yaml's list, without its grader/suites/** rule
    files = {name: REPO_ROOT / name for name in ROOT_FILES if (REPO_ROOT / name).is_file()}
    for top in ("common", "grader"):
        for rel in instructor_files(REPO_ROOT, top):
            if not rel.startswith("grader/suites/") and not is_excluded(rel, excluded):
                files[rel] = REPO_ROOT / rel
    for package in (homework.package, *homework.uses):  # `uses`: the other homeworks this one imports
        for rel in instructor_files(homework.root, package):
            if not rel.endswith(SKIPPED_SUFFIXES) and not is_excluded(rel, excluded):
                files[rel] = homework.root / rel
    for rel in instructor_files(homework.root, suite):  # this homework's suite, and no other
        files[rel] = homework.root / rel
    return files


def homework_argument(homework: Homework) -> str:
    """What run_autograder passes to `grade`: the registered id, else the package folder in the bundle."""
    return homework.id if REGISTRY.get(homework.id) == homework.package else homework.package


def torch_pin() -> str:
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'"torch==([^"]+)"', text)
    if not match:
        raise BundleError("pyproject.toml pins no torch version (`torch==X.Y.Z`)")
    return match.group(1)


def write_bundle(hw: str, out: str | Path) -> dict:
    """Write the autograder zip for `hw` to `out`; return a summary (files, bytes)."""
    homework = find_homework(hw)
    with contextlib.redirect_stderr(io.StringIO()) as notes:  # staging's words for untracked files
        files = bundle_files(homework)
    for line in notes.getvalue().splitlines():
        print(line.replace("staging:", "bundle:").replace("are not staged (git add them if the worker needs them)",
                                                         "are left out of the bundle (git add them if grading "
                                                         "needs them)"), file=sys.stderr)
    scripts = {"setup.sh": setup_script(torch_pin()), "run_autograder": run_script(homework_argument(homework))}
    info = {"homework": homework.id, "package": homework.package, "grade_argument": homework_argument(homework),
            "commit": _commit(), "files": len(files) + len(scripts) + 1}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts.items():
            _add(archive, name, text.encode(), executable=True)
        _add(archive, "bundle.json", (json.dumps(info, indent=2) + "\n").encode())
        for name in sorted(files):
            _add(archive, name, files[name].read_bytes(), executable=bool(files[name].stat().st_mode & 0o100))
    return info | {"bytes": out.stat().st_size}


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    assert not PurePosixPath(name).is_absolute() and ".." not in PurePosixPath(name).parts
    entry = zipfile.ZipInfo(name, ZIP_DATE)
    entry.external_attr = (0o100755 if executable else 0o100644) << 16
    entry.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(entry, data)


def _commit() -> str:
    try:
        done = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if done.returncode != 0:
        return "unknown"
    changed = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
    return done.stdout.strip() + ("-dirty" if changed else "")  # tracked files as they are on disk, not HEAD


def setup_script(torch_version: str) -> str:
    return SETUP_SH.replace("@TORCH@", torch_version).replace("@VENV@", DEFAULT_VENV) \
        .replace("@TORCH_INDEX@", TORCH_CPU_INDEX)


def run_script(hw_argument: str) -> str:
    return RUN_AUTOGRADER.replace("@HW@", hw_argument).replace("@VENV@", DEFAULT_VENV)


SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04 base; it
# also works on 24.04). It installs Python 3.11, bubblewrap and the course's pinned stack into a venv
# outside the source folder. Written by `python -m grader bundle`.
set -euxo pipefail
SOURCE="${AUTOGRADER_SOURCE:-/autograder/source}"
VENV="${DEEPRL_VENV:-@VENV@}"
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends bubblewrap ca-certificates swig build-essential
if ! command -v python3.11 >/dev/null; then
    # Ubuntu 22.04 ships Python 3.10: take 3.11 from the deadsnakes archive
    apt-get install -y --no-install-recommends software-properties-common gpg-agent
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
fi
apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev

python3.11 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
# the CPU build of the pinned torch (the CUDA build is gigabytes and Gradescope has no GPU)
"$VENV/bin/python" -m pip install --index-url @TORCH_INDEX@ "torch==@TORCH@"
"$VENV/bin/python" -m pip install -e "$SOURCE"
"$VENV/bin/python" -c "import torch, gymnasium, grader; print('torch', torch.__version__, 'ready')"
# Whether bubblewrap can sandbox in this container (run_autograder decides again at grading time).
cd "$SOURCE" && "$VENV/bin/python" -c "from grader.sandbox.launcher import bwrap_works, _probe_bwrap; \
print('bubblewrap works here' if bwrap_works() else f'bubblewrap does not work here: {_probe_bwrap()}')" || true
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, in /autograder. It grades the submission with
# the bundled grader and writes Gradescope's results.json. Written by `python -m grader bundle`.
# Every path can be moved with an environment variable (a test runs it in a temp dir).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="${AUTOGRADER_SOURCE:-$ROOT/source}"
SUBMISSION="${AUTOGRADER_SUBMISSION:-$ROOT/submission}"
RESULTS="${AUTOGRADER_RESULTS:-$ROOT/results/results.json}"
PYTHON="${DEEPRL_PYTHON:-@VENV@/bin/python}"
SANDBOX="${DEEPRL_SANDBOX:-auto}"
HW="@HW@"

RESULTS_DIR="$(dirname "$RESULTS")"
mkdir -p "$RESULTS_DIR"
cd "$SOURCE" || exit 2
export PYTHONPATH="$SOURCE"   # the bundled grader, whatever else the interpreter has installed
if [ "$(id -u)" = 0 ]; then
    # the hidden suite, the reference and the results are root's alone (matters without bwrap)
    chmod 700 "$SOURCE" "$RESULTS_DIR"
fi

EXTRA=()
case "$SANDBOX" in
    require) ;;
    off)
        echo "run_autograder: DEEPRL_SANDBOX=off: grading without the sandbox (--unsandboxed)"
        EXTRA+=(--unsandboxed) ;;
    auto)
        if ! why="$("$PYTHON" -c 'from grader.sandbox.launcher import bwrap_works, _probe_bwrap
if not bwrap_works():
    print(_probe_bwrap()); raise SystemExit(1)' 2>&1)"; then
            echo "run_autograder: bubblewrap cannot sandbox in this container ($why)."
            echo "run_autograder: grading with --unsandboxed: the submission runs as an unprivileged user with the"
            echo "grader's resource limits; $SOURCE and $RESULTS_DIR are unreadable to it (mode 700)."
            EXTRA+=(--unsandboxed)
        fi ;;
    *)
        echo "run_autograder: DEEPRL_SANDBOX must be auto, require or off, not '$SANDBOX'" >&2
        exit 2 ;;
esac
if [ -n "${DEEPRL_SEED:-}" ]; then
    EXTRA+=(--seed "$DEEPRL_SEED")
fi

# A single uploaded .zip and no Python file beside it: grade the zip (the grader extracts it safely).
shopt -s nullglob globstar
ZIPS=("$SUBMISSION"/*.zip)
PYS=("$SUBMISSION"/**/*.py)
if [ "${#ZIPS[@]}" -eq 1 ] && [ "${#PYS[@]}" -eq 0 ]; then
    SUBMISSION="${ZIPS[0]}"
fi

"$PYTHON" -m grader grade "$HW" --submission "$SUBMISSION" --out "$RESULTS" "${EXTRA[@]}"
"""


def run(args) -> int:
    """CLI entry point (called by grader.cli)."""
    try:
        info = write_bundle(args.hw, args.out)
    except (BundleError, ManifestError) as err:
        print(f"bundle: {err}")
        return 2
    commit = info["commit"][:12] + ("-dirty" if info["commit"].endswith("-dirty") else "")
    print(f"wrote {args.out}: {info['files']} files, {info['bytes'] / 2**20:.1f} MiB, grading "
          f"`{info['grade_argument']}` (commit {commit}). Upload it as the assignment's autograder "
          "(Gradescope: Configure Autograder > Zip file upload).")
    return 0
