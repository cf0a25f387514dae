"""`python -m grader batch HW SUBMISSIONS --out gradebook.csv [--workers N] [--seed N]`.

Grades a folder of submissions in parallel and writes one gradebook row per submission.

    SUBMISSIONS/                       a folder of submission folders and/or .zip files; a Gradescope
      submission_metadata.yml          "export submissions" folder works as is: its metadata names
      submission_123456/ ...           each row by student (name, SID, email)
      alice.zip ...
    gradebook.csv                      one row per submission: status, total, per-part scores, seed
    gradebook_results/<submission>/    next to it: that submission's results.json (Gradescope's
                                       format, what `grade` writes) and row.json (its gradebook row)

Each grading is its own process (`grader.batch_one`) holding its own sandboxed worker (in its own
cgroup, with the homework's `cpus` quota where the host allows one): a crash, a hang or a malformed
zip in one submission becomes that submission's row (status `unreadable`, `error`, `timeout`,
`incomplete`), never the end of the batch.

Resumable: a row is keyed by the submission's content, the homework, the version of its hidden
suite and reference, and the seed policy. Running the same command again skips submissions whose
row is final (`graded`, `unreadable`) under the same key and grades the new, changed and failed ones.

`grade_submission` (one submission -> one Row, never raises) is what both the local pool here and
the Ray engine (grader/cluster.py) run; see /work/coord/BATCH_API.md.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Iterator

import yaml

from grader.harness.grade import HARNESS_BASE_MB
from grader.harness.results import error_results, write_results
from grader.manifest import REGISTRY, REPO_ROOT, Homework, find_homework

GRADESCOPE_METADATA = "submission_metadata.yml"
RESULTS_NAME, ROW_NAME = "results.json", "row.json"
# statuses: only a final row is kept when the batch runs again on an unchanged submission
GRADED, INCOMPLETE, UNREADABLE, ERROR, TIMEOUT = "graded", "incomplete", "unreadable", "error", "timeout"
FINAL = (GRADED, UNREADABLE)
EXIT_STATUS_OUTCOME = {0: GRADED, 4: INCOMPLETE, 3: UNREADABLE, 2: ERROR}  # grader.batch_one's exit statuses
# A grading's own guards end it long before this: the harness stops at total_timeout_s + 60 s, and
# the sandbox probe may take up to 60 s on a loaded host. This only catches a grading that hangs
# outside them (e.g. in staging): it is killed and its row says `timeout`.
TIMEOUT_MARGIN_S = 240.0
# CPU one grading uses on average beyond its sandbox's quota (`cpus`): the grading process and the
# harness (pytest, the suite's reference computations and evaluation episodes) mostly run while
# their sandbox waits for the next call, and the other way round. Measured on hw2's reference
# (2 cores shared with other jobs; CPU time and run-queue wait from /proc/<pid>/schedstat of every
# process of the grading): 7.5 CPU-s in the sandbox + 6.8 CPU-s trusted = 14.3 CPU-s, in 12.9 s of
# wall time once the run-queue wait is taken out (56.8 s at load 13): 1.1 CPUs on average.
HARNESS_CPUS = 0.1
MAX_MESSAGE_CHARS = 500


@dataclasses.dataclass
class Row:
    """One gradebook row: a submission's outcome. JSON-friendly (row.json, Ray)."""
    submission: str                  # folder or zip name inside SUBMISSIONS (Gradescope: submission_<id>)
    status: str                      # graded | incomplete | unreadable | error | timeout
    score: float | None              # None when there is no grade (error, timeout)
    max_score: float
    parts: dict[str, float]          # part -> points earned (empty when there is no grade)
    seed: int | None                 # seed of the hidden tests' inputs: `grade --seed N` reproduces it
    seconds: float                   # wall time of the grading
    message: str = ""                # why a row is not `graded`, or notes (missing files, ...)
    key: str = ""                    # resume key (content + homework + suite version + seed policy)
    name: str = ""                   # submitters, from Gradescope's metadata ("; " between group members)
    sid: str = ""
    email: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Row":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})


