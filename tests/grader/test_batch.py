"""`python -m grader batch`: a folder (or Gradescope export) of submissions -> gradebook.csv.

Most tests grade the fixture homework (small limits, about 3 s a grading); one grades hw2 for real.
"""
import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader import batch
from grader.batch import Row, Task
from grader.manifest import Limits, find_homework

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixture_hw"
FIXHW = str(FIXTURE / "fixhw")
REFERENCE = {name: (FIXTURE / "fixhw" / name).read_text() for name in ("functions.py", "policy.py")}

# What a Gradescope "export submissions" folder holds next to the submission folders: Ruby symbol
# keys, timestamps, a group submission, earlier attempts and their results, and one entry without
# submitters. (Shape from Gradescope exports as read by instructors' scripts; names are made up.)
METADATA = """\
submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1815'
    :email: ada@example.edu
  :created_at: 2024-02-01 17:02:11.123456000 Z
  :score: 10.0
  :history: []
  :results:
    score: 10.0
    tests: []
submission_1002:
  :submitters:
  - :name: Alan Turing
    :sid: '1912'
    :email: alan@example.edu
  - :name: Grace Hopper
    :sid: 1906
    :email: grace@example.edu
  :created_at: 2024-02-02 09:15:00.000000000 Z
  :score: 0.0
  :history:
  - :created_at: 2024-02-01 23:59:00.000000000 Z
    :score: 0.0
    :results:
      score: 0.0
submission_1003:
  :submitters:
  - :name: Edsger Dijkstra
    :sid: '1930'
    :email: edsger@example.edu
  :created_at: 2024-02-02 10:00:00.000000000 Z
  :score: 2.0
submission_1004:
  :submitters:
  - :name: Barbara Liskov
    :sid: '1939'
    :email: barbara@example.edu
  :created_at: !ruby/object:ActiveSupport::TimeWithZone
    utc: 2024-02-02 11:00:00.000000000 Z
  :score: 8.0
submission_1005:
  :submitters:
"""

CRASHING_FUNCTIONS = "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"
HANGING_FUNCTIONS = REFERENCE["functions.py"].replace(
    'def discounted_return(rewards: np.ndarray, gamma: float) -> float:\n',
    'def discounted_return(rewards: np.ndarray, gamma: float) -> float:\n    while True:\n        pass\n')


