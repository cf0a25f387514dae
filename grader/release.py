"""`python -m grader release OUT [--hw HW ...] [--solved HW ...] [--force]`: write the student edition.

The student edition is the instructor tree with
- every solution block and `# SOLUTION` line stubbed (grader/starter.py), prompt markers dropped;
- `notebook.ipynb` of each homework regenerated from its stubbed `notebook.py` (grader/notebooks.py),
  the TA's header of `notebook.py` (comment lines before the first `# %%`) dropped from both;
- in every Markdown file, the instructor-only blocks (lines from `<!-- BEGIN INSTRUCTOR -->` to
  `<!-- END INSTRUCTOR -->`) dropped;
- `README.md` written from the student README that `release.yaml` names (`student_readme:`), its
  `<!-- HOMEWORK TABLE -->` line replaced by a table of the homeworks released and the files each
  takes from a submission; the instructor README is left out;
- left out: the hidden suites (`grader/suites/`, always), whatever `release.yaml` lists (the project's
  own tests, benchmarks, CI, instructor-only tools and notes), and build litter (.git, __pycache__,
  runs/, virtual environments, build folders). With `--hw`, the other homework packages too, except
  those a released homework's manifest `uses` (hw4 imports hw3's SAC): they ship as their student edition.
With `--solved HW` (repeatable; once HW is past due), HW's package ships as its solved edition instead:
solution code kept, marker comments dropped (grader/starter.py `make_solved`), notebook regenerated
from it; it ships even when `--hw` does not name it. So hw4's MBPO runs on hw3's reference SAC for a
student who did not finish hw3 (docs/RELEASE.md, "Homeworks that build on earlier ones").
Public tests (`<package>/tests/`), `submission.yaml` and the grader's CLI and harness stay, so a
student can run `python -m grader grade hw2 --public`.

Files come from `git ls-files --cached --others --exclude-standard` when the tree is a git checkout
(so .gitignore applies), otherwise from a walk of the tree. Every file is read and transformed in
memory first; OUT is touched only when the whole tree went through without a marker error.
OUT must be empty unless `--force`, which first removes everything in it except a `.git` folder
(so OUT can be a clone of the students' repository).

`find_leaks` scans a written release for solution lines and leftover markers, and `find_mentions`
for text that names a file the release leaves out (both used by `python -m grader check`).

In the student edition (no release.yaml) `python -m grader release` only says that it is an
instructor tool. This module ships there anyway: the grader's staging uses its file selection.
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

from grader.manifest import load_manifest
from grader.notebooks import NOTEBOOK, NOTEBOOK_SOURCE, check_blocks_within_cells, notebook_text
from grader.starter import MarkerError, Problem, has_markers, make_solved, make_starter, parse_markers, strip_comments

REPO_ROOT = Path(__file__).resolve().parent.parent
RELEASE_CONFIG = "release.yaml"
# left out whatever release.yaml says: the hidden suites must never ship
ALWAYS_EXCLUDED = ("grader/suites/**", RELEASE_CONFIG)
INSTRUCTOR_BEGIN, INSTRUCTOR_END = "<!-- BEGIN INSTRUCTOR -->", "<!-- END INSTRUCTOR -->"
# a line that looks like an instructor marker but is not exactly one (not quoted in backticks)
INSTRUCTOR_LIKE = re.compile(r"(?<!`)<!--\s*(?:BEGIN|END)\s+INSTRUCTOR", re.IGNORECASE)
HOMEWORK_TABLE = "<!-- HOMEWORK TABLE -->"
INSTRUCTOR_EDITION_ONLY = "'release' is only available in the instructor edition of the course repository."
# never part of any edition, wherever they appear
LITTER_DIRS = {".git", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".mypy_cache", ".ruff_cache",
               "runs", "build", "dist", ".venv", "venv", "env", ".tox", "node_modules"}
LITTER_SUFFIXES = (".pyc", ".pyo", ".egg-info")
HOMEWORK_DIR = re.compile(r"(?P<hw>hw\d+)_\w+")
# a released line that still looks like a marker means something went unprocessed
LEFTOVER_MARKER = re.compile(r"^\s*#+\s*(?:(?:BEGIN|END) (?:SOLUTION|PROMPT)\b|SOLUTION\s*$)")
# a path written in text (`tests/x.py`, `../docs/A.md`), not starting inside a longer path or a
# placeholder (`hw2_policy_gradient/tests/`, `{package}/tests/`); and a dotted module (`benchmarks.x`)
PATH_MENTION = re.compile(r"(?<![\w.\-/}>*$@])(?:\.{1,2}/)*[\w\-][\w.\-]*(?:/[\w.\-]+)*/?")
FILE_SUFFIXES = {"py", "md", "yaml", "yml", "txt", "json", "toml", "ipynb", "csv", "png", "ini", "cfg", "npz", "pt"}
# the autograder's own code: it runs in both editions and names the instructor edition's layout by design
MENTIONS_NOT_CHECKED = ("grader/",)
MIN_SECRET_CHARS = 20        # shorter solution lines (`return x`) are too common to call a leak


class ReleaseError(Exception):
    """The release cannot be written (bad OUT, unknown homework, bad release.yaml)."""


@dataclass
class ReleaseReport:
    out: Path
    files: list[str] = field(default_factory=list)             # written, relative to OUT
    todos: dict[str, int] = field(default_factory=dict)        # homework id -> stubbed TODOs
    solved: list[str] = field(default_factory=list)            # homework ids shipped as their solved edition
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


def load_config(root: Path) -> dict:
    """release.yaml as {"exclude": [globs], "student_readme": path or None} (empty when there is none)."""
    config = root / RELEASE_CONFIG
    if not config.is_file():
        return {"exclude": [], "student_readme": None}
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ReleaseError(f"{RELEASE_CONFIG}: not valid YAML: {err}") from None
    if not isinstance(data, dict) or set(data) - {"exclude", "student_readme"} \
            or not isinstance(data.get("exclude") or [], list) \
            or not isinstance(data.get("student_readme") or "", str):
        raise ReleaseError(f"{RELEASE_CONFIG}: expected `exclude:` (a list of globs) and optionally "
                           "`student_readme:` (one path)")
    return {"exclude": [str(p) for p in data.get("exclude") or []], "student_readme": data.get("student_readme")}


def load_exclusions(root: Path) -> list[str]:
    """The globs of release.yaml's `exclude:` list, plus the ones that are always left out."""
    return list(ALWAYS_EXCLUDED) + load_config(root)["exclude"]


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