@dataclasses.dataclass(frozen=True)
class Task:
    """One submission to grade: the arguments of grade_submission, picklable and JSON-friendly."""
    hw: str
    submission: str
    out_dir: str
    seed: int
    key: str
    name: str
    identity: tuple[tuple[str, str], ...] = ()   # (("name", ...), ("sid", ...), ("email", ...))

    def run(self, unsandboxed: bool = False, env: dict[str, str] | None = None) -> Row:
        return grade_submission(self.hw, self.submission, self.out_dir, self.seed, name=self.name,
                                identity=dict(self.identity), key=self.key, unsandboxed=unsandboxed, env=env)


# ---------------------------------------------------------------- one submission

_live: set[subprocess.Popen] = set()   # gradings running now (killed on Ctrl-C)
_live_lock = threading.Lock()


def grade_submission(hw: str, submission: str | Path, out_dir: str | Path, seed: int | None = None, *,
                     name: str | None = None, identity: dict[str, str] | None = None, key: str = "",
                     unsandboxed: bool = False, env: dict[str, str] | None = None,
                     timeout_s: float | None = None) -> Row:
    """Grade one submission in a process of its own; write `out_dir`/results.json and row.json.

    Never raises: every failure (unknown homework, malformed zip, grader crash, timeout) is a Row
    with its status and message, and results.json always exists afterwards (Gradescope's format).
    `seed` None draws one (recorded in the row). `env` is added to the grading's environment
    (e.g. CUDA_VISIBLE_DEVICES). `timeout_s` defaults to the homework's total_timeout_s +
    TIMEOUT_MARGIN_S."""
    started = time.monotonic()
    out_dir, submission, hw = Path(out_dir).absolute(), Path(submission).absolute(), _absolute_hw(hw)
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    row = Row(submission=name or Path(submission).name, status=ERROR, score=None, max_score=0.0, parts={},
              seed=seed, seconds=0.0, key=key, **(identity or {}))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        results_path = out_dir / RESULTS_NAME
        results_path.unlink(missing_ok=True)  # never report an earlier grading's file
        homework = find_homework(hw)
        row.max_score = homework.total_points
        limit = timeout_s if timeout_s is not None else homework.limits.total_timeout_s + TIMEOUT_MARGIN_S
        status, log = _run_child(hw, Path(submission), results_path, seed, unsandboxed, env, limit)
        row.status = status
        results = _read_results(results_path)
        if status == TIMEOUT:
            row.message = f"the grading took longer than {limit:g} s and was stopped"
        elif results is None:
            row.status = ERROR
            row.message = f"the grading process ended without results: {_tail(log)}"
        elif status in (GRADED, INCOMPLETE, UNREADABLE):
            row.score = float(results["score"])
            row.parts = _part_scores(results, homework)
            row.message = _notes(results["output"], status)
        else:
            row.message = _notes(results["output"], status)
    except Exception as err:  # grade_submission never raises: the batch goes on
        row.status, row.score, row.parts = ERROR, None, {}
        row.message = f"{type(err).__name__}: {err}"
    row.seconds = round(time.monotonic() - started, 2)
    row.message = row.message[:MAX_MESSAGE_CHARS]
    _save_row(out_dir, row)
    return row


def _absolute_hw(hw: str) -> str:
    """The child runs in the repository root: a homework given as a relative folder must not move."""
    return hw if hw in REGISTRY or not Path(hw).exists() else str(Path(hw).absolute())