def write_submission(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def zip_submission(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def read_gradebook(path: Path) -> tuple[list[str], dict[str, dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, {row["submission"]: row for row in reader}


def gradescope_export(root: Path) -> Path:
    """A Gradescope export: named folders (flat uploads and a release folder), a zip, a broken zip."""
    export = root / "assignment_42_export"
    export.mkdir(parents=True)
    (export / "submission_metadata.yml").write_text(METADATA)
    write_submission(export / "submission_1001", REFERENCE)                       # flat upload
    shutil.copytree(FIXTURE / "starter", export / "submission_1002")              # the release folder
    write_submission(export / "submission_1003", {"functions.py": CRASHING_FUNCTIONS,
                                                  "policy.py": REFERENCE["policy.py"]})
    write_submission(export / "submission_1004", {"functions.py": HANGING_FUNCTIONS,
                                                  "policy.py": REFERENCE["policy.py"]})
    zip_submission(export / "late.zip", {"fixhw/" + k: v for k, v in REFERENCE.items()})
    (export / "broken.zip").write_bytes(b"PK\x03\x04 this is not a zip archive")
    (export / "notes.txt").write_text("not a submission")
    return root


@pytest.fixture(scope="module")
def graded_export(tmp_path_factory):
    """The export above graded once through the CLI, 2 workers, --seed 7."""
    root = gradescope_export(tmp_path_factory.mktemp("export"))
    gradebook = root / "out" / "gradebook.csv"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "grader", "batch", FIXHW, str(root), "--out", str(gradebook),
                           "--workers", "2", "--seed", "7"], cwd=REPO, capture_output=True, text=True, timeout=600)
    return root, gradebook, proc, time.monotonic() - started


def test_export_gives_one_row_per_submission_named_by_student(graded_export):
    root, gradebook, proc, _ = graded_export
    assert proc.returncode == 0, proc.stdout + proc.stderr
    columns, rows = read_gradebook(gradebook)
    assert columns == ["submission", "name", "sid", "email", "status", "total", "max_total", "functions", "policy",
                       "seed", "seconds", "message", "results"]
    assert sorted(rows) == ["broken.zip", "late.zip", "submission_1001", "submission_1002", "submission_1003",
                            "submission_1004"]  # notes.txt is not a submission
    assert "not a submission (skipped): notes.txt" in proc.stderr
    ada, pair = rows["submission_1001"], rows["submission_1002"]
    assert (ada["name"], ada["sid"], ada["email"]) == ("Ada Lovelace", "1815", "ada@example.edu")
    assert pair["name"] == "Alan Turing; Grace Hopper" and pair["sid"] == "1912; 1906"
    assert rows["submission_1004"]["name"] == "Barbara Liskov"  # a Ruby-tagged timestamp does not matter
    assert rows["late.zip"]["name"] == ""                        # not in the metadata: named by file only
    assert all(row["seed"] == "7" for row in rows.values())
    assert "grading" in proc.stderr and "6/6" in proc.stderr     # the progress bar reached the end


def test_scores_statuses_and_parts(graded_export):
    _, gradebook, _, _ = graded_export
    _, rows = read_gradebook(gradebook)
    summary = {name: (r["status"], r["total"], r["functions"], r["policy"]) for name, r in rows.items()}
    assert summary == {
        "submission_1001": ("graded", "10", "6", "4"),
        "late.zip": ("graded", "10", "6", "4"),
        "submission_1002": ("graded", "0", "0", "0"),        # the starter
        "submission_1003": ("graded", "4", "0", "4"),        # functions.py crashes on import: policy still scores
        "submission_1004": ("graded", "8", "4", "4"),        # one function hangs: only its test is lost
        "broken.zip": ("unreadable", "0", "0", "0"),         # recorded, never the end of the batch
    }
    assert all(r["max_total"] == "10" for r in rows.values())
    assert "could not be read" in rows["broken.zip"]["message"]


def test_every_submission_keeps_its_results_json_next_to_the_gradebook(graded_export):
    _, gradebook, _, _ = graded_export
    _, rows = read_gradebook(gradebook)
    for name, row in rows.items():
        results = json.loads((gradebook.parent / row["results"]).read_text())
        assert results["score"] == float(row["total"]), name
        assert (gradebook.parent / "gradebook_results").is_dir()
        saved = Row.from_dict(json.loads((gradebook.parent / row["results"]).with_name("row.json").read_text()))
        assert saved.submission == name and saved.seed == 7 and saved.key
    hang = json.loads((gradebook.parent / rows["submission_1004"]["results"]).read_text())
    assert "seed 7" in hang["output"]


def test_two_workers_grade_at_the_same_time(graded_export):
    """Six gradings of about 3 s each (one with a 5 s hang) finish well before they could one by one."""
    _, gradebook, _, elapsed = graded_export
    _, rows = read_gradebook(gradebook)
    serial = sum(float(r["seconds"]) for r in rows.values())
    assert elapsed < 0.85 * serial + 3, (elapsed, serial)


class Recorder:
    """An engine that runs the local pool and remembers which submissions it was given."""

    def __init__(self, workers=2):
        self.inner, self.seen = batch.local_engine(workers), []

    def __call__(self, tasks):
        self.seen.append(sorted(task.name for task in tasks))
        yield from self.inner(tasks)


def test_resume_skips_unchanged_and_regrades_changed(tmp_path):
    folder = tmp_path / "subs"
    write_submission(folder / "alice", REFERENCE)
    write_submission(folder / "bob", {"functions.py": REFERENCE["functions.py"]})  # no policy.py
    gradebook = tmp_path / "gradebook.csv"
    engine = Recorder()
    first = batch.run_batch(FIXHW, folder, gradebook, engine, progress=False)
    assert [(r.submission, r.status, r.score) for r in first] == [("alice", "graded", 10.0), ("bob", "graded", 6.0)]
    seeds = {r.submission: r.seed for r in first}

    again = batch.run_batch(FIXHW, folder, gradebook, engine, progress=False)
    assert engine.seen[-1] == []                                    # nothing regraded
    assert {r.submission: r.seed for r in again} == seeds           # rows kept, seeds included
    assert read_gradebook(gradebook)[1]["bob"]["total"] == "6"

    (folder / "bob" / "policy.py").write_text(REFERENCE["policy.py"])  # bob fixes his submission
    write_submission(folder / "carol", REFERENCE)                      # and a new one arrives
    third = batch.run_batch(FIXHW, folder, gradebook, engine, progress=False)
    assert engine.seen[-1] == ["bob", "carol"]
    assert {r.submission: r.score for r in third} == {"alice": 10.0, "bob": 10.0, "carol": 10.0}

    batch.run_batch(FIXHW, folder, gradebook, engine, seed=3, progress=False)  # another seed policy
    assert engine.seen[-1] == ["alice", "bob", "carol"]
    _, rows = read_gradebook(gradebook)
    assert {r["seed"] for r in rows.values()} == {"3"}


def test_failed_rows_are_retried_and_final_rows_kept(tmp_path):
    folder = tmp_path / "subs"
    write_submission(folder / "alice", REFERENCE)
    zip_submission(folder / "broken.zip", {}).write_bytes(b"not a zip")
    gradebook = tmp_path / "gradebook.csv"
    seen = []

    def failing(tasks):  # an engine whose gradings all break down
        for task in tasks:
            seen.append(task.name)
            yield Row(submission=task.name, status="error", score=None, max_score=10, parts={}, seed=task.seed,
                      seconds=0.1, message="worker lost", key=task.key)
    batch.run_batch(FIXHW, folder, gradebook, failing, progress=False)
    _, rows = read_gradebook(gradebook)
    assert rows["alice"]["status"] == "error" and rows["alice"]["total"] == "" and rows["alice"]["functions"] == ""
    # an engine's row has no row.json: the planner grades both again; the real grading writes them
    engine = Recorder()
    batch.run_batch(FIXHW, folder, gradebook, engine, progress=False)
    assert engine.seen[-1] == ["alice", "broken.zip"]
    batch.run_batch(FIXHW, folder, gradebook, engine, progress=False)
    assert engine.seen[-1] == []                                    # graded and unreadable are final
    # an error row written by a grading (row.json on disk) is retried too
    row_path = tmp_path / "gradebook_results" / "alice" / "row.json"
    data = json.loads(row_path.read_text()) | {"status": "error"}
    row_path.write_text(json.dumps(data))
    batch.run_batch(FIXHW, folder, gradebook, engine, progress=False)
    assert engine.seen[-1] == ["alice"]


def test_grade_submission_never_raises(tmp_path):
    # an unknown homework
    row = batch.grade_submission("hw9", tmp_path, tmp_path / "a", seed=1)
    assert row.status == "error" and "unknown homework" in row.message and row.score is None
    assert json.loads((tmp_path / "a" / "results.json").read_text())["score"] == 0
    # the grading process cannot even start
    sub = write_submission(tmp_path / "sub", REFERENCE)
    row = batch.grade_submission(FIXHW, sub, tmp_path / "b", seed=1, env={"PYTHONMALLOC": "no-such-allocator"})
    assert row.status == "error" and "without results" in row.message
    assert "internal error" in json.loads((tmp_path / "b" / "results.json").read_text())["output"]
    assert Row.from_dict(json.loads((tmp_path / "b" / "row.json").read_text())) == row


def test_a_grading_past_its_timeout_is_stopped(tmp_path):
    sub = write_submission(tmp_path / "sub", {"functions.py": HANGING_FUNCTIONS, "policy.py": REFERENCE["policy.py"]})
    started = time.monotonic()
    row = batch.grade_submission(FIXHW, sub, tmp_path / "out", seed=1, name="slow", timeout_s=4)
    assert time.monotonic() - started < 15
    assert row.status == "timeout" and row.submission == "slow" and "longer than 4 s" in row.message
    assert json.loads((tmp_path / "out" / "results.json").read_text())["score"] == 0
    time.sleep(0.5)  # the grading process is gone (test_kill_tree_reaches_the_sandbox: all below it too)
    assert _alive(str(tmp_path)) == []


def test_kill_tree_reaches_the_sandbox(tmp_path):
    """A grading killed mid-way (its sandbox busy in an infinite loop) leaves nothing behind."""
    sub = write_submission(tmp_path / "sub", {"functions.py": HANGING_FUNCTIONS, "policy.py": REFERENCE["policy.py"]})
    command = [sys.executable, "-m", "grader.batch_one", FIXHW, str(sub), str(tmp_path / "r.json"), "--seed", "1"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not any("grader.sandbox.worker" in cmd for cmd in _tree_commands(process.pid)):
        assert time.monotonic() < deadline and process.poll() is None, "the sandbox never started"
        time.sleep(0.2)
    tree = _tree_pids(process.pid)
    batch.kill_tree(process.pid)
    process.wait()
    time.sleep(0.5)
    assert [pid for pid in tree if _running(pid)] == []


def _tree_pids(root: int) -> list[int]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                table[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                pass
    tree, queue = [], [root]
    while queue:
        pid = queue.pop()
        tree.append(pid)
        queue += [child for child, parent in table.items() if parent == pid]
    return tree


def _tree_commands(root: int) -> list[str]:
    commands = []
    for pid in _tree_pids(root):
        try:
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    return commands


def _running(pid: int) -> bool:
    """Alive and not a zombie (this machine's init may not reap orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def _alive(text: str) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir()
            if p.name.isdigit() and _cmdline_has(p, text) and _running(int(p.name))]


def _cmdline_has(proc: Path, text: str) -> bool:
    try:
        return text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False


def test_metadata_reader(tmp_path):
    (tmp_path / "submission_metadata.yml").write_text(METADATA)
    names = batch.read_gradescope_metadata(tmp_path)
    assert names["submission_1002"] == {"name": "Alan Turing; Grace Hopper", "sid": "1912; 1906",
                                        "email": "alan@example.edu; grace@example.edu"}
    assert names["submission_1005"] == {"name": "", "sid": "", "email": ""}
    assert batch.read_gradescope_metadata(tmp_path / "nowhere") == {}
    (tmp_path / "submission_metadata.yml").write_text("submission_1: [unclosed\n")
    assert batch.read_gradescope_metadata(tmp_path) == {}


def test_an_export_unzipped_one_level_up_is_found(tmp_path):
    gradescope_export(tmp_path)
    work = batch.plan(FIXHW, tmp_path, tmp_path / "gb.csv")
    assert {t.name for t in work.tasks} >= {"submission_1001", "late.zip"}
    assert dict(next(t for t in work.tasks if t.name == "submission_1001").identity)["name"] == "Ada Lovelace"


def test_content_hash_sees_every_change(tmp_path):
    sub = write_submission(tmp_path / "s", {"a/x.py": "1", "b.py": "2"})
    before = batch.content_hash(sub)
    (sub / "a" / "x.py").write_text("3")
    assert batch.content_hash(sub) != before
    (sub / "a" / "x.py").write_text("1")
    assert batch.content_hash(sub) == before
    (sub / "a" / "x.py").rename(sub / "a" / "y.py")
    assert batch.content_hash(sub) != before


def test_gradebook_cells_never_start_a_formula(tmp_path):
    homework = find_homework(FIXHW)
    row = Row(submission="=cmd", status="error", score=None, max_score=10, parts={}, seed=1, seconds=1.0,
              message="-1 @x", name="+Eve")
    batch.write_gradebook(tmp_path / "g.csv", [row], homework)
    _, rows = read_gradebook(tmp_path / "g.csv")
    got = rows["'=cmd"]
    assert (got["name"], got["message"]) == ("'+Eve", "'-1 @x")


def test_default_workers_rule():
    homework = find_homework(FIXHW)
    assert homework.limits.cpus == 1.0 and homework.limits.memory_mb == 1024
    assert batch.default_workers(homework, cores=2, available_mb=64_000) == 2   # one per core
    assert batch.default_workers(homework, cores=16, available_mb=64_000) == 16
    assert batch.default_workers(homework, cores=64, available_mb=64_000) == 31  # memory: 64000 // (1024 + 1024)
    assert batch.default_workers(homework, cores=1, available_mb=500) == 1       # never 0
    two_cpus = dataclasses.replace(homework, limits=Limits(cpus=2.0, memory_mb=1024))
    assert batch.default_workers(two_cpus, cores=8, available_mb=64_000) == 4
    hw2 = find_homework("hw2")                                                  # 4096 MB sandboxes
    assert batch.default_workers(hw2, cores=16, available_mb=20_000) == 3


def test_task_runs_what_the_planner_planned(tmp_path):
    folder = tmp_path / "subs"
    write_submission(folder / "alice", REFERENCE)
    task = batch.plan(FIXHW, folder, tmp_path / "gb.csv", seed=5).tasks[0]
    assert isinstance(task, Task) and task.seed == 5 and Path(task.out_dir) == tmp_path / "gb_results" / "alice"
    row = task.run()
    assert (row.submission, row.status, row.score, row.seed, row.key) == ("alice", "graded", 10.0, 5, task.key)


def test_hw2_batch_of_two(tmp_path):
    """The real homework: its reference and a submission without ppo.py, 2 workers at once.

    Under normal load this takes about 30 s. Scores are checked part by part where a part does not
    depend on the machine's load (the suite's wall-clock limits can cost a grading on a host loaded
    far past its cores: measured at load 19 on 2 cores, the critic's tests ran out of time)."""
    homework = find_homework("hw2")
    folder = tmp_path / "subs"
    reference = {Path(f).name: (homework.root / f).read_text() for f in homework.files}
    write_submission(folder / "full", reference)
    write_submission(folder / "no_ppo", {k: v for k, v in reference.items() if k != "ppo.py"})
    rows = batch.run_batch("hw2", folder, tmp_path / "hw2.csv", batch.local_engine(2), seed=11, progress=False)
    full, no_ppo = rows
    assert (full.submission, full.status, no_ppo.submission, no_ppo.status) == ("full", "graded", "no_ppo", "graded")
    assert full.parts["ppo"] == 15 and full.parts["returns"] == 25 and full.max_score == 100
    assert no_ppo.parts["ppo"] == 0 and no_ppo.parts["training"] == 0 and no_ppo.parts["returns"] == 25
    assert "ppo.py is missing" in no_ppo.message
    assert full.score == sum(full.parts.values())
