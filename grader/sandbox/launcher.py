"""Start, talk to and kill the sandboxed worker (this module runs on the trusted side).

Isolation of the worker process, strongest first:
- **bubblewrap** (`bwrap`, required for a real grade): new mount, PID, network, IPC and UTS
  namespaces; the filesystem holds only the Python installation and system libraries (read-only),
  the staged submission at /course (read-only), a private, size-capped /tmp that is also its cwd and
  HOME, and a /dev without ptys. The repository, the hidden suites, the harness and its output files
  do not exist in there, and every process the worker starts dies with it (PID namespace,
  --die-with-parent). A seccomp filter (grader/sandbox/seccomp.py) denies the kernel keyring and new
  user namespaces.
- **fallback** (only when asked: `--unsandboxed`, or `--public` feedback without bwrap): a plain
  subprocess in its own session with the same limits and a private temp dir; it can still see the
  filesystem, so a loud WARNING is printed. Without bwrap and without that choice, grading stops
  with SandboxUnavailable instead (see `sandbox_notes`).
In both, the worker starts in a fresh (empty) session keyring, and when the grader runs as root it
drops, before any student code runs, to a uid of its own (`UidLease`: no two live sandboxes share
one, so RLIMIT_NPROC and the per-user keyrings are never shared); each worker also gets a cgroup of
its own with memory, pids and cpu limits where the host allows it (grader/sandbox/cgroups.py).
RLIMITs cap address space, CPU seconds, processes, file size and open files. The environment is
rebuilt from scratch: nothing tells the worker it is being graded.
A grading given a GPU (grader/sandbox/gpu.py) also gets the NVIDIA device nodes and its
CUDA_VISIBLE_DEVICES, and its memory is capped by RLIMIT_DATA instead of the address space.
"""
from __future__ import annotations

import ctypes
import fcntl
import os
import platform
import random
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
from grader.sandbox import cgroups, gpu, seccomp
from grader.wire import PeerClosed, WireError, WireTimeout, encode, read_message, send_bytes

SANDBOX_STAGE = "/course"
# loaded once here: preexec_fn runs between fork and exec, where importing is unsafe
try:
    _LIBC = ctypes.CDLL(None)
except OSError:  # pragma: no cover - not Linux
    _LIBC = None
NOBODY = 65534
# Each live sandbox runs as its own uid from this range (a grader running as root only): a uid no
# account uses, so RLIMIT_NPROC and the kernel's per-user keyring belong to one sandbox.
SANDBOX_UID_BASE = 1_900_000_000
SANDBOX_UID_SLOTS = 4096
UID_LOCK_DIRS = ("/run/deeprl-grader", "/tmp/deeprl-grader-uids")
KEYCTL_JOIN_SESSION_KEYRING = 1
PROBE_TIMEOUT_S = 60  # an overloaded host is slow, not broken: a slow probe must not mean "no sandbox"
# Memory that no rlimit counts, watched from outside by the harness (Worker._watch_sandbox):
# - every file in the sandbox's tmpfs costs about 1 kB of kernel memory whatever its size, which
#   neither --size (bytes) nor RLIMIT_AS counts: empty files at ~80k/s would exhaust the machine;
# - memfd files held open live outside the address space (as do detached SysV shared memory
#   segments, which the worker caps in the sandbox's own IPC namespace instead).
MAX_TMP_FILES = 20_000
WATCH_INTERVAL_S = 0.1
FALLBACK_WARNING = ("WARNING: the submission ran without the sandbox (no bubblewrap): a plain subprocess with "
                    "resource limits only, which can read the filesystem. Never use this for real grades.")
NO_CGROUP_NOTE = ("note: no per-worker cgroup here ({reason}); the sandbox keeps its rlimits and the /tmp and "
                  "memfd watcher only")


class WorkerTimeout(Exception):
    """The worker did not answer in time; it has been killed."""


class WorkerDied(Exception):
    """The worker process ended (crash, os._exit, a resource limit) or broke the protocol."""


class SandboxUnavailable(RuntimeError):
    """bubblewrap does not work here and nobody chose to grade without it."""