def _used_packages(root: Path, packages: dict[str, str], homeworks: list[str] | None) -> set[str]:
    """The packages the released homeworks import from other homeworks (their manifests' `uses`)."""
    used = set()
    for hw in homeworks or ():
        manifest = root / packages[hw] / "submission.yaml"
        if manifest.is_file():
            used |= set(load_manifest(manifest, root).uses)
    return used


def plan_release(root: Path, homeworks: list[str] | None = None, skip: Path | None = None,
                 solved: list[str] | None = None):
    """Every file of the release as (relpath, text or None, source path); text None means copy bytes.
    `solved`: homework ids whose package ships as its solved edition (see the module docstring).

    Raises MarkerError listing every marker problem of the whole tree."""
    packages = homework_packages(root)
    solved = sorted({_homework_id(name, packages) for name in solved or ()})
    unknown = sorted(set(homeworks or ()) - set(packages)) + [hw for hw in solved if hw not in packages]
    if unknown:
        raise ReleaseError(f"unknown homework {', '.join(unknown)}: this tree has {', '.join(packages) or 'none'}")
    patterns = load_exclusions(root)
    readme = load_config(root)["student_readme"]
    if readme is not None and not (root / readme).is_file():
        raise ReleaseError(f"{RELEASE_CONFIG}: student_readme {readme} does not exist")
    left_out = {pkg for hw, pkg in packages.items() if homeworks and hw not in homeworks}
    left_out -= _used_packages(root, packages, homeworks)  # hw4 imports hw3: its student edition ships too
    left_out -= {packages[hw] for hw in solved}
    report = ReleaseReport(out=Path(), solved=solved)
    report.todos = {hw: 0 for hw in packages if (not homeworks or hw in homeworks) and hw not in solved}
    plan, problems = [], []
    files = source_files(root, skip)
    for rel in files:
        if is_excluded(rel, patterns) or rel.split("/", 1)[0] in left_out or (readme and rel in (readme, "README.md")):
            report.excluded.append(rel)
            continue
        hw = homework_of(rel)
        path = root / rel
        try:
            if rel.endswith(".py"):
                text = _starter_py(path, rel, hw, report, solved=hw in solved)
                if _is_notebook_source(rel):  # the notebook leaves the header out; the .py drops it here
                    text = text if text is not None else read_source(path)
                    target = rel[: -len(NOTEBOOK_SOURCE)] + NOTEBOOK
                    plan.append((target, notebook_text(text, rel), None))
                    report.notebooks.append(target)
                    text = drop_notebook_header(text)
                plan.append((rel, text, path))
            elif rel.endswith(".md"):
                source = read_source(path)
                text = strip_instructor_blocks(source, rel)
                plan.append((rel, None if text == source else text, path))
            elif rel.endswith(".ipynb"):
                if rel.endswith(NOTEBOOK) and rel[: -len(NOTEBOOK)] + NOTEBOOK_SOURCE in files \
                        and _is_notebook_source(rel[: -len(NOTEBOOK)] + NOTEBOOK_SOURCE):
                    continue  # regenerated from notebook.py above
                plan.append((rel, _starter_ipynb(path, rel, hw, report, solved=hw in solved), path))
            else:
                plan.append((rel, None, path))
        except MarkerError as err:
            problems += err.problems
    if readme:
        try:
            text = strip_instructor_blocks(read_source(root / readme), readme)
            released = {pkg for hw, pkg in packages.items() if not homeworks or hw in homeworks}
            plan.append(("README.md", text.replace(HOMEWORK_TABLE, homework_table(root, released)), root / readme))
        except MarkerError as err:
            problems += err.problems
    if problems:
        raise MarkerError(problems)
    plan.sort(key=lambda item: item[0])
    return plan, report