def _run_child(hw: str, submission: Path, results_path: Path, seed: int, unsandboxed: bool,
               env: dict[str, str] | None, limit: float) -> tuple[str, str]:
    command = [sys.executable, "-m", "grader.batch_one", hw, str(submission), str(results_path), "--seed", str(seed)]
    if unsandboxed:
        command.append("--unsandboxed")
    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT)] + [p for p in [child_env.get("PYTHONPATH")] if p])
    child_env.update(env or {})
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a chatty grading never blocks on it
        # Same process group as the batch (Ctrl-C reaches it); its harness and sandbox die with it
        # (PR_SET_PDEATHSIG in grade.py and the launcher), so kill() on a timeout ends them all.
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=child_env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT)
        with _live_lock:
            _live.add(process)
        try:
            process.wait(timeout=limit)
            status = EXIT_STATUS_OUTCOME.get(process.returncode, ERROR)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            process.wait()
            status = TIMEOUT
        finally:
            with _live_lock:
                _live.discard(process)
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    if status == ERROR and process.returncode not in EXIT_STATUS_OUTCOME:
        text = f"(status {process.returncode}) {text}"
    return status, text


def kill_tree(pid: int) -> None:
    """SIGKILL `pid` and every process below it (its harness, bwrap, the sandbox).

    The harness and the sandbox also die with their parent (PR_SET_PDEATHSIG), but a signal set
    between fork and exec can be missed or cleared on the way (seen once while testing: a sandbox
    still running its student's infinite loop minutes later, its bwrap reparented to init), so
    the whole tree is found and killed."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue.extend(children.get(current, []))
    for member in tree:
        try:
            os.kill(member, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _read_results(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
        float(data["score"]), str(data["output"]), list(data["tests"])
        return data
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _part_scores(results: dict, homework: Homework) -> dict[str, float]:
    parts = {part: 0.0 for part in homework.parts}
    for test in results["tests"]:
        part = test.get("part")
        if part in parts:
            parts[part] = round(parts[part] + float(test["score"]), 6)
    return parts


def _notes(output: str, status: str) -> str:
    """What the instructor should read in the row: the output minus the seed line (its own column)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("hidden tests' random inputs: seed")]
    if status in (UNREADABLE, ERROR):
        lines = [line for line in lines if not line.startswith(("Upload the files", "Please tell the course"))]
    return " | ".join(lines)


def _tail(text: str, chars: int = 300) -> str:
    text = " ".join(text.split())
    return text[-chars:] if text else "(no output)"


def _save_row(out_dir: Path, row: Row) -> None:
    """row.json, and a results.json if the grading left none (a crash, a timeout): always one of each."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if _read_results(out_dir / RESULTS_NAME) is None:
            write_results(out_dir / RESULTS_NAME, error_results(f"{row.status}: {row.message}", row.seconds))
        _write_atomic(out_dir / ROW_NAME, json.dumps(row.to_dict(), indent=2))
    except OSError:
        pass  # the row still reaches the gradebook; only resuming it is lost


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------- the batch

@dataclasses.dataclass
class Plan:
    homework: Homework
    tasks: list[Task]            # to grade
    kept: list[Row]              # final rows of unchanged submissions, skipped
    skipped_entries: list[str]   # names in SUBMISSIONS that are not submissions


def results_root(gradebook: Path) -> Path:
    """Where the per-submission folders go: `<gradebook stem>_results/` next to the gradebook."""
    return gradebook.parent / f"{gradebook.stem}_results"


def plan(hw: str, submissions: Path, gradebook: Path, seed: int | None = None) -> Plan:
    """Find the submissions, read Gradescope's metadata, and split into rows to keep and tasks to run."""
    homework, hw = find_homework(hw), _absolute_hw(hw)
    submissions = _export_root(Path(submissions).absolute())
    metadata = read_gradescope_metadata(submissions)
    entries, skipped_entries = find_submissions(submissions)
    version = suite_version(homework)
    policy = "random" if seed is None else f"seed={seed}"
    root = results_root(gradebook)
    tasks, kept, used = [], [], set()
    for entry in entries:
        identity = metadata.get(entry.name, {})
        key = hashlib.sha256(f"{homework.id}\n{version}\n{policy}\n{content_hash(entry)}".encode()).hexdigest()[:32]
        out_dir = root / _folder_name(entry.name, used)
        previous = _load_row(out_dir / ROW_NAME)
        if (previous is not None and previous.key == key and previous.status in FINAL
                and _read_results(out_dir / RESULTS_NAME) is not None):
            kept.append(dataclasses.replace(previous, submission=entry.name, name=identity.get("name", ""),
                                            sid=identity.get("sid", ""), email=identity.get("email", "")))
            continue
        task_seed = secrets.randbelow(2**31) if seed is None else seed
        tasks.append(Task(hw=hw, submission=str(entry), out_dir=str(out_dir), seed=task_seed, key=key,
                          name=entry.name, identity=tuple(identity.items())))
    return Plan(homework, tasks, kept, skipped_entries)


