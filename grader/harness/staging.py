"""Build the directory the worker imports from: instructor edition + the student's editable files.

    stage/
      common/                 the course's shared layer (instructor edition)
      grader/wire.py, grader/sandbox/worker.py   the worker's own code; no harness, no suites
      <package>/              the homework package, its student-editable files replaced by the
                              submission's versions; public tests only when running them
      <used package>/         each package the manifest's `uses` names (another homework this one
                              imports): its solved edition (reference code kept, marker comments
                              dropped), without its tests, so a grade never depends on the
                              student's own earlier homework

Only the files the manifest lists are read from a submission. A zip is extracted with checks
(no absolute paths, no `..`, no symlinks, no duplicate names, sizes capped on the bytes actually
decompressed), and only the entries that could be a manifest file are written; a directory is read
without following symlinks. A file the submission lacks becomes a module that fails on import with
a message, never the reference solution.

Everything else is the *student edition* of the instructor's files, because the worker can read all
of /course:
- only files git tracks when the instructor tree is a git checkout (`git ls-files`), so editor
  backups (`returns.py~`, `agent.py.orig`), patch leftovers and scratch files next to the reference
  never reach it; outside git (an installed copy, a Gradescope bundle) a walk of the tree that drops
  build litter and such backups;
- minus release.yaml's exclusions (no runs/ with trained reference weights), notebooks (they may
  hold solution outputs) and Markdown (documentation, with instructor-only blocks: the worker runs
  code, it needs none);
- with solution markers in any other file stubbed as the release does; the packages of other
  homeworks that the manifest `uses` are the exception: their solution code is kept, their marker
  comments dropped (`make_solved`), so hw4's MBPO runs on hw3's reference SAC whatever the student's
  hw3 was.
Then the whole stage, in every file type, is scanned with the release's leak check (solution lines
of the homework's reference, leftover markers): a hit refuses to grade (`SolutionInStage`, an
error for the instructor that names the files, never their text).
The instructor's versions of the manifest files are staged only when grading the reference.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tokenize
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from grader.manifest import REGISTRY, REPO_ROOT, Homework
from grader.release import LEFTOVER_MARKER, LITTER_DIRS, LITTER_SUFFIXES, MIN_SECRET_CHARS, is_excluded, \
    load_exclusions, secret_lines
from grader.starter import MarkerError, has_markers, make_solved, make_starter, strip_comments

MAX_FILE_BYTES = 5 * 2**20
MAX_ZIP_BYTES = 200 * 2**20
MAX_ZIP_ENTRIES = 5000
WORKER_FILES = ("grader/__init__.py", "grader/wire.py", "grader/sandbox/__init__.py", "grader/sandbox/worker.py")
NOT_STAGED_SUFFIXES = (".ipynb", ".md")
# editor backups, merge and patch leftovers, swap files: dropped when the tree is not a git checkout
BACKUP_NAME = re.compile(r".*~|.*\.(?:orig|rej|bak|backup|old|swp|swo|tmp)|\.#.*|#.*#", re.IGNORECASE)


class SubmissionError(ValueError):
    """The submission cannot be read safely (bad zip entry, symlink, oversized file)."""


class SolutionInStage(RuntimeError):
    """The stage holds solution text outside the graded files: the instructor tree must be fixed."""


def stage(homework: Homework, submission: Path | None, dest: Path, public_tests: bool = False) -> list[str]:
    """Fill `dest` (an empty directory) and return notes for the student (missing files...)."""
    dest.mkdir(parents=True, exist_ok=True)
    _copy_student_edition(REPO_ROOT, "common", dest, homework.id, skip=())
    for name in WORKER_FILES:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / name, dest / name)
    skip = tuple(homework.files) + (() if public_tests else (f"{homework.package}/tests/",))
    _copy_student_edition(homework.root, homework.package, dest, homework.id, skip=skip)
    for package in homework.uses:  # solved: hw4's grade must not depend on the student's own hw3
        _copy_student_edition(homework.root, package, dest, _homework_of(package, homework.id), skip=(f"{package}/tests/",),
                              solved=True)
    notes = []
    if submission is None:  # the reference: the instructor's own versions of the student files
        for name in homework.files:
            if (homework.root / name).is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(homework.root / name, dest / name)
    else:
        notes = _overlay(homework, Path(submission), dest)
    check_no_solution(homework, dest)
    _make_world_readable(dest)
    return notes


def _homework_of(package: str, default: str) -> str:
    """The id whose TODOs a package holds ("hw3" for hw3_qlearning_ac): it names the stubs' messages."""
    return next((hw for hw, name in REGISTRY.items() if name == package), default)