@dataclass(frozen=True)
class SandboxSettings:
    stage_dir: Path
    limits: Limits = Limits()
    force_fallback: bool = False   # run without bubblewrap (`--unsandboxed`, tests of the fallback)
    allow_fallback: bool = False   # without a working bubblewrap, fall back instead of refusing (--public)


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """Whether bubblewrap can create the namespaces and load the seccomp filter we need here."""
    return _probe_bwrap() is None


@lru_cache(maxsize=1)
def _probe_bwrap() -> str | None:
    """None when bubblewrap works, else why not (part of SandboxUnavailable's message)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bwrap is not installed"
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
             "--die-with-parent", "--proc", "/proc", "--dev", "/dev"]
    if os.getuid() != 0:
        probe.insert(1, "--unshare-user")
    filter_fd = seccomp.program_fd()
    if filter_fd is not None:
        probe += ["--seccomp", str(filter_fd)]
    try:
        done = subprocess.run(probe + ["true"], capture_output=True, timeout=PROBE_TIMEOUT_S,
                              pass_fds=() if filter_fd is None else (filter_fd,))
    except subprocess.TimeoutExpired:
        return f"the bwrap probe did not finish within {PROBE_TIMEOUT_S} s"
    except OSError as err:
        return f"bwrap could not start ({err})"
    finally:
        if filter_fd is not None:
            os.close(filter_fd)
    if done.returncode != 0:
        return f"bwrap failed: {done.stderr.decode(errors='replace').strip()[:300]}"
    return None


def sandbox_notes(settings: SandboxSettings) -> list[str]:
    """What the output must say about isolation, or SandboxUnavailable when a real grade would run
    without bubblewrap. The one place that decides whether the fallback may be used."""
    notes = []
    if settings.force_fallback or not bwrap_works():
        if not (settings.force_fallback or settings.allow_fallback):
            raise SandboxUnavailable(
                f"bubblewrap is not usable here ({_probe_bwrap()}), and grading without the sandbox would let "
                "the submission read the hidden tests. Fix bwrap (see docs/GRADER.md), or pass --unsandboxed to "
                "grade without the sandbox anyway (never for real grades).")
        notes.append(FALLBACK_WARNING)
    reason = cgroups.support()
    if reason is not None:
        notes.append(NO_CGROUP_NOTE.format(reason=reason))
    if seccomp.program() is None and not settings.force_fallback:
        notes.append(f"note: no seccomp filter for {platform.machine()}: the kernel keyring and user namespaces "
                     "are not denied in the sandbox")
    return notes


class UidLease:
    """A uid of SANDBOX_UID_BASE.. that no other live sandbox on this machine holds (root only).

    Held as an exclusive flock on a file per uid in a root-only directory, released by `release()`
    or when the grader dies. Where no such directory can be made, a random uid of the range."""

    def __init__(self):
        self._fd = -1
        slots = list(range(SANDBOX_UID_SLOTS))
        random.shuffle(slots)  # concurrent graders rarely contend for the same file
        lock_dir = _lock_dir()
        self.uid = SANDBOX_UID_BASE + slots[0]
        if lock_dir is None:
            return
        for slot in slots:
            fd = os.open(os.path.join(lock_dir, f"uid-{SANDBOX_UID_BASE + slot}"),
                         os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._fd, self.uid = fd, SANDBOX_UID_BASE + slot
            return

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _lock_dir() -> str | None:
    """A directory only root can write, for UidLease's lock files (None: none could be made)."""
    for path in UID_LOCK_DIRS:
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
            info = os.lstat(path)
        except OSError:
            continue
        if os.path.isdir(path) and not os.path.islink(path) and info.st_uid == 0 and not info.st_mode & 0o022:
            return path
    return None