Engine = Callable[[list[Task]], Iterable[Row]]


def local_engine(workers: int, unsandboxed: bool = False) -> Engine:
    """Run tasks `workers` at a time on this machine, yielding rows as they finish."""
    def run(tasks: list[Task]) -> Iterator[Row]:
        import queue

        from grader.sandbox.gpu import worker_environments
        # one GPU per concurrent grading for a `gpu: true` homework, none for others (docs/GRADER.md, "GPUs")
        wants_gpu = bool(tasks) and find_homework(tasks[0].hw).limits.gpu
        slots = queue.SimpleQueue()
        for env in worker_environments(max(1, workers), wants_gpu):
            slots.put(env)

        def grade(task: Task) -> Row:
            env = slots.get()
            try:
                return task.run(unsandboxed, env)
            finally:
                slots.put(env)

        pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="grading")
        futures = [pool.submit(grade, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:  # Ctrl-C or an early stop: queued gradings never start, running ones are killed
            pool.shutdown(wait=False, cancel_futures=True)
            with _live_lock:
                for process in list(_live):
                    kill_tree(process.pid)
            pool.shutdown(wait=True)
    return run


def run_batch(hw: str, submissions: Path, gradebook: Path, engine: Engine, seed: int | None = None,
              progress: bool = True) -> list[Row]:
    """Plan, grade what needs grading through `engine`, and keep gradebook.csv current after every
    finished grading (an interrupted batch leaves a valid gradebook of what it finished)."""
    gradebook = Path(gradebook)
    work = plan(hw, submissions, gradebook, seed)
    rows = {row.submission: row for row in work.kept}
    write_gradebook(gradebook, list(rows.values()), work.homework)
    for name in work.skipped_entries:
        print(f"not a submission (skipped): {name}", file=sys.stderr)
    if work.kept:
        print(f"{len(work.kept)} unchanged submission(s) already graded: kept", file=sys.stderr)
    bar = _progress(len(work.tasks), progress)
    try:
        for row in engine(work.tasks):
            rows[row.submission] = row
            write_gradebook(gradebook, list(rows.values()), work.homework)
            bar.set_postfix_str(f"{row.submission}: {row.status}", refresh=False)
            bar.update(1)
    finally:
        bar.close()
    return sorted(rows.values(), key=lambda r: r.submission)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc="grading", unit="submission", disable=not enabled or total == 0,
                file=sys.stderr, dynamic_ncols=True)


def write_gradebook(path: Path, rows: list[Row], homework: Homework) -> None:
    """gradebook.csv, atomically: one row per submission, per-part scores, total, status, seed."""
    parts = list(homework.parts)
    columns = (["submission", "name", "sid", "email", "status", "total", "max_total"] + parts
               + ["seed", "seconds", "message", "results"])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r.submission):
        graded = row.score is not None
        record = {"submission": _cell(row.submission), "name": _cell(row.name), "sid": _cell(row.sid),
                  "email": _cell(row.email), "status": row.status, "total": _number(row.score) if graded else "",
                  "max_total": _number(row.max_score or homework.total_points),
                  "seed": "" if row.seed is None else row.seed, "seconds": f"{row.seconds:.1f}",
                  "message": _cell(row.message),
                  "results": (results_root(path).relative_to(path.parent) / _folder_name(row.submission, None)
                              / RESULTS_NAME).as_posix()}
        for part in parts:
            record[part] = _number(row.parts.get(part, 0.0)) if graded else ""
        writer.writerow(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, buffer.getvalue())