def strip_instructor_blocks(text: str, rel: str) -> str:
    """Markdown without its instructor-only blocks: the lines from `<!-- BEGIN INSTRUCTOR -->` to
    `<!-- END INSTRUCTOR -->`, both alone on their line, go. Raises MarkerError (file:line) on an END
    without BEGIN, a BEGIN never closed or inside a block, and a line that looks like a mistyped marker
    (`<!-- begin instructor -->`, a marker with text around it); quote one in backticks to write about it."""
    kept, problems, opened = [], [], None
    for row, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == INSTRUCTOR_BEGIN:
            if opened is not None:
                problems.append(Problem(rel, row, f"'{INSTRUCTOR_BEGIN}' inside the instructor block opened "
                                                  f"at line {opened}: close that one first"))
            opened = row
        elif stripped == INSTRUCTOR_END:
            if opened is None:
                problems.append(Problem(rel, row, f"'{INSTRUCTOR_END}' without a matching '{INSTRUCTOR_BEGIN}'"))
            opened = None
        elif INSTRUCTOR_LIKE.search(line):
            problems.append(Problem(rel, row, f"looks like an instructor marker but is not one: write "
                                              f"'{INSTRUCTOR_BEGIN}' or '{INSTRUCTOR_END}' alone on its line"))
        elif opened is None:
            kept.append(line)
    if opened is not None:
        problems.append(Problem(rel, opened, f"'{INSTRUCTOR_BEGIN}' is never closed by '{INSTRUCTOR_END}'"))
    if problems:
        raise MarkerError(problems)
    return "".join(kept)


