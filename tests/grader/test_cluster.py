"""`batch --cluster ADDRESS` (grader/cluster.py): the same gradebook through Ray as through the local pool.

The end-to-end test starts its own Ray head on this machine (`ray start --head`, as on a real
cluster's head node), grades the fixture homework's submissions through it, and compares with a
local batch. The others check shipping, lost tasks and resources without Ray."""
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from grader import batch, cluster
from grader.batch import Task
from grader.harness.staging import find_submitted_file
from grader.manifest import REPO_ROOT, Limits

FIXTURE_PACKAGE = Path(__file__).resolve().parent.parent / "fixture_hw" / "fixhw"
STARTER = FIXTURE_PACKAGE.parent / "starter"

FIXTURE_FILE = "fixhw/functions.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_head():
    """A Ray head on 127.0.0.1 in a short temp dir (unix socket paths are capped at 107 bytes);
    killed with everything it started at the end. Yields a function that waits until the head is
    up and returns its address (what --cluster takes): the test does other work while it starts."""
    pytest.importorskip("ray")
    ray_bin = Path(sys.executable).with_name("ray")
    temp = tempfile.mkdtemp(prefix="rayt", dir="/tmp")
    port = _free_port()
    command = [str(ray_bin), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
               "--num-cpus=3", "--num-gpus=0", "--include-dashboard=false", "--disable-usage-stats",
               f"--temp-dir={temp}", "--object-store-memory=100000000",
               f"--ray-client-server-port={_free_port()}", f"--dashboard-port={_free_port()}",
               f"--dashboard-agent-listen-port={_free_port()}", f"--dashboard-agent-grpc-port={_free_port()}",
               f"--metrics-export-port={_free_port()}", f"--runtime-env-agent-port={_free_port()}"]
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    log = open(Path(temp) / "head.log", "w+")
    head = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    def address() -> str:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in Path(log.name).read_text():
            assert head.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()[-3000:]
            time.sleep(0.5)
        return f"127.0.0.1:{port}"

    try:
        yield address
    finally:
        try:
            os.killpg(head.pid, signal.SIGKILL)  # ray start, the GCS, the raylet and their workers
        except ProcessLookupError:
            pass
        head.wait()
        _kill_leftovers(temp)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def _kill_leftovers(temp: str) -> None:
    """Processes of this head that left its process group (they name its temp dir)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if temp.encode() in (entry / "cmdline").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


def _submissions(root: Path) -> Path:
    """Three submissions: the reference (release-shaped folder), the starter, a flat zip with one bug."""
    subs = root / "subs"
    (subs / "alice" / "fixhw").mkdir(parents=True)
    for name in ("functions.py", "policy.py"):
        shutil.copy(FIXTURE_PACKAGE / name, subs / "alice" / "fixhw" / name)
    shutil.copytree(STARTER, subs / "bob")
    source = (FIXTURE_PACKAGE / "functions.py").read_text()
    with zipfile.ZipFile(subs / "carol.zip", "w") as zf:
        zf.writestr("functions.py", source.replace("    return float(", "    return 0 * float(", 1))
    return subs


def _batch(subs: Path, out: Path, *extra: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "grader", "batch", str(FIXTURE_PACKAGE), str(subs), "--out",
                           str(out), "--seed", "7", *extra], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=400)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    with open(out, newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def _results(out: Path, name: str) -> dict:
    data = json.loads((batch.results_root(out) / name / batch.RESULTS_NAME).read_text())
    data.pop("execution_time")
    return data


def test_a_batch_on_a_ray_cluster_gives_the_local_gradebook(ray_head, tmp_path):
    subs = _submissions(tmp_path)
    started = time.monotonic()
    local = _batch(subs, tmp_path / "local.csv", "--workers", "2")
    print(f"local batch of 3: {time.monotonic() - started:.1f} s")
    address = ray_head()
    print(f"then waited for the head: {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    remote = _batch(subs, tmp_path / "remote.csv", "--cluster", address)
    print(f"cluster batch of 3: {time.monotonic() - started:.1f} s")
    for rows in (local, remote):
        for row in rows:
            row["results"] = row["results"].replace("remote_results", "local_results")
    assert remote == local
    assert [row["status"] for row in local] == ["graded"] * 3
    assert [row["submission"] for row in local] == ["alice", "bob", "carol.zip"]
    total = {row["submission"]: float(row["total"]) for row in local}
    assert total["alice"] == float(local[0]["max_total"]) > total["carol.zip"] > total["bob"] == 0
    for name in ("alice", "bob", "carol.zip"):
        assert _results(tmp_path / "remote.csv", name) == _results(tmp_path / "local.csv", name)
        assert json.loads((batch.results_root(tmp_path / "remote.csv") / name / batch.ROW_NAME).read_text())["key"]
    # resumable as a local batch is: nothing to grade the second time
    again = subprocess.run([sys.executable, "-m", "grader", "batch", str(FIXTURE_PACKAGE), str(subs), "--out",
                            str(tmp_path / "remote.csv"), "--seed", "7", "--cluster", address],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=200)
    assert "3 unchanged submission(s) already graded" in again.stderr, again.stderr
    print(f"resumed: {time.monotonic() - started:.1f} s")


def test_a_folder_ships_exactly_the_files_staging_could_pick(tmp_path):
    sub = tmp_path / "dave"
    (sub / "release" / "fixhw").mkdir(parents=True)
    (sub / "release" / "fixhw" / "functions.py").write_text("x = 1\n")
    (sub / "functions.py").write_text("x = 2\n")                     # shallower: staging's pick
    (sub / ".git").mkdir()
    (sub / ".git" / "functions.py").write_text("hidden\n")
    (sub / "__pycache__").mkdir()
    (sub / "__pycache__" / "functions.py").write_text("cache\n")
    (sub / "data.bin").write_bytes(b"\0" * 2**20)                    # not a manifest file: not shipped
    (sub / "policy.py").symlink_to("/etc/passwd")                    # a link: never shipped
    packed = cluster.pack_submission(sub, (FIXTURE_FILE, "fixhw/policy.py"))
    assert packed[:2] == ("folder", "dave") and len(packed[2]) < 2**16
    dest = tmp_path / "node"
    dest.mkdir()
    copy = cluster.unpack_submission(packed, dest)
    shipped = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert shipped == ["functions.py", "release/fixhw/functions.py"]
    assert find_submitted_file(copy, FIXTURE_FILE).read_text() == find_submitted_file(sub, FIXTURE_FILE).read_text()
    assert find_submitted_file(copy, "fixhw/policy.py") is None
    zipped = tmp_path / "eve.zip"
    zipped.write_bytes(b"PK not really")
    assert cluster.unpack_submission(cluster.pack_submission(zipped, ()), dest).read_bytes() == b"PK not really"


class _FakeRay:
    """ray.get raising what Ray raises when a task's node died."""
    def __init__(self, error):
        import ray
        self.exceptions, self.error = ray.exceptions, error

    def get(self, ref):
        raise self.error


