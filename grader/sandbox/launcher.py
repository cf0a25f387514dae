"""Start, talk to and kill the sandboxed worker (this module runs on the trusted side).

Isolation of the worker process, strongest first:
- **bubblewrap** (`bwrap`, used when it works here): new mount, PID, network, IPC and UTS namespaces;
  the filesystem holds only the Python installation and system libraries (read-only), the staged
  submission at /course (read-only) and a private, size-capped /tmp that is also its cwd and HOME.
  The repository, the hidden suites, the harness and its output files do not exist in there, and
  every process the worker starts dies with it (PID namespace, --die-with-parent).
- **fallback** (no working bwrap): a plain subprocess in its own session with the same rlimits and
  a private temp dir; it can still see the filesystem, so a loud WARNING is printed.
In both, when the grader runs as root the worker drops to `nobody` before any student code runs,
and RLIMITs cap address space, CPU seconds, processes, file size and open files. The environment is
rebuilt from scratch: nothing tells the worker it is being graded.
"""
from __future__ import annotations

import ctypes
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grader.manifest import Limits
from grader.wire import PeerClosed, WireError, WireTimeout, encode, read_message, send_bytes

SANDBOX_STAGE = "/course"
# loaded once here: preexec_fn runs between fork and exec, where importing is unsafe
try:
    _LIBC = ctypes.CDLL(None)
except OSError:  # pragma: no cover - not Linux
    _LIBC = None
NOBODY = 65534
# Memory that no rlimit counts, watched from outside by the harness (Worker._watch_sandbox):
# - every file in the sandbox's tmpfs costs about 1 kB of kernel memory whatever its size, which
#   neither --size (bytes) nor RLIMIT_AS counts: empty files at ~80k/s would exhaust the machine;
# - memfd files held open live outside the address space (as do detached SysV shared memory
#   segments, which the worker caps in the sandbox's own IPC namespace instead).
MAX_TMP_FILES = 20_000
WATCH_INTERVAL_S = 0.1
FALLBACK_WARNING = ("WARNING: bubblewrap is not usable here; the submission runs in a plain subprocess "
                    "with resource limits only (it can read the filesystem). Do not use this for real grades.")


class WorkerTimeout(Exception):
    """The worker did not answer in time; it has been killed."""


class WorkerDied(Exception):
    """The worker process ended (crash, os._exit, a resource limit) or broke the protocol."""


