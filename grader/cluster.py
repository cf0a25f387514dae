"""`python -m grader batch HW SUBMISSIONS --cluster ADDRESS`: the batch's gradings as Ray tasks.

Ray (the optional `cluster` extra, `pip install -e ".[cluster]"`) only schedules: every task runs the
same per-submission grading as the local pool (`grader.batch.grade_submission`: its own process,
bubblewrap sandbox, cgroup and limits) on whichever node has room, and the driver (the machine that
ran the command) keeps the gradebook. So every node needs what a local batch needs: the same checkout
of the course repository with its venv installed (`pip install -e ".[dev]"`), and bubblewrap.

Per task:
- the driver ships the submission as data (a zip's bytes, or a folder's candidate files: those whose
  name is one of the manifest's files, exactly what staging could pick), so nodes need no shared disk;
- the node checks that its hidden suite and reference are the driver's (`suite_version`), grades into
  a temporary folder and returns the Row and results.json as data; the driver writes both into the
  submission's folder, so resuming works exactly as for a local batch;
- resources: `cpus` + HARNESS_CPUS of the manifest, and one GPU when the homework asks for one
  (`gpu: true`) and the cluster has GPUs (Ray then sets CUDA_VISIBLE_DEVICES; the sandbox gets that
  GPU, see grader/sandbox/gpu.py); a task without a GPU reservation gets no GPU at all;
- a task whose node or worker dies is retried once by Ray elsewhere, then becomes a row with status
  `lost` (running the command again retries it); it never stops the batch.
Ray is imported only here, and this module only when `--cluster` is given.
"""
from __future__ import annotations

import dataclasses
import io
import os
import socket
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Iterator

from grader.batch import (ERROR, FINAL, HARNESS_CPUS, RESULTS_NAME, Engine, Row, Task, _read_results, _save_row,
                          suite_version)
from grader.harness.results import write_results
from grader.manifest import REGISTRY, REPO_ROOT, find_homework

LOST = "lost"          # the node or worker running the grading died (Ray retried it once)
TASK_RETRIES = 1       # Ray's retries of a task whose worker or node died (not of a grading's own failure)
MISSING_RAY = ("--cluster needs Ray, which is not installed here: pip install -e \".[cluster]\" "
               "(the same on every node of the cluster; see docs/GRADER.md, \"Grading on a Ray cluster\")")