def _task(tmp_path, name="frank") -> Task:
    return Task(hw=str(FIXTURE_PACKAGE), submission=str(tmp_path / name), out_dir=str(tmp_path / "out" / name),
                seed=3, key="k1", name=name, identity=(("name", "Frank"), ("sid", "42"), ("email", "f@x")))


def test_a_task_whose_node_died_is_a_lost_row_not_the_end_of_the_batch(tmp_path):
    ray = pytest.importorskip("ray")
    row = cluster._collect(_FakeRay(ray.exceptions.NodeDiedError("node 10.0.0.7 died")), None, _task(tmp_path),
                           time.monotonic())
    assert (row.status, row.score, row.seed, row.key, row.sid) == (cluster.LOST, None, 3, "k1", "42")
    assert "lost this grading" in row.message and "again" in row.message
    out = tmp_path / "out" / "frank"
    assert json.loads((out / batch.ROW_NAME).read_text())["status"] == "lost"
    assert json.loads((out / batch.RESULTS_NAME).read_text())["score"] == 0.0  # a valid Gradescope file
    assert cluster.LOST not in batch.FINAL  # the next run grades it again


def test_a_node_with_another_checkout_refuses_to_grade(tmp_path):
    (tmp_path / "frank").mkdir()
    task = cluster._portable(_task(tmp_path))
    assert task.hw == "repo:tests/fixture_hw/fixhw"
    reply = cluster._grade_on_node(task, cluster.pack_submission(tmp_path / "frank", (FIXTURE_FILE,)),
                                   "0" * 16, False, {})
    assert reply["row"]["status"] == "error" and "another version" in reply["row"]["message"]
    assert reply["results"] is None


def test_task_resources_cpu_gpu_and_the_gpu_variable():
    assert cluster.task_resources(Limits(), 0) == (1.0 + batch.HARNESS_CPUS, 0, {"CUDA_VISIBLE_DEVICES": ""})
    assert cluster.task_resources(Limits(gpu=True), 0)[1:] == (0, {"CUDA_VISIBLE_DEVICES": ""})
    # with a GPU Ray sets CUDA_VISIBLE_DEVICES itself, to the one it reserved for the task
    assert cluster.task_resources(Limits(cpus=2.0, gpu=True), 4) == (2.0 + batch.HARNESS_CPUS, 1, {})
    assert cluster.task_resources(Limits(gpu=False), 4)[1:] == (0, {"CUDA_VISIBLE_DEVICES": ""})


def test_a_cluster_too_small_for_one_grading_is_refused_not_waited_for():
    assert cluster.unschedulable(1.25, 0, [{"CPU": 1.0}, {"CPU": 2.0}]) is None
    message = cluster.unschedulable(1.25, 0, [{"CPU": 1.0}, {"CPU": 0.0, "GPU": 1.0}])
    assert "1.25 CPUs" in message and "largest node offers 1 CPUs" in message
    assert "and 1 GPU" in cluster.unschedulable(1.25, 1, [{"CPU": 8.0}, {"CPU": 1.0, "GPU": 1.0}])
    assert cluster.unschedulable(1.25, 1, [{"CPU": 8.0, "GPU": 2.0}]) is None
    assert cluster.unschedulable(1.25, 0, []) is not None


def test_an_address_where_nothing_listens_fails_at_once():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        assert "no Ray cluster answers at 127.0.0.1:" in cluster._unreachable(f"127.0.0.1:{port}")
        assert "no Ray cluster answers" in cluster._unreachable(f"ray://127.0.0.1:{port}")
    assert cluster._unreachable("auto") is None and cluster._unreachable("local") is None


def test_without_ray_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(SystemExit, match=r"pip install -e \"\.\[cluster\]\""):
        cluster.ray_engine("127.0.0.1:6379")


def test_the_grader_does_not_import_ray():
    code = "import sys, grader.cli, grader.batch, grader.harness.grade; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