def _number(value: float) -> str:
    return f"{float(value):g}"


def _cell(text) -> str:
    """Text for a spreadsheet: a cell starting with = + - @ would be read as a formula."""
    text = " ".join(str(text or "").split())
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# ---------------------------------------------------------------- finding submissions

def find_submissions(folder: Path) -> tuple[list[Path], list[str]]:
    """The submissions in `folder` (sub-folders and .zip files, by name) and the names skipped."""
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: SUBMISSIONS must be a folder of submission folders or zips")
    entries, skipped = [], []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name in ("__MACOSX", GRADESCOPE_METADATA, "__pycache__"):
            continue
        if entry.is_symlink():
            skipped.append(entry.name)
        elif entry.is_dir():
            entries.append(entry)  # staging finds the manifest's files inside (release folder or flat)
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            entries.append(entry)
        else:
            skipped.append(entry.name)
    return entries, skipped


def _export_root(folder: Path) -> Path:
    """A Gradescope export unzipped one level up (`assignment_<id>_export/` inside): use the inner folder."""
    if (folder / GRADESCOPE_METADATA).is_file() or not folder.is_dir():
        return folder
    inner = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__MACOSX"))]
    if len(inner) == 1 and (inner[0] / GRADESCOPE_METADATA).is_file():
        return inner[0]
    return folder


class _MetadataLoader(yaml.SafeLoader):
    """Safe YAML that reads any tag (Gradescope's Ruby export may tag objects) as plain data."""


def _plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_MetadataLoader.add_multi_constructor("!", _plain)
_MetadataLoader.add_multi_constructor("tag:", _plain)


def read_gradescope_metadata(folder: Path) -> dict[str, dict[str, str]]:
    """submission folder name -> {"name", "sid", "email"} from Gradescope's submission_metadata.yml.

    The export's file maps each `submission_<id>` to Ruby-style symbol keys:
        submission_123456:
          :submitters:
          - :name: Ada Lovelace
            :sid: '1815'
            :email: ada@example.edu
          :created_at: 2024-02-01 17:02:11.123456000 Z
          :score: 10.0
    A group submission lists several submitters (joined with "; "). No file: no names."""
    path = Path(folder) / GRADESCOPE_METADATA
    if not path.is_file():
        return {}
    try:
        data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=_MetadataLoader)
    except yaml.YAMLError as err:
        print(f"{path}: not readable YAML ({err}); rows are named by folder only", file=sys.stderr)
        return {}
    names = {}
    for submission, record in (data or {}).items() if isinstance(data, dict) else ():
        submitters = record.get(":submitters") if isinstance(record, dict) else None
        people = [p for p in submitters or [] if isinstance(p, dict)]
        names[str(submission)] = {field: "; ".join(str(p.get(f":{field}") or "") for p in people)
                                  for field in ("name", "sid", "email")}
    return names


def content_hash(entry: Path) -> str:
    """sha256 of a zip's bytes, or of a folder's files (relative paths and contents; links by target)."""
    digest = hashlib.sha256()
    if entry.is_file():
        with open(entry, "rb") as f:
            for block in iter(lambda: f.read(2**20), b""):
                digest.update(block)
        return digest.hexdigest()
    for directory, subdirs, files in os.walk(entry):
        subdirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            rel = path.relative_to(entry).as_posix()
            digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
            try:
                if path.is_symlink():
                    digest.update(b"link:" + os.readlink(path).encode("utf-8", "surrogateescape"))
                else:
                    digest.update(path.read_bytes())
            except OSError as err:
                digest.update(f"unreadable:{type(err).__name__}".encode())
            digest.update(b"\0")
    return digest.hexdigest()