def ray_engine(address: str, unsandboxed: bool = False, workers: int | None = None) -> Engine:
    """An engine for grader.batch.run_batch that grades on the Ray cluster at `address`.

    `address`: what `ray start --head` printed (HEAD_IP:6379), "auto" (this machine is a node of the
    cluster), a Ray client address ray://HEAD_IP:10001, or "local" (start a private Ray on this
    machine). `workers`: at most this many gradings at once (default: as many as the cluster's
    resources hold)."""
    try:
        import ray
    except ModuleNotFoundError:
        raise SystemExit(MISSING_RAY) from None

    def run(tasks: list[Task]) -> Iterator[Row]:
        if not tasks:
            return
        if not ray.is_initialized():
            unreachable = _unreachable(address)
            if unreachable:
                raise SystemExit(unreachable)
            try:
                ray.init(address=None if address == "local" else address, log_to_driver=False,
                         logging_level="WARNING", configure_logging=False)
            except Exception as err:
                raise SystemExit(f"could not reach the Ray cluster at {address}: {type(err).__name__}: {err}\n"
                                 "Start it with `ray start --head` (docs/GRADER.md, \"Grading on a Ray cluster\")"
                                 ) from None
        homework = find_homework(tasks[0].hw)
        version = suite_version(homework)
        resources = ray.cluster_resources()
        cpus, gpus, env = task_resources(homework.limits, resources.get("GPU", 0))
        problem = unschedulable(cpus, gpus, [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")])
        if problem:
            raise SystemExit(problem)
        remote = ray.remote(_grade_on_node).options(num_cpus=cpus, num_gpus=gpus, max_retries=TASK_RETRIES,
                                                    retry_exceptions=False)
        queue, running = list(tasks), {}
        # enough in flight to keep every node busy, without shipping every submission at once
        limit = workers if workers and workers > 0 else 2 * max(1, int(resources.get("CPU", 1) // cpus)) + 1
        try:
            while queue or running:
                while queue and len(running) < limit:
                    task = queue.pop(0)
                    started = time.monotonic()
                    try:
                        ref = remote.remote(_portable(task), pack_submission(Path(task.submission), homework.files),
                                            version, unsandboxed, env)
                    except Exception as err:  # unreadable on the driver (permissions, vanished)
                        yield _failed_row(task, ERROR, f"the submission could not be sent: {type(err).__name__}: "
                                          f"{err}", started)
                        continue
                    running[ref] = (task, started)
                done, _ = ray.wait(list(running), num_returns=1)
                task, started = running.pop(done[0])
                yield _collect(ray, done[0], task, started)
        finally:  # Ctrl-C or an early stop: gradings still queued or running on the cluster are cancelled
            for ref in running:
                try:
                    ray.cancel(ref, force=True)
                except Exception:
                    pass
    return run


def task_resources(limits, cluster_gpus: float) -> tuple[float, int, dict[str, str]]:
    """(num_cpus, num_gpus, extra environment) of one grading's Ray task. One GPU when the homework
    asks for one and the cluster has any (Ray sets CUDA_VISIBLE_DEVICES to it); otherwise none, and
    CUDA_VISIBLE_DEVICES empty: a grading must not use a GPU that Ray reserved for nobody."""
    gpus = 1 if limits.gpu and cluster_gpus >= 1 else 0
    return limits.cpus + HARNESS_CPUS, gpus, {} if gpus else {"CUDA_VISIBLE_DEVICES": ""}


def _unreachable(address: str, timeout_s: float = 10.0) -> str | None:
    """Why nothing listens at a HOST:PORT (or ray://HOST:PORT) address, or None: ray.init would
    retry for minutes before saying so."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return None  # "auto", "local": Ray finds the cluster itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as err:
        return (f"no Ray cluster answers at {address} ({err.strerror or err}). Start its head with "
                "`ray start --head --port=6379` and pass the address it prints (docs/GRADER.md, "
                "\"Grading on a Ray cluster\")")
    return None


def unschedulable(cpus: float, gpus: int, nodes: list[dict]) -> str | None:
    """Why no node of the cluster (its resources) can ever run one grading, or None. Ray would
    otherwise wait for such a node forever."""
    if any(node.get("CPU", 0) >= cpus and node.get("GPU", 0) >= gpus for node in nodes):
        return None
    largest = max((node.get("CPU", 0) for node in nodes), default=0)
    need = f"{cpus:g} CPUs" + (f" and {gpus} GPU" if gpus else "")
    return (f"no node of the Ray cluster can run a grading: each needs {need} (the manifest's `cpus` plus "
            f"{HARNESS_CPUS:g} for the harness) and the largest node offers {largest:g} CPUs. Give nodes more "
            "(`ray start --num-cpus N`) or lower `cpus` in the homework's submission.yaml")


def _collect(ray, ref, task: Task, started: float) -> Row:
    """The finished task's Row, with results.json and row.json written under task.out_dir."""
    out_dir = Path(task.out_dir)
    try:
        reply = ray.get(ref)
    except ray.exceptions.RayTaskError as err:  # our own code failed on the node (e.g. no grader there)
        cause = err.cause if isinstance(getattr(err, "cause", None), BaseException) else err
        return _failed_row(task, ERROR, f"the grading could not run on its node ({type(cause).__name__}: "
                           f"{str(cause).strip().splitlines()[-1] if str(cause).strip() else ''}); every node "
                           "needs the course checkout, its venv and bubblewrap", started)
    except ray.exceptions.RayError as err:  # the worker or the node died, twice: never the end of the batch
        return _failed_row(task, LOST, f"the cluster lost this grading ({type(err).__name__}: "
                           f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}); run the command "
                           "again to retry it", started)
    row = Row.from_dict(reply["row"])
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / RESULTS_NAME).unlink(missing_ok=True)
        if reply.get("results") is not None:
            write_results(out_dir / RESULTS_NAME, reply["results"])
    except OSError:
        pass  # _save_row below still writes what it can
    _save_row(out_dir, row)
    return row


def _failed_row(task: Task, status: str, message: str, started: float) -> Row:
    row = Row(submission=task.name, status=status, score=None, max_score=0.0, parts={}, seed=task.seed,
              seconds=round(time.monotonic() - started, 2), message=message[:500], key=task.key,
              **dict(task.identity))
    try:
        row.max_score = find_homework(task.hw).total_points
        (Path(task.out_dir) / RESULTS_NAME).unlink(missing_ok=True)
    except Exception:
        pass
    _save_row(Path(task.out_dir), row)  # and an error results.json saying why
    return row


# ---------------------------------------------------------------- shipping a submission

def pack_submission(path: Path, files: tuple[str, ...]) -> tuple[str, str, bytes]:
    """(kind, name, data) of a submission: a file's bytes as they are; for a folder, a tar of the
    regular files whose name is one of `files`' names (the only ones staging can pick), at their
    relative paths, skipping links and the hidden and __pycache__ folders as staging does."""
    if not path.is_dir():
        return "file", path.name, path.read_bytes()
    names = {PurePosixPath(name).name for name in files}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory, subdirs, filenames in os.walk(path):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d != "__pycache__")
            for filename in sorted(filenames):
                source = Path(directory) / filename
                if filename in names and source.is_file() and not source.is_symlink():
                    tar.add(source, arcname=source.relative_to(path).as_posix(), recursive=False)
    return "folder", path.name, buffer.getvalue()


