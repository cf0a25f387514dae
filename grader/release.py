"""`python -m grader release OUT [--hw HW ...] [--force]`: write the student edition.

The student edition is the instructor tree with
- every solution block and `# SOLUTION` line stubbed (grader/starter.py), prompt markers dropped;
- `notebook.ipynb` of each homework regenerated from its stubbed `notebook.py` (grader/notebooks.py);
- left out: the hidden suites (`grader/suites/`, always), whatever `release.yaml` lists (the project's
  own tests, benchmarks, CI, instructor-only tools and notes), and build litter (.git, __pycache__,
  runs/, virtual environments, build folders). With `--hw`, the other homework packages too.
Public tests (`<package>/tests/`), `submission.yaml` and the grader's CLI and harness stay, so a
student can run `python -m grader grade hw2 --public`.

Files come from `git ls-files --cached --others --exclude-standard` when the tree is a git checkout
(so .gitignore applies), otherwise from a walk of the tree. Every file is read and transformed in
memory first; OUT is touched only when the whole tree went through without a marker error.
OUT must be empty unless `--force`, which first removes everything in it except a `.git` folder
(so OUT can be a clone of the students' repository).

`find_leaks` scans a written release for solution lines and leftover markers (used by
`python -m grader check`).
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from grader.notebooks import NOTEBOOK, NOTEBOOK_SOURCE, check_blocks_within_cells, notebook_text
from grader.starter import MarkerError, has_markers, make_starter, parse_markers, strip_comments

REPO_ROOT = Path(__file__).resolve().parent.parent
RELEASE_CONFIG = "release.yaml"
# left out whatever release.yaml says: the hidden suites must never ship
ALWAYS_EXCLUDED = ("grader/suites/**", RELEASE_CONFIG)
# never part of any edition, wherever they appear
LITTER_DIRS = {".git", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".mypy_cache", ".ruff_cache",
               "runs", "build", "dist", ".venv", "venv", "env", ".tox", "node_modules"}
LITTER_SUFFIXES = (".pyc", ".pyo", ".egg-info")
HOMEWORK_DIR = re.compile(r"(?P<hw>hw\d+)_\w+")
# a released line that still looks like a marker means something went unprocessed
LEFTOVER_MARKER = re.compile(r"^\s*#+\s*(?:(?:BEGIN|END) (?:SOLUTION|PROMPT)\b|SOLUTION\s*$)")
MIN_SECRET_CHARS = 20        # shorter solution lines (`return x`) are too common to call a leak


class ReleaseError(Exception):
    """The release cannot be written (bad OUT, unknown homework, bad release.yaml)."""


@dataclass
class ReleaseReport:
    out: Path
    files: list[str] = field(default_factory=list)             # written, relative to OUT
    todos: dict[str, int] = field(default_factory=dict)        # homework id -> stubbed TODOs
    notebooks: list[str] = field(default_factory=list)         # generated .ipynb files
    excluded: list[str] = field(default_factory=list)          # left out by release.yaml / --hw


def read_source(path: Path) -> str:
    """A text file as UTF-8, line endings untouched (so a CRLF file stays CRLF in the release)."""
    return path.read_bytes().decode("utf-8")


def homework_packages(root: Path) -> dict[str, str]:
    """Homework id -> package folder, for every `hwN_topic/` folder at the root ({"hw2": "hw2_policy_gradient"})."""
    found = {}
    for path in sorted(root.iterdir()):
        match = HOMEWORK_DIR.fullmatch(path.name)
        if match and path.is_dir():
            found[match.group("hw")] = path.name
    return found


def homework_of(relpath: str) -> str | None:
    """"hw2" for "hw2_policy_gradient/returns.py"; None outside a homework package."""
    match = HOMEWORK_DIR.fullmatch(relpath.split("/", 1)[0])
    return match.group("hw") if match and "/" in relpath else None


def glob_to_regex(pattern: str) -> re.Pattern:
    """A release.yaml glob as a regex over POSIX paths: `*` and `?` stay in one folder, `**` crosses
    folders, and a pattern naming a folder (`tests`, `tests/`) takes everything under it."""
    pattern = pattern.strip().lstrip("/")
    if pattern.endswith("/"):
        pattern += "**"
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex + "(?:/.*)?")


def load_exclusions(root: Path) -> list[str]:
    """The globs of release.yaml's `exclude:` list, plus the ones that are always left out."""
    config = root / RELEASE_CONFIG
    patterns = list(ALWAYS_EXCLUDED)
    if config.is_file():
        try:
            data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ReleaseError(f"{RELEASE_CONFIG}: not valid YAML: {err}") from None
        if not isinstance(data, dict) or set(data) - {"exclude"} or not isinstance(data.get("exclude", []), list):
            raise ReleaseError(f"{RELEASE_CONFIG}: expected one key, `exclude:`, holding a list of globs")
        patterns += [str(p) for p in data.get("exclude") or []]
    return patterns