def suite_version(homework: Homework) -> str:
    """A hash of what decides a grade besides the submission: the manifest, the hidden suite, the
    homework's reference package and common/. Changing any of them regrades every submission."""
    digest = hashlib.sha256()
    roots = [homework.package_dir / "submission.yaml", homework.suite_dir, homework.package_dir, REPO_ROOT / "common"]
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in
                                                     (".py", ".yaml", ".yml", ".json") and "__pycache__" not in p.parts)
        for path in files:
            digest.update(str(path.relative_to(homework.root) if path.is_relative_to(homework.root) else path.name)
                          .encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def _folder_name(name: str, used: set[str] | None) -> str:
    """A safe folder name for a submission's results (the name itself when it is already safe)."""
    safe = _UNSAFE_NAME.sub("_", name).lstrip(".") or "submission"
    if safe != name:
        safe = f"{safe}-{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"
    if used is not None:
        used.add(safe)
    return safe


def _load_row(path: Path) -> Row | None:
    try:
        return Row.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


# ---------------------------------------------------------------- worker count and CLI

def default_workers(homework: Homework, cores: int | None = None, available_mb: int | None = None) -> int:
    """How many gradings run at once by default: one per `cpus` of the cores, as many as memory holds.

    Rule: min(cores // cpus, available memory // (memory_mb + HARNESS_BASE_MB)), at least 1.
    Each sandbox is held to `cpus` by its cgroup, and a grading's trusted side adds only HARNESS_CPUS
    on average (it runs while its sandbox waits): N gradings on N cores ask for about 1.1 N CPUs, so
    each runs at about 0.9 of its speed alone, far inside its time budgets (hw2's reference takes 13 s
    of its 300 s total and 60 s per test). One more grading than that would only share the same
    cores: it adds no throughput and brings every grading nearer its limits. Memory: each grading's
    sandbox may use memory_mb and its harness HARNESS_BASE_MB more; beyond what is available,
    gradings would fail with "memory limit exceeded" instead of waiting their turn.
    Measured, `python benchmarks/batch_throughput.py` (hw2, 8 copies of the reference, 2 cores with a
    load average of 9-10 from other jobs): 1 worker 398 s (median 46.9 s a grading), 2 workers 229 s
    (median 54.5 s a grading): speedup 1.74, all 16 gradings 100/100.
    """
    cores = cores if cores is not None else len(os.sched_getaffinity(0))
    available_mb = available_mb if available_mb is not None else _available_memory_mb()
    by_cpu = int(cores // homework.limits.cpus)
    by_memory = int(available_mb // (homework.limits.memory_mb + HARNESS_BASE_MB))
    return max(1, min(by_cpu, by_memory))


def _available_memory_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4096


def run(args) -> int:
    """CLI entry point (grader.cli). Exit status: 0 when every submission has a grade (`graded`, or
    `unreadable`: a zero the student must fix), 1 when some rows need the instructor (error,
    timeout, incomplete: running the command again retries them), 2 on a usage error."""
    gradebook = Path(args.out)
    try:
        homework = find_homework(args.hw)
    except Exception as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not Path(args.submissions).is_dir():
        print(f"error: {args.submissions} is not a folder of submissions", file=sys.stderr)
        return 2
    if getattr(args, "cluster", None):
        from grader.cluster import ray_engine  # Ray only when asked for
        engine = ray_engine(args.cluster, unsandboxed=args.unsandboxed, workers=args.workers)
        where = f"on the Ray cluster {args.cluster}"
    else:
        workers = args.workers or default_workers(homework)
        engine = local_engine(workers, unsandboxed=args.unsandboxed)
        where = f"with {workers} worker(s) at once"
    print(f"grading {args.hw} {where}; gradebook: {gradebook}", file=sys.stderr)
    rows = run_batch(args.hw, Path(args.submissions), gradebook, engine, seed=args.seed)
    counts = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"{len(rows)} submission(s): {summary or 'none'}\ngradebook written to {gradebook}; "
          f"results in {results_root(gradebook)}/")
    return 0 if all(row.status in FINAL for row in rows) else 1