def unpack_submission(packed: tuple[str, str, bytes], dest: Path) -> Path:
    """Recreate a packed submission under `dest` (a fresh folder) and return its path."""
    kind, name, data = packed
    target = dest / (Path(name).name or "submission")
    if kind == "file":
        target.write_bytes(data)
        return target
    target.mkdir()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tar.extractall(target, filter="data")  # regular files at relative paths: refuses anything else
    return target


def _portable(task: Task) -> Task:
    """The task with its homework named so that another checkout finds it (a homework folder inside
    the repository, e.g. the fixture, by its path relative to the repository)."""
    if task.hw in REGISTRY:
        return task
    path = Path(task.hw).resolve()
    if path.is_relative_to(REPO_ROOT):
        return dataclasses.replace(task, hw="repo:" + path.relative_to(REPO_ROOT).as_posix())
    return task


def _local_hw(hw: str) -> str:
    return str(REPO_ROOT / hw[len("repo:"):]) if hw.startswith("repo:") else hw


# ---------------------------------------------------------------- on the node

def _grade_on_node(task: Task, packed: tuple[str, str, bytes], version: str, unsandboxed: bool,
                   env: dict[str, str]) -> dict:
    """A Ray task: grade one submission on this node; return {"row", "results", "node"} as data."""
    from grader.batch import grade_submission
    node = socket.gethostname()
    hw = _local_hw(task.hw)
    with tempfile.TemporaryDirectory(prefix="grader-cluster-") as tmp:
        tmp = Path(tmp)
        os.chmod(tmp, 0o755)
        out_dir = tmp / "out"
        here = suite_version(find_homework(hw))
        if here != version:
            row = Row(submission=task.name, status=ERROR, score=None, max_score=0.0, parts={}, seed=task.seed,
                      seconds=0.0, key=task.key, **dict(task.identity),
                      message=f"node {node} has another version of the homework's hidden suite or reference "
                              f"({here}, the driver has {version}): update its checkout")
            return {"row": row.to_dict(), "results": None, "node": node}
        (tmp / "in").mkdir()
        submission = unpack_submission(packed, tmp / "in")
        row = grade_submission(hw, submission, out_dir, task.seed, name=task.name, identity=dict(task.identity),
                               key=task.key, unsandboxed=unsandboxed, env=env)
        if row.status not in FINAL:  # e.g. no bubblewrap there: say which node needs fixing
            row.message = f"[node {node}] {row.message}"
        return {"row": row.to_dict(), "results": _read_results(out_dir / RESULTS_NAME), "node": node}