@dataclass(frozen=True)
class SandboxSettings:
    stage_dir: Path
    limits: Limits = Limits()
    force_fallback: bool = False


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """Whether bubblewrap can create the namespaces we need in this container."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--die-with-parent", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _python_dirs() -> list[str]:
    """Directories the interpreter needs: installation prefixes and every site-packages."""
    import site
    dirs = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    dirs.update(p for p in site.getsitepackages() if os.path.isdir(p))
    dirs.update(os.path.realpath(d) for d in list(dirs))
    # a directory inside another one is covered by the outer bind
    return sorted(d for d in dirs if not any(d != o and d.startswith(o + "/") for o in dirs))


def _instructor_paths() -> list[str]:
    """Where the hidden suites, the harness and the reference solutions live for this process.

    Normally that is the repository, which the sandbox never mounts. But a non-editable install
    (`pip install .`) copies `grader/` and the homework packages into site-packages, and a repository
    may sit under a bound directory (/usr/src/course): those copies must be hidden too."""
    import importlib.util

    from grader.manifest import REGISTRY, REPO_ROOT
    paths = {REPO_ROOT / name for name in ("grader", "tests", "benchmarks", ".git", *REGISTRY.values())}
    for package in ("grader", *REGISTRY.values()):
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        for location in (spec.submodule_search_locations or []) if spec is not None else []:
            paths.add(Path(location))
    return sorted({os.path.realpath(p) for p in paths if p.exists()})


def _masks(bound: list[str], hidden: list[str]) -> list[str]:
    """The hidden paths that lie inside a bound directory (they get an empty tmpfs on top)."""
    return [h for h in hidden if any(h == b or h.startswith(b.rstrip("/") + "/") for b in bound)]


def _readable_by_others(path: str) -> bool:
    """Whether `nobody` could reach `path` (every ancestor directory world-executable)."""
    path = os.path.realpath(path)
    while path != "/":
        if not os.stat(path).st_mode & 0o001:
            return False
        path = os.path.dirname(path)
    return True


def _environment(home: str) -> dict:
    # Rebuilt from nothing: no grader, CI or pytest variable reaches student code.
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}


class Worker:
    """One sandboxed worker process and the two pipes to it."""

    def __init__(self, settings: SandboxSettings):
        self.settings = settings
        self.sandboxed = bwrap_works() and not settings.force_fallback
        self.output = OutputCapture()
        self._seq = 0
        # bwrap gives the worker a fresh tmpfs; the fallback gets a directory next to the stage,
        # removed with it even if this process dies before kill()
        self._private_tmp = None if self.sandboxed else tempfile.mkdtemp(prefix="worker-tmp-",
                                                                         dir=settings.stage_dir.parent)
        self._drop = os.getuid() == 0 and (self.sandboxed or _readable_by_others(sys.base_prefix))
        request_r, self._request_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        stage = SANDBOX_STAGE if self.sandboxed else str(settings.stage_dir)
        # SysV shared memory limits are per IPC namespace: only the sandbox has one of its own
        shm_limit = settings.limits.memory_mb * 2**20 if self.sandboxed else 0
        python = [sys.executable, "-I", "-B", "-u", "-c",
                  f"import sys; sys.path.insert(0, {stage!r}); from grader.sandbox.worker import main; "
                  f"main({request_r}, {reply_w}, {stage!r}, {self._drop}, {shm_limit})"]
        home = "/tmp" if self.sandboxed else self._private_tmp
        if not self.sandboxed:
            os.chmod(self._private_tmp, 0o1777)
        command = self._bwrap_command() + python if self.sandboxed else python
        output_r, output_w = os.pipe()
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output_w, stderr=output_w, cwd=self._private_tmp or "/",
            env=_environment(home), pass_fds=(request_r, reply_w), start_new_session=True,
            preexec_fn=self._set_limits)
        for fd in (request_r, reply_w, output_w):
            os.close(fd)
        os.set_blocking(self._request_w, False)
        self.output.start(output_r)
        self._killed_because: str | None = None
        self._stopped = threading.Event()
        if self.sandboxed:
            threading.Thread(target=self._watch_sandbox, daemon=True).start()

    def _watch_sandbox(self) -> None:
        """Kill the sandbox when its /tmp holds more than MAX_TMP_FILES files, or its memfd files more
        than the memory limit (see MAX_TMP_FILES)."""
        root, memory = None, self.settings.limits.memory_mb * 2**20
        while not self._stopped.wait(WATCH_INTERVAL_S) and self.process.poll() is None:
            if root is None:
                root = _sandbox_root(self.process.pid)
                continue
            try:
                info = os.statvfs(root + "/tmp")
                shared = _shared_memory_bytes(root)
            except OSError:
                return  # the sandbox is gone
            if info.f_files - info.f_ffree > MAX_TMP_FILES:
                self._killed_because = f"it created more than {MAX_TMP_FILES} files in /tmp"
            elif shared > memory:
                self._killed_because = (f"it held {shared // 2**20} MB in memfd files or shared mappings "
                                        f"(the memory limit is {memory // 2**20} MB)")
            else:
                continue
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            return

    def _bwrap_command(self) -> list[str]:
        size = self.settings.limits.max_file_mb * 2**20 * 2
        cmd = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
               "--die-with-parent", "--new-session", "--clearenv",
               "--proc", "/proc", "--dev", "/dev",
               "--perms", "1777", "--size", str(size), "--tmpfs", "/tmp"]
        if os.getuid() != 0:
            cmd.insert(1, "--unshare-user")
        for env_name, value in _environment("/tmp").items():
            cmd += ["--setenv", env_name, value]
        for system_dir in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
            if os.path.islink(system_dir):  # merged-/usr systems: /lib -> usr/lib
                cmd += ["--symlink", os.readlink(system_dir), system_dir]
            else:
                cmd += ["--ro-bind-try", system_dir, system_dir]
        for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "localtime"):
            cmd += ["--ro-bind-try", f"/etc/{etc}", f"/etc/{etc}"]
        made = set()
        python_dirs = _python_dirs()
        for python_dir in python_dirs:
            # parents readable by `nobody` (bwrap would create them 0700), e.g. /root/.pyenv
            for parent in reversed(Path(python_dir).parents):
                if str(parent) not in made and str(parent) not in ("/", "/tmp", "/usr"):
                    cmd += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            cmd += ["--ro-bind", python_dir, python_dir]
        for hidden in _masks(python_dirs + ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc"],
                             _instructor_paths()):
            cmd += ["--perms", "0555", "--tmpfs", hidden]  # installed copies of suites and solutions
        for device in sorted(Path("/dev").glob("nvidia*")):  # CUDA, when the machine has it
            cmd += ["--dev-bind-try", str(device), str(device)]
        cmd += ["--ro-bind", str(self.settings.stage_dir), SANDBOX_STAGE, "--chdir", "/tmp", "--"]
        return cmd

    def _set_limits(self) -> None:
        """Runs in the child between fork and exec: resource limits inherited by the whole sandbox."""
        limits = self.settings.limits
        _die_with_parent()
        memory = limits.memory_mb * 2**20
        # CUDA reserves huge virtual ranges, so with a GPU we cap the data segment instead
        kind = resource.RLIMIT_DATA if os.path.exists("/dev/nvidia0") else resource.RLIMIT_AS
        resource.setrlimit(kind, (memory, memory))
        cpu = int(limits.total_timeout_s) + 30
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_mb * 2**20,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.max_open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self._drop:  # counts processes of `nobody`; root itself is exempt from this limit
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes,) * 2)

    # --------------------------------------------------------------------------------- requests
    def request(self, message: dict, timeout: float):
        """Send one request and return the worker's reply dict; kills the worker on any failure."""
        self._seq += 1
        message = dict(message, seq=self._seq)
        data = encode(message)  # outside the try: a value the suite cannot send is the suite's error
        deadline = time.monotonic() + max(timeout, 0.0)
        if select.select([self._reply_r], [], [], 0)[0]:
            # bytes before the question: a reply forged or left over by student code (a thread
            # writing to the pipe), or the end of a dead worker. Never read them as this answer.
            try:
                eof = os.read(self._reply_r, 1) == b""
            except OSError:
                eof = True
            if eof:  # its end of the pipe closed: the worker died since the last answer
                raise WorkerDied(self._death_reason())
            self.kill()
            raise WorkerDied("the worker wrote to the grader's pipe out of turn (a thread of your code "
                             "still running after a call, or code writing to file descriptors it does not own)")
        try:
            send_bytes(self._request_w, data, timeout=max(timeout, 0.001))
            reply = read_message(self._reply_r, timeout=max(deadline - time.monotonic(), 0.001))
        except WireTimeout:
            self.kill()
            raise WorkerTimeout(f"no answer within {timeout:.1f} s") from None
        except PeerClosed:
            raise WorkerDied(self._death_reason()) from None
        except WireError as err:
            self.kill()
            raise WorkerDied(f"the worker sent a malformed reply ({err})") from None
        if type(reply) is not dict or reply.get("seq") != self._seq or type(reply.get("ok")) is not bool:
            self.kill()
            raise WorkerDied("the worker sent a reply that does not match the request")
        return reply

    def alive(self) -> bool:
        return self.process.poll() is None

    def _death_reason(self) -> str:
        if self._killed_because is not None:
            self.kill()
            return f"the worker was stopped: {self._killed_because}"
        try:  # it closed its end of the pipe: usually it is exiting right now
            code = self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the worker closed its connection"
        self.kill()
        if code < 0 or code > 128:
            number = -code if code < 0 else code - 128
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
            hint = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)",
                    "SIGKILL": " (killed: memory or time limit?)", "SIGSEGV": " (segmentation fault)"}
            return f"the worker process was killed by {name}{hint.get(name, '')}"
        return f"the worker process exited with status {code} (os._exit, sys.exit or a crash)"

    def kill(self) -> None:
        """Kill the worker and everything it started; safe to call twice."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if not self.sandboxed and self._drop:
            _kill_user_processes(NOBODY)  # a fallback daemon may have left our process group
        for fd in (self._request_w, self._reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._request_w = self._reply_r = -1
        self._stopped.set()
        self.output.stop()
        if self._private_tmp is not None:
            shutil.rmtree(self._private_tmp, ignore_errors=True)


def _sandbox_root(bwrap_pid: int) -> str | None:
    """The sandbox's root seen from outside (/proc/CHILD/root), once bwrap's child has entered it
    (recognized by /course and a /tmp of its own); None before that."""
    try:
        children = Path(f"/proc/{bwrap_pid}/task/{bwrap_pid}/children").read_text().split()
    except OSError:
        return None
    for child in children:
        root = f"/proc/{child}/root"
        try:
            if os.path.isdir(root + SANDBOX_STAGE) and os.stat(root + "/tmp").st_dev != os.stat("/tmp").st_dev:
                return root
        except OSError:
            pass
    return None


def _shared_memory_bytes(root: str) -> int:
    """Bytes of shared memory the sandbox's processes hold, read through its own /proc: memfd files
    held open, and resident shared mappings (RssShmem; RLIMIT_DATA, used with a GPU, does not count
    them). An upper bound: a mapping shared by several processes counts once per process. SysV
    segments are capped inside the sandbox's IPC namespace by the worker instead (worker.main)."""
    total = 0
    for pid in os.listdir(root + "/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"{root}/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("RssShmem:"):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        fd_dir = f"{root}/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # exited meanwhile
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}").startswith("/memfd:"):
                    total += os.stat(f"{fd_dir}/{fd}").st_blocks * 512
            except OSError:
                pass
    return total


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: if the harness dies, the kernel kills the worker (or bwrap) too."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL, 0, 0, 0)


