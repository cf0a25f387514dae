"""Build the directory the worker imports from: instructor edition + the student's editable files.

    stage/
      common/                 the course's shared layer (instructor edition)
      grader/wire.py, grader/sandbox/worker.py   the worker's own code; no harness, no suites
      <package>/              the homework package, its student-editable files replaced by the
                              submission's versions; public tests only when running them

Only the files the manifest lists are read from a submission. A zip is extracted with checks
(no absolute paths, no `..`, no symlinks, capped sizes); a directory is read without following
symlinks. A file the submission lacks becomes a module that fails on import with a message,
never the reference solution.
"""
from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from grader.manifest import REPO_ROOT, Homework

MAX_FILE_BYTES = 5 * 2**20
MAX_ZIP_BYTES = 200 * 2**20
MAX_ZIP_ENTRIES = 5000
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
WORKER_FILES = ("grader/__init__.py", "grader/wire.py", "grader/sandbox/__init__.py", "grader/sandbox/worker.py")


class SubmissionError(ValueError):
    """The submission cannot be read safely (bad zip entry, symlink, oversized file)."""


def stage(homework: Homework, submission: Path | None, dest: Path, public_tests: bool = False) -> list[str]:
    """Fill `dest` (an empty directory) and return notes for the student (missing files...)."""
    dest.mkdir(parents=True, exist_ok=True)
    if (REPO_ROOT / "common").is_dir():
        shutil.copytree(REPO_ROOT / "common", dest / "common", ignore=_IGNORE)
    for name in WORKER_FILES:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / name, dest / name)
    ignore_tests = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", *(() if public_tests else ("tests",)))
    shutil.copytree(homework.package_dir, dest / homework.package, ignore=ignore_tests)
    notes = []
    if submission is not None:
        notes = _overlay(homework, Path(submission), dest)
    _make_world_readable(dest)
    return notes


def _overlay(homework: Homework, submission: Path, dest: Path) -> list[str]:
    if submission.is_file() and zipfile.is_zipfile(submission):
        extracted = dest.parent / "extracted"
        extract_zip(submission, extracted)
        submission = extracted
    elif not submission.is_dir():
        raise SubmissionError(f"{submission}: expected a directory or a .zip file")
    notes = []
    for name in homework.files:
        source = find_submitted_file(submission, name)
        target = dest / name
        if source is None:
            notes.append(f"{name} is missing from the submission: tests that use it fail")
            target.write_text(f"raise ImportError({name!r} ' was not found in your submission')\n")
            continue
        target.write_bytes(source.read_bytes())
    return notes


def find_submitted_file(root: Path, name: str) -> Path | None:
    """`root/name`, else the shallowest regular file whose path ends with `name` or its basename
    (students zip the release folder, or upload flat files). Never follows a symlink."""
    direct = root / name
    if _regular_inside(direct, root):
        return direct
    wanted = PurePosixPath(name)
    best = None
    for directory, subdirs, files in os.walk(root):  # os.walk does not descend into symlinked dirs
        subdirs[:] = [d for d in subdirs if not d.startswith(".") and d != "__pycache__"]
        for file in files:
            path = Path(directory) / file
            rel = PurePosixPath(path.relative_to(root).as_posix())
            suffix_match = rel.parts[-len(wanted.parts):] == wanted.parts
            if (suffix_match or file == wanted.name) and _regular_inside(path, root):
                rank = (not suffix_match, len(rel.parts))
                if best is None or rank < best[0]:
                    best = (rank, path)
    return None if best is None else best[1]


def _regular_inside(path: Path, root: Path) -> bool:
    """A regular file (not a symlink), under the size cap, whose real path stays inside `root`."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    if info.st_size > MAX_FILE_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    return Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(root)))


def extract_zip(archive: Path, dest: Path) -> None:
    """Extract `archive` refusing anything that could write outside `dest` or exhaust the disk."""
    dest.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        entries = zf.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise SubmissionError(f"the zip has {len(entries)} entries, more than {MAX_ZIP_ENTRIES}")
        total = 0
        for entry in entries:
            name = PurePosixPath(entry.filename.replace("\\", "/"))
            mode = entry.external_attr >> 16
            if name.is_absolute() or ".." in name.parts or ":" in entry.filename:
                raise SubmissionError(f"the zip entry {entry.filename!r} points outside the submission")
            if stat.S_ISLNK(mode):
                raise SubmissionError(f"the zip entry {entry.filename!r} is a symbolic link")
            total += entry.file_size
            if entry.file_size > MAX_FILE_BYTES or total > MAX_ZIP_BYTES:
                raise SubmissionError(f"the zip entry {entry.filename!r} is too large")
            target = dest.joinpath(*name.parts)
            if entry.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(entry) as src:
                data = src.read(MAX_FILE_BYTES + 1)  # never trust the declared size
            if len(data) > MAX_FILE_BYTES:
                raise SubmissionError(f"the zip entry {entry.filename!r} is too large")
            target.write_bytes(data)


def _make_world_readable(root: Path) -> None:
    """The worker runs as `nobody`: it must read (never write) the staged tree."""
    for directory, _, files in os.walk(root):
        os.chmod(directory, 0o755)
        for file in files:
            os.chmod(os.path.join(directory, file), 0o644)