def drop_notebook_header(source: str) -> str:
    """A notebook source without the TA's header: the comment lines before its first `# %%` cell."""
    lines = source.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("# %%"):
            return "".join(lines[index:])
    return source


def homework_table(root: Path, packages: set[str]) -> str:
    """The student README's table: each released homework, its handout and the files a submission gives."""
    rows = ["| homework | handout | files you submit (from `submission.yaml`) |", "|---|---|---|"]
    for package in sorted(packages):
        manifest = root / package / "submission.yaml"
        if not manifest.is_file():
            continue
        data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
        files = ", ".join(f"`{name}`" for name in data.get("files") or [])
        rows.append(f"| {data.get('homework', package)} | [`{package}/README.md`]({package}/README.md) | {files} |")
    return "\n".join(rows)


def _is_notebook_source(rel: str) -> bool:
    parts = rel.split("/")
    return len(parts) == 2 and parts[1] == NOTEBOOK_SOURCE and HOMEWORK_DIR.fullmatch(parts[0]) is not None


def _homework_id(name: str, packages: dict[str, str]) -> str:
    """"hw3" for "hw3" or "hw3_qlearning_ac" (the package's folder name)."""
    return next((hw for hw, package in packages.items() if name == package), name)


def _starter_py(path: Path, rel: str, hw: str | None, report: ReleaseReport, solved: bool = False) -> str | None:
    source = read_source(path)
    if not has_markers(source):
        return None
    notebook = _is_notebook_source(rel)
    if notebook:
        check_blocks_within_cells(source, rel)
    if solved:
        text = make_solved(source, rel, allow_module_level=notebook)
        return None if text == source else text
    starter = make_starter(source, rel, hw=hw, allow_module_level=notebook)
    if hw is not None:
        report.todos[hw] = report.todos.get(hw, 0) + starter.markup.todo_count
    return None if starter.text == source else starter.text


def _starter_ipynb(path: Path, rel: str, hw: str | None, report: ReleaseReport, solved: bool = False) -> str | None:
    """A hand-made notebook (not generated from notebook.py): stub its code cells in place (or, `solved`,
    drop their markers)."""
    notebook = nbformat.read(path, as_version=4)
    changed = False
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and has_markers(cell.source) and solved:
            text = make_solved(cell.source, f"{rel} (cell {index})", allow_module_level=True)
            changed |= text != cell.source
            cell.source = text
        elif cell.cell_type == "code" and has_markers(cell.source):
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


def build_release(root: Path, out: Path, homeworks: list[str] | None = None, force: bool = False,
                  solved: list[str] | None = None) -> ReleaseReport:
    """Write the student edition of the instructor tree `root` into `out`; see the module docstring."""
    root, out = Path(root).resolve(), Path(out).resolve()
    plan, report = plan_release(root, homeworks, skip=out, solved=solved)
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


def left_out_paths(root: Path) -> set[str]:
    """What release.yaml leaves out, as POSIX paths without a trailing slash: every excluded file of
    the instructor tree, every folder all of whose files are excluded, and every exclude pattern
    without wildcards (`.ci/` is left out even when this checkout has no such folder)."""
    patterns = load_exclusions(root)
    files = source_files(root)
    excluded = {rel for rel in files if is_excluded(rel, patterns)}
    shipped_folders = {"/".join(rel.split("/")[:i]) for rel in set(files) - excluded
                       for i in range(1, rel.count("/") + 1)}
    folders = {"/".join(rel.split("/")[:i]) for rel in excluded for i in range(1, rel.count("/") + 1)}
    literal = {re.sub(r"/(\*\*)?$", "", p.strip().lstrip("/")) for p in patterns if not re.search(r"[*?\[]", p.rstrip("/*"))}
    return excluded | (folders - shipped_folders) | literal