def _kill_user_processes(uid: int) -> None:
    """Fallback mode only: processes of `uid` that escaped the session (there is no PID namespace)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


class OutputCapture:
    """Drains the worker's stdout+stderr in a thread, keeping only a capped head and tail."""

    def __init__(self, keep: int = 4000):
        self.keep, self._lock = keep, threading.Lock()
        self._head, self._tail, self._dropped = b"", b"", 0
        self._fd, self._thread = -1, None

    def start(self, fd: int) -> None:
        self._fd = fd
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                room = self.keep - len(self._head)
                self._head += chunk[:max(room, 0)]
                rest = chunk[max(room, 0):]
                if rest:
                    tail = self._tail + rest
                    self._dropped += max(len(tail) - self.keep, 0)
                    self._tail = tail[-self.keep:]

    def take(self) -> str:
        """Everything printed since the last take(), truncated in the middle when long."""
        for _ in range(100):  # let the drain thread catch up with what is already in the pipe
            if self._fd < 0 or not select.select([self._fd], [], [], 0)[0]:
                break
            time.sleep(0.002)
        with self._lock:
            head, tail, dropped = self._head, self._tail, self._dropped
            self._head, self._tail, self._dropped = b"", b"", 0
        text = head.decode("utf-8", "replace")
        if dropped:
            text += f"\n[... {dropped} bytes of output not shown ...]\n"
        return text + tail.decode("utf-8", "replace")

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._fd >= 0:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = -1