def is_excluded(relpath: str, patterns: list[str]) -> bool:
    return any(glob_to_regex(p).fullmatch(relpath) for p in patterns)


def source_files(root: Path, skip: Path | None = None) -> list[str]:
    """Files of the instructor tree that may ship (POSIX, relative to root, sorted), litter removed."""
    listed = _git_files(root)
    if listed is None:
        listed = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in LITTER_DIRS]
            base = Path(folder).relative_to(root)
            listed += [(base / name).as_posix() for name in names]
    files = []
    for rel in listed:
        parts = rel.split("/")
        if any(p in LITTER_DIRS or p.endswith(LITTER_SUFFIXES) for p in parts):
            continue
        path = root / rel
        if skip is not None and (path == skip or skip in path.parents):
            continue
        if path.is_file() and not path.is_symlink():
            files.append(rel)
    return sorted(set(files))


def _git_files(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files, when root is the top of a git checkout."""
    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        if Path(top).resolve() != root.resolve():
            return None
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [name for name in out.decode().split("\0") if name]


def plan_release(root: Path, homeworks: list[str] | None = None, skip: Path | None = None):
    """Every file of the release as (relpath, text or None, source path); text None means copy bytes.

    Raises MarkerError listing every marker problem of the whole tree."""
    packages = homework_packages(root)
    if homeworks:
        unknown = sorted(set(homeworks) - set(packages))
        if unknown:
            raise ReleaseError(f"unknown homework {', '.join(unknown)}: this tree has {', '.join(packages) or 'none'}")
    patterns = load_exclusions(root)
    left_out = {pkg for hw, pkg in packages.items() if homeworks and hw not in homeworks}
    report = ReleaseReport(out=Path())
    report.todos = {hw: 0 for hw in packages if not homeworks or hw in homeworks}
    plan, problems = [], []
    files = source_files(root, skip)
    for rel in files:
        if is_excluded(rel, patterns) or rel.split("/", 1)[0] in left_out:
            report.excluded.append(rel)
            continue
        hw = homework_of(rel)
        path = root / rel
        try:
            if rel.endswith(".py"):
                text = _starter_py(path, rel, hw, report)
                plan.append((rel, text, path))
                if _is_notebook_source(rel):
                    target = rel[: -len(NOTEBOOK_SOURCE)] + NOTEBOOK
                    plan.append((target, notebook_text(text if text is not None else read_source(path), rel), None))
                    report.notebooks.append(target)
            elif rel.endswith(".ipynb"):
                if rel.endswith(NOTEBOOK) and rel[: -len(NOTEBOOK)] + NOTEBOOK_SOURCE in files \
                        and _is_notebook_source(rel[: -len(NOTEBOOK)] + NOTEBOOK_SOURCE):
                    continue  # regenerated from notebook.py above
                plan.append((rel, _starter_ipynb(path, rel, hw, report), path))
            else:
                plan.append((rel, None, path))
        except MarkerError as err:
            problems += err.problems
    if problems:
        raise MarkerError(problems)
    return plan, report


def _is_notebook_source(rel: str) -> bool:
    parts = rel.split("/")
    return len(parts) == 2 and parts[1] == NOTEBOOK_SOURCE and HOMEWORK_DIR.fullmatch(parts[0]) is not None


def _starter_py(path: Path, rel: str, hw: str | None, report: ReleaseReport) -> str | None:
    source = read_source(path)
    if not has_markers(source):
        return None
    notebook = _is_notebook_source(rel)
    if notebook:
        check_blocks_within_cells(source, rel)
    starter = make_starter(source, rel, hw=hw, allow_module_level=notebook)
    if hw is not None:
        report.todos[hw] = report.todos.get(hw, 0) + starter.markup.todo_count
    return None if starter.text == source else starter.text


def _starter_ipynb(path: Path, rel: str, hw: str | None, report: ReleaseReport) -> str | None:
    """A hand-made notebook (not generated from notebook.py): stub its code cells in place."""
    notebook = nbformat.read(path, as_version=4)
    changed = False
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and has_markers(cell.source):
            starter = make_starter(cell.source, f"{rel} (cell {index})", hw=hw, allow_module_level=True)
            changed |= starter.text != cell.source
            cell.source = starter.text
            if hw is not None:
                report.todos[hw] = report.todos.get(hw, 0) + starter.markup.todo_count
    return nbformat.writes(notebook) + "\n" if changed else None


def prepare_out(root: Path, out: Path, force: bool) -> None:
    """Refuse an OUT that holds the source or is non-empty without --force; with it, empty OUT but .git."""
    root, out = root.resolve(), out.resolve()
    if out == root or out in root.parents:
        raise ReleaseError(f"{out} holds the instructor tree: choose another output directory")
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{out} is a file, not a directory")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} is not empty: choose an empty directory, or pass --force to replace "
                               "its contents (a .git folder is kept)")
        for child in out.iterdir():
            if child.name == ".git":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)


def build_release(root: Path, out: Path, homeworks: list[str] | None = None, force: bool = False) -> ReleaseReport:
    """Write the student edition of the instructor tree `root` into `out`; see the module docstring."""
    root, out = Path(root).resolve(), Path(out).resolve()
    plan, report = plan_release(root, homeworks, skip=out)
    prepare_out(root, out, force)
    report.out = out
    for rel, text, source in plan:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            shutil.copy2(source, target)
        else:
            target.write_text(text, encoding="utf-8", newline="")
            if source is not None:
                shutil.copymode(source, target)
        report.files.append(rel)
    return report


def secret_lines(root: Path, package: str) -> set[str]:
    """Whitespace-free lines of the package's solution code that are distinctive enough to call a leak:
    at least MIN_SECRET_CHARS long, and not also written outside the solution markers somewhere in
    the package (a line the starter legitimately keeps)."""
    secrets, public = set(), set()
    for path in sorted((root / package).rglob("*.py")):
        source = read_source(path)
        code = [re.sub(r"\s+", "", line) for line in strip_comments(source)]
        hidden_rows = set()
        if has_markers(source):
            markup = parse_markers(source, str(path.relative_to(root)), allow_module_level=True)
            hidden_rows = set(markup.solution_line_numbers())
        for row, line in enumerate(code, start=1):
            if row in hidden_rows:
                if len(line) >= MIN_SECRET_CHARS:
                    secrets.add(line)
            else:
                public.add(line)
    return secrets - public


def find_leaks(root: Path, package: str, release: Path) -> list[str]:
    """`file:line: what` for every solution line or leftover marker found in the release."""
    secrets = secret_lines(root, package)
    leaks = []
    for path in sorted(p for p in release.rglob("*") if p.is_file() and ".git" not in p.parts):
        rel = path.relative_to(release).as_posix()
        try:
            text = read_source(path)
        except (UnicodeDecodeError, OSError):
            continue  # binary: checkpoints, datasets, images
        lines = strip_comments(text) if rel.endswith(".py") else text.splitlines()
        for row, line in enumerate(lines, start=1):
            squeezed = re.sub(r"\s+", "", line)
            if len(squeezed) >= MIN_SECRET_CHARS and any(secret in squeezed for secret in secrets):
                leaks.append(f"{rel}:{row}: solution line leaked: {line.strip()[:100]}")
        leaks += [f"{rel}:{row}: marker left in the release" for row in _leftover_marker_rows(rel, text)]
    return leaks


def _leftover_marker_rows(rel: str, text: str) -> list[int]:
    if not has_markers(text):
        return []
    if rel.endswith(".py"):  # real comments only: a docstring may talk about markers
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError):
            return [1]
        return [t.start[0] for t in tokens if t.type == tokenize.COMMENT and LEFTOVER_MARKER.match(t.string)]
    return [row for row, line in enumerate(text.splitlines(), start=1) if LEFTOVER_MARKER.match(line)]


def run(args, root: Path = REPO_ROOT) -> int:
    """CLI entry: `python -m grader release OUT [--hw HW ...] [--force]` (0 written, 1 marker errors, 2 refused)."""
    try:
        report = build_release(root, Path(args.out), args.hw, args.force)
    except MarkerError as err:
        print(f"release failed: {len(err.problems)} marker problem(s); nothing was written", file=sys.stderr)
        print(err, file=sys.stderr)
        return 1
    except ReleaseError as err:
        print(f"release failed: {err}", file=sys.stderr)
        return 2
    todos = ", ".join(f"{hw}: {n}" for hw, n in report.todos.items()) or "no homework"
    print(f"wrote {len(report.files)} files to {report.out}{os.sep}")
    print(f"  TODOs stubbed   {todos}")
    print(f"  notebooks       {', '.join(report.notebooks) or 'none'}")
    print(f"  left out        {len(report.excluded)} instructor-only files (hidden suites, {RELEASE_CONFIG})")
    return 0
