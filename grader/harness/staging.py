"""Build the directory the worker imports from: instructor edition + the student's editable files.

    stage/
      common/                 the course's shared layer (instructor edition)
      grader/wire.py, grader/sandbox/worker.py   the worker's own code; no harness, no suites
      <package>/              the homework package, its student-editable files replaced by the
                              submission's versions; public tests only when running them

Only the files the manifest lists are read from a submission. A zip is extracted with checks
(no absolute paths, no `..`, no symlinks, no duplicate names, sizes capped on the bytes actually
decompressed), and only the entries that could be a manifest file are written; a directory is read
without following symlinks. A file the submission lacks becomes a module that fails on import with
a message, never the reference solution.

Everything else is the *student edition* of the instructor's files, because the worker can read all
of /course: the files the release would ship (`grader.release.source_files`, minus release.yaml's
exclusions, so no runs/ with trained reference weights, no build litter), with solution markers in
any other file stubbed as the release does, and no notebooks (they may hold solution outputs).
The instructor's versions of the manifest files are staged only when grading the reference.
"""
from __future__ import annotations

import os
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from grader.manifest import REPO_ROOT, Homework
from grader.release import is_excluded, load_exclusions, source_files
from grader.starter import has_markers, make_starter

MAX_FILE_BYTES = 5 * 2**20
MAX_ZIP_BYTES = 200 * 2**20
MAX_ZIP_ENTRIES = 5000
WORKER_FILES = ("grader/__init__.py", "grader/wire.py", "grader/sandbox/__init__.py", "grader/sandbox/worker.py")


class SubmissionError(ValueError):
    """The submission cannot be read safely (bad zip entry, symlink, oversized file)."""


def stage(homework: Homework, submission: Path | None, dest: Path, public_tests: bool = False) -> list[str]:
    """Fill `dest` (an empty directory) and return notes for the student (missing files...)."""
    dest.mkdir(parents=True, exist_ok=True)
    _copy_student_edition(REPO_ROOT, "common", dest, homework.id, skip=())
    for name in WORKER_FILES:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / name, dest / name)
    skip = tuple(homework.files) + (() if public_tests else (f"{homework.package}/tests/",))
    _copy_student_edition(homework.root, homework.package, dest, homework.id, skip=skip)
    notes = []
    if submission is None:  # the reference: the instructor's own versions of the student files
        for name in homework.files:
            if (homework.root / name).is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(homework.root / name, dest / name)
    else:
        notes = _overlay(homework, Path(submission), dest)
    _make_world_readable(dest)
    return notes


def _copy_student_edition(root: Path, top: str, dest: Path, hw: str, skip: tuple[str, ...]) -> None:
    """Copy the files under `root/top` that the student edition holds, as it holds them.

    `skip` names files, or folders ending in "/", that are not copied."""
    patterns = load_exclusions(root)
    for rel in source_files(root):
        if not rel.startswith(top + "/") or is_excluded(rel, patterns) or rel.endswith(".ipynb"):
            continue
        if rel in skip or any(s.endswith("/") and rel.startswith(s) for s in skip):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".py"):
            source = (root / rel).read_text(encoding="utf-8")
            if has_markers(source):  # a solution outside the student files: stub it like the release
                notebook = rel == f"{top}/notebook.py"
                source = make_starter(source, rel, hw=hw, allow_module_level=notebook).text
            target.write_text(source, encoding="utf-8")
        else:
            shutil.copyfile(root / rel, target)


def _overlay(homework: Homework, submission: Path, dest: Path) -> list[str]:
    if submission.is_file() and zipfile.is_zipfile(submission):
        extracted = dest.parent / "extracted"
        extract_zip(submission, extracted, wanted={PurePosixPath(name).name for name in homework.files})
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
        try:
            target.write_bytes(source.read_bytes())
        except OSError as err:
            raise SubmissionError(f"{name} could not be read ({type(err).__name__})") from None
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


def extract_zip(archive: Path, dest: Path, wanted: set[str] | None = None) -> None:
    """Extract `archive` refusing anything that could write outside `dest` or exhaust the disk.

    Every entry is checked; with `wanted` (file names), only the files of those names are written.
    Sizes are counted on the bytes actually decompressed: the sizes a zip declares can lie."""
    dest.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            _extract_checked(zf, dest, wanted)
    except SubmissionError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, RuntimeError,
            NotImplementedError, ValueError) as err:  # corrupt, encrypted, odd compression, bad names
        raise SubmissionError(f"the zip could not be extracted ({type(err).__name__}: {str(err)[:200]})") from None


def _extract_checked(zf: zipfile.ZipFile, dest: Path, wanted: set[str] | None) -> None:
    entries = zf.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise SubmissionError(f"the zip has {len(entries)} entries, more than {MAX_ZIP_ENTRIES}")
    seen, total = set(), 0
    for entry in entries:
        name = PurePosixPath(entry.filename.replace("\\", "/"))
        mode = entry.external_attr >> 16
        if name.is_absolute() or ".." in name.parts or ":" in entry.filename:
            raise SubmissionError(f"the zip entry {entry.filename!r} points outside the submission")
        if stat.S_ISLNK(mode):
            raise SubmissionError(f"the zip entry {entry.filename!r} is a symbolic link")
        if name.as_posix() in seen:
            raise SubmissionError(f"the zip holds {entry.filename!r} twice")
        seen.add(name.as_posix())
        if entry.file_size > MAX_FILE_BYTES:
            raise SubmissionError(f"the zip entry {entry.filename!r} is too large")
        if entry.is_dir() or not name.parts or (wanted is not None and name.name not in wanted):
            continue
        with zf.open(entry) as src:
            data = src.read(MAX_FILE_BYTES + 1)  # never trust the declared size
        total += len(data)
        if len(data) > MAX_FILE_BYTES or total > MAX_ZIP_BYTES:
            raise SubmissionError(f"the zip entry {entry.filename!r} is too large")
        target = dest.joinpath(*name.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # "a/b.py" and "A/../a/b.py"-like collisions, or a file where a folder is
            raise SubmissionError(f"the zip entry {entry.filename!r} collides with another entry")
        target.write_bytes(data)


def _make_world_readable(root: Path) -> None:
    """The worker runs as `nobody`: it must read (never write) the staged tree."""
    for directory, _, files in os.walk(root):
        os.chmod(directory, 0o755)
        for file in files:
            os.chmod(os.path.join(directory, file), 0o644)