def instructor_files(root: Path, top: str) -> list[str]:
    """The files under `root/top` that may be staged (POSIX, relative to root, sorted): tracked
    files in a git checkout, else a walk without litter and editor backups (see the module docstring)."""
    tracked = _git_list(root, top, "--cached")
    if tracked is None:
        listed = []
        for folder, dirs, names in os.walk(root / top):
            dirs[:] = [d for d in dirs if d not in LITTER_DIRS]
            base = Path(folder).relative_to(root)
            listed += [(base / name).as_posix() for name in names if not BACKUP_NAME.fullmatch(name)]
    else:
        listed = tracked
        untracked = [rel for rel in _git_list(root, top, "--others", "--exclude-standard") or []
                     if not any(p in LITTER_DIRS or p.endswith(LITTER_SUFFIXES) for p in rel.split("/"))]
        if untracked:  # for the instructor's terminal, never the student's results
            shown = ", ".join(untracked[:5]) + (f" and {len(untracked) - 5} more" if len(untracked) > 5 else "")
            print(f"staging: {len(untracked)} untracked file(s) under {top}/ are not staged (git add them if the "
                  f"worker needs them): {shown}", file=sys.stderr)
    files = []
    for rel in listed:
        if any(p in LITTER_DIRS or p.endswith(LITTER_SUFFIXES) for p in rel.split("/")):
            continue
        path = root / rel
        if path.is_file() and not path.is_symlink():
            files.append(rel)
    return sorted(set(files))


def _git_list(root: Path, top: str, *options: str) -> list[str] | None:
    """`git ls-files` of `root/top` (paths relative to root), or None when root is not in a git checkout."""
    try:
        inside = subprocess.run(["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, text=True, timeout=60)
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", *options, "--", top],
                             capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name]


def check_no_solution(homework: Homework, stage_dir: Path) -> None:
    """Refuse a stage holding solution text outside the graded files (the student's, or the reference
    when grading it): the release's leak check (distinctive solution lines of the homework's reference,
    leftover markers) on every other staged file, text or binary."""
    graded = set(homework.files)
    # what the solved edition of a used homework shows is no secret of this one (hw5's offline agents
    # repeat hw3's DQN target line and optimizer steps): only lines found nowhere in those packages count
    secrets = secret_lines(homework.root, homework.package) - _code_lines(homework.root, homework.uses)
    found: dict[str, list[int]] = {}
    for path in sorted(p for p in stage_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(stage_dir).as_posix()
        if rel not in graded:
            rows = _solution_rows(rel, path.read_bytes(), secrets)
            if rows is not None:
                found[rel] = rows
    if found:  # which files and lines, never the text itself (the output may reach a student)
        where = "; ".join(rel + (f" line {', '.join(map(str, rows[:5]))}" + (" ..." if len(rows) > 5 else "")
                                 if rows else "") for rel, rows in sorted(found.items()))
        raise SolutionInStage(
            f"refusing to grade: staged instructor files hold solution text ({where}). Remove those files "
            "from the instructor tree (or stub them), or list them in release.yaml's exclude.")


def _code_lines(root: Path, packages: tuple[str, ...]) -> set[str]:
    """Whitespace-free code lines (comments dropped) of every Python file of `packages`, solutions included."""
    lines = set()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            try:
                code = strip_comments(path.read_text(encoding="utf-8"))
            except (MarkerError, SyntaxError, ValueError, UnicodeDecodeError):
                continue
            lines.update(re.sub(r"\s+", "", line) for line in code)
    return lines


def _solution_rows(rel: str, data: bytes, secrets: set[str]) -> list[int] | None:
    """Rows of `data` with a solution line or a leftover marker ([] for a hit in a binary file), or None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # binary: look for the solution lines anywhere in its bytes
        squeezed = re.sub(rb"\s+", b"", data).decode("latin-1")
        return [] if any(secret in squeezed for secret in secrets) else None
    lines = text.splitlines()
    if rel.endswith(".py"):
        try:
            lines = strip_comments(text)  # as the release's leak check: code, not comments
        except (MarkerError, SyntaxError, ValueError):
            pass
    rows = [row for row, line in enumerate(lines, start=1)
            if len(squeezed := re.sub(r"\s+", "", line)) >= MIN_SECRET_CHARS and any(s in squeezed for s in secrets)]
    if has_markers(text):
        comments = _comment_rows(text) if rel.endswith(".py") else None
        rows += [row for row, line in enumerate(text.splitlines(), start=1)
                 if LEFTOVER_MARKER.match(line) and (comments is None or row in comments)]
    return sorted(set(rows)) or None


def _comment_rows(source: str) -> set[int] | None:
    """Rows holding a comment token (a docstring may talk about markers), or None if it does not tokenize."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        return {t.start[0] for t in tokens if t.type == tokenize.COMMENT}
    except (tokenize.TokenError, SyntaxError):
        return None


def _copy_student_edition(root: Path, top: str, dest: Path, hw: str, skip: tuple[str, ...],
                          solved: bool = False) -> None:
    """Copy the files under `root/top` that the student edition holds, as it holds them (with `solved`,
    as the solved edition holds them: solution code kept, marker comments dropped).

    `skip` names files, or folders ending in "/", that are not copied."""
    patterns = load_exclusions(root)
    for rel in instructor_files(root, top):
        if not rel.startswith(top + "/") or is_excluded(rel, patterns) or rel.endswith(NOT_STAGED_SUFFIXES):
            continue
        if rel in skip or any(s.endswith("/") and rel.startswith(s) for s in skip):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".py"):
            source = (root / rel).read_text(encoding="utf-8")
            if has_markers(source):  # a solution outside the student files: stub it like the release
                notebook = rel == f"{top}/notebook.py"
                source = make_solved(source, rel, allow_module_level=notebook) if solved else \
                    make_starter(source, rel, hw=hw, allow_module_level=notebook).text
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