def find_mentions(root: Path, release: Path) -> list[tuple[str, int, str]]:
    """(file, line, path) for every text of the release that names a path the release leaves out:
    a path (`tests/test_cli.py`, `docs/RELEASE.md`, `grader/suites/<hw>/`) or a dotted module
    (`benchmarks.hw2_targets`). A path is read from the repository root and from the file's own folder;
    one that exists in the release either way (`tests/` in a homework's README: its public tests) is
    fine. The autograder's own code (MENTIONS_NOT_CHECKED) is not read."""
    left_out = left_out_paths(root)
    found = []
    for path in sorted(p for p in release.rglob("*") if p.is_file() and ".git" not in p.relative_to(release).parts):
        rel = path.relative_to(release).as_posix()
        if rel.startswith(MENTIONS_NOT_CHECKED):
            continue
        try:
            text = read_source(path)
        except (UnicodeDecodeError, OSError):
            continue
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        for row, line in enumerate(text.splitlines(), start=1):
            for match in PATH_MENTION.finditer(line):
                name = _left_out_name(match.group(), folder, release, left_out)
                if name:
                    found.append((rel, row, name))
    return found


def _left_out_name(token: str, folder: str, release: Path, left_out: set[str]) -> str | None:
    """The left-out path `token` names, read as a path or as a dotted module; None when it names none."""
    token = token.rstrip(".-")
    candidates = [p for p in (_normalize(token), _normalize(f"{folder}/{token}" if folder else token)) if p]
    if "/" in token or "." in token:
        if any((release / p).exists() for p in candidates):
            return None
        if "/" in token and any(_is_left_out(p, left_out) for p in candidates):
            return token
        if any(p in left_out for p in candidates):   # a file by its name: `release.yaml`, `NOTES.md`
            return token
    parts = token.split(".")
    if len(parts) < 2 or parts[-1] in FILE_SUFFIXES or not all(p.isidentifier() for p in parts):
        return None
    for k in range(len(parts), 0, -1):                 # `benchmarks.hw2_targets`: a module, a package
        module = "/".join(parts[:k])
        if module + ".py" in left_out or (module in left_out and not (release / module).exists()):
            return token
    return None


def _normalize(path: str) -> str | None:
    """`a/./b/../c/` -> `a/c`; None for a path that climbs above the root."""
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or None


def _is_left_out(path: str, left_out: set[str]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:i]) in left_out for i in range(1, len(parts) + 1))


def _leftover_marker_rows(rel: str, text: str) -> list[int]:
    if rel.endswith(".md"):
        return [row for row, line in enumerate(text.splitlines(), start=1) if LEFTOVER_MARKER.match(line)
                or line.strip() in (INSTRUCTOR_BEGIN, INSTRUCTOR_END) or INSTRUCTOR_LIKE.search(line)]
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
    """CLI entry: `python -m grader release OUT [--hw HW ...] [--solved HW ...] [--force]` (0 written, 1 marker
    errors, 2 refused)."""
    if not (root / RELEASE_CONFIG).is_file():  # the student edition: release.yaml never ships
        print(INSTRUCTOR_EDITION_ONLY)
        return 2
    try:
        report = build_release(root, Path(args.out), args.hw, args.force, getattr(args, "solved", None))
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
    if report.solved:
        print(f"  solved edition  {', '.join(report.solved)} (reference solutions ship: past due)")
    print(f"  notebooks       {', '.join(report.notebooks) or 'none'}")
    print(f"  left out        {len(report.excluded)} instructor-only files (hidden suites, {RELEASE_CONFIG})")
    for rel, row, name in find_mentions(root, report.out):
        print(f"  note: {rel}:{row} names {name}, which the student edition leaves out")
    return 0