def _uid_range_mapped() -> bool:
    """Whether this (possibly containerized) process may setuid into the whole sandbox uid range."""
    try:
        lines = Path("/proc/self/uid_map").read_text().split("\n")
    except OSError:
        return True
    last = SANDBOX_UID_BASE + SANDBOX_UID_SLOTS
    for line in lines:
        fields = line.split()
        if len(fields) == 3 and int(fields[0]) <= SANDBOX_UID_BASE and last <= int(fields[0]) + int(fields[2]):
            return True
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
        self.sandboxed = not settings.force_fallback and bwrap_works()
        if not self.sandboxed:
            sandbox_notes(settings)  # raises SandboxUnavailable unless the fallback was chosen
        # the GPU this grading was given (CUDA_VISIBLE_DEVICES of the grader), if the machine has one
        self.gpu = gpu.sandbox_access()
        self.output = OutputCapture()
        self._seq = 0
        # bwrap gives the worker a fresh tmpfs; the fallback gets a directory next to the stage,
        # removed with it even if this process dies before kill()
        self._private_tmp = None if self.sandboxed else tempfile.mkdtemp(prefix="worker-tmp-",
                                                                         dir=settings.stage_dir.parent)
        self._drop = os.getuid() == 0 and (self.sandboxed or _readable_by_others(sys.base_prefix))
        # the uid student code runs as: one of its own when we are root (see UidLease)
        self._lease = UidLease() if self._drop and _uid_range_mapped() else None
        self.uid = self._lease.uid if self._lease else NOBODY if self._drop else os.getuid()
        self.cgroup = self._make_cgroup()
        request_r, self._request_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        stage = SANDBOX_STAGE if self.sandboxed else str(settings.stage_dir)
        # SysV shared memory limits are per IPC namespace: only the sandbox has one of its own
        shm_limit = settings.limits.memory_mb * 2**20 if self.sandboxed else 0
        python = [sys.executable, "-I", "-B", "-u", "-c",
                  f"import sys; sys.path.insert(0, {stage!r}); from grader.sandbox.worker import main; "
                  f"main({request_r}, {reply_w}, {stage!r}, {self.uid if self._drop else 0}, {shm_limit})"]
        home = "/tmp" if self.sandboxed else self._private_tmp
        if not self.sandboxed:
            os.chmod(self._private_tmp, 0o1777)
        extra_fds: list[int] = []  # seccomp program, /etc/passwd and /etc/group for bwrap
        command = self._bwrap_command(extra_fds) + python if self.sandboxed else python
        output_r, output_w = os.pipe()
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output_w, stderr=output_w, cwd=self._private_tmp or "/",
                env={**_environment(home), **self.gpu.env}, pass_fds=(request_r, reply_w, *extra_fds), start_new_session=True,
                preexec_fn=self._set_limits)
        except BaseException:
            for fd in (output_r, self._request_w, self._reply_r):
                os.close(fd)
            self._release_host_resources()
            raise
        finally:
            for fd in (request_r, reply_w, output_w, *extra_fds):
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

    def _make_cgroup(self) -> cgroups.Cgroup | None:
        if cgroups.support() is not None:
            return None  # said once in the output (sandbox_notes); today's limits only
        limits = self.settings.limits
        try:  # tasks: the worker's own processes and threads, plus bwrap's two
            return cgroups.Cgroup(limits.memory_mb * 2**20, limits.max_processes + 4, limits.cpus)
        except OSError:
            return None

    def _bwrap_command(self, fds: list[int]) -> list[str]:
        """The bwrap command line; files it reads from descriptors are opened and appended to `fds`."""
        size = self.settings.limits.max_file_mb * 2**20 * 2
        cmd = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
               "--die-with-parent", "--new-session", "--clearenv",
               "--proc", "/proc", "--dev", "/dev",
               # --dev gives a devpts whose ptys come from the host's global pool: none at all instead
               "--tmpfs", "/dev/pts",
               "--perms", "1777", "--size", str(size), "--tmpfs", "/tmp"]
        if os.getuid() != 0:
            cmd.insert(1, "--unshare-user")
        filter_fd = seccomp.program_fd()
        if filter_fd is not None:  # no keyring, no nested user namespace (see seccomp.py)
            fds.append(filter_fd)
            cmd += ["--seccomp", str(filter_fd)]
        for env_name, value in {**_environment("/tmp"), **self.gpu.env}.items():
            cmd += ["--setenv", env_name, value]
        for system_dir in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
            if os.path.islink(system_dir):  # merged-/usr systems: /lib -> usr/lib
                cmd += ["--symlink", os.readlink(system_dir), system_dir]
            else:
                cmd += ["--ro-bind-try", system_dir, system_dir]
        for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "localtime"):
            cmd += ["--ro-bind-try", f"/etc/{etc}", f"/etc/{etc}"]
        for etc, text in _identity_files(self.uid if self._lease is not None else None).items():
            fds.append(_data_fd(text))  # the host's accounts plus the sandbox's own uid
            cmd += ["--ro-bind-data", str(fds[-1]), f"/etc/{etc}"]
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
        cmd += gpu.bwrap_arguments(self.gpu)  # CUDA's device nodes, when this grading has a GPU
        cmd += ["--ro-bind", str(self.settings.stage_dir), SANDBOX_STAGE, "--chdir", "/tmp", "--"]
        return cmd

    def _set_limits(self) -> None:
        """Runs in the child between fork and exec: resource limits inherited by the whole sandbox."""
        limits = self.settings.limits
        _die_with_parent()
        if self.cgroup is not None:  # before anything is allocated: the whole sandbox is charged
            cgroups.join_in_child(self.cgroup.join_fds())
        _join_fresh_session_keyring()
        memory = limits.memory_mb * 2**20
        # CUDA reserves huge virtual ranges, so with a GPU we cap the data segment instead (the cgroup,
        # where there is one, and the shared-memory watch still count everything else)
        kind = resource.RLIMIT_DATA if self.gpu.enabled else resource.RLIMIT_AS
        resource.setrlimit(kind, (memory, memory))
        cpu = int(limits.total_timeout_s) + 30
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_mb * 2**20,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.max_open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self._drop:  # counts processes of this sandbox's own uid; root itself is exempt from this limit
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
        memory = self.cgroup is not None and self.cgroup.oom_kills() > 0
        self.kill()
        if memory:
            return (f"memory limit exceeded: your code (with every process it started, its shared memory and "
                    f"its files in /tmp) used more than {self.settings.limits.memory_mb} MB and was stopped")
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
        if not self.sandboxed and self._drop and self.cgroup is None:
            _kill_user_processes(self.uid)  # a fallback daemon may have left our process group
        for fd in (self._request_w, self._reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._request_w = self._reply_r = -1
        self._stopped.set()
        self.output.stop()
        self._release_host_resources()

    def _release_host_resources(self) -> None:
        """Kill whatever is left in the cgroup and remove it, free the uid, remove the private tmp."""
        if self.cgroup is not None:
            self.cgroup.remove()
        if self._lease is not None:
            self._lease.release()
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


def _join_fresh_session_keyring() -> None:
    """Between fork and exec: leave the grader's session keyring for a new, empty one, so that the
    sandbox possesses none of the keys of the process that started the grader."""
    number = seccomp.ARCHES.get(platform.machine(), (0, {}))[1].get("keyctl")
    if _LIBC is not None and number is not None:
        _LIBC.syscall(number, KEYCTL_JOIN_SESSION_KEYRING, None)


def _identity_files(uid: int | None) -> dict[str, str]:
    """/etc/passwd and /etc/group of the sandbox: the host's, plus an entry for the sandbox's uid
    (so getpass.getuser() and friends work as on a student's machine)."""
    files = {}
    for name in ("passwd", "group"):
        try:
            text = Path("/etc", name).read_text(errors="replace")
        except OSError:
            text = ""
        if uid is not None:
            text = text.rstrip("\n") + "\n" + (f"student:x:{uid}:{uid}:student:/tmp:/usr/sbin/nologin\n"
                                              if name == "passwd" else f"student:x:{uid}:\n")
        files[name] = text
    return files


def _data_fd(text: str) -> int:
    fd = os.memfd_create("grader-data", os.MFD_CLOEXEC)
    os.write(fd, text.encode())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: if the harness dies, the kernel kills the worker (or bwrap) too."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL, 0, 0, 0)


def _kill_user_processes(uid: int) -> None:
    """Fallback mode without a cgroup: processes of `uid` that escaped the session (no PID namespace)."""
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
