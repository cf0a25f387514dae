"""One cgroup per sandboxed worker: memory, pids and cpu limits that no rlimit can give.

RLIMITs are per process (address space) or per user (processes), so they miss memory that lives
outside every address space (tmpfs and memfd files, shared memory, files in flight over a socket)
and they let one sandbox's busy processes or threads starve a concurrent grading's. A memory cgroup
charges all of that to the sandbox; the pids and cpu controllers cap its tasks and its CPU share.

Which hierarchy is used:
- cgroup v2 when the grader's own cgroup delegates `memory` and `pids` to its children (its
  `cgroup.subtree_control` lists them, or we may enable them there);
- otherwise cgroup v1: a child of the grader's cgroup in each of the memory, pids and cpu hierarchies
  that is mounted read-write (memory is required, pids and cpu are used when present);
- otherwise none (typically: not root, or /sys/fs/cgroup mounted read-only): `support()` says why
  and the sandbox keeps its rlimits and the launcher's watcher only.

The launcher creates the cgroup before starting bubblewrap and moves the child into it between fork
and exec (`join_fds`), so every process of the sandbox is in it before any student code runs.
"""
from __future__ import annotations

import os
import signal
import time
from functools import lru_cache
from pathlib import Path

PREFIX = "deeprl-grader-"
CPU_PERIOD_US = 100_000
V1_CONTROLLERS = ("memory", "pids", "cpu")


class CgroupError(OSError):
    """No usable cgroup here (the message says why)."""


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount point, root inside the hierarchy, fs type, super options) of every cgroup mount."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[4], fields[3], tail[0], set(tail[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _directory(mount_point: str, mount_root: str, path: str) -> Path | None:
    """Where cgroup `path` of a hierarchy appears, given a mount of that hierarchy's `mount_root`."""
    if mount_root != "/" and path != mount_root and not path.startswith(mount_root.rstrip("/") + "/"):
        return None
    return Path(mount_point + "/" + path[len(mount_root.rstrip("/")):].lstrip("/"))


def _v2_parent() -> Path:
    paths = _own_paths()
    mount = next((m for m in _mounts() if m[2] == "cgroup2"), None)
    if "" not in paths or mount is None:
        raise CgroupError("no cgroup v2 hierarchy")
    parent = _directory(mount[0], mount[1], paths[""])
    if parent is None or not os.access(parent, os.W_OK):
        raise CgroupError("the cgroup v2 hierarchy is not writable")
    enabled = set((parent / "cgroup.subtree_control").read_text().split())
    if not {"memory", "pids"} <= enabled:
        available = set((parent / "cgroup.controllers").read_text().split())
        if not {"memory", "pids"} <= available:
            raise CgroupError("cgroup v2 has no memory and pids controllers here")
        try:  # fails (EBUSY) when the grader's cgroup holds processes: not delegated
            (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in ("memory", "pids", "cpu")
                                                                   if c in available))
        except OSError as err:
            raise CgroupError(f"cgroup v2 controllers are not delegated to the grader ({err.strerror})") from None
    return parent


def _v1_parents() -> dict[str, Path]:
    paths, parents = _own_paths(), {}
    for controller in V1_CONTROLLERS:
        mount = next((m for m in _mounts() if m[2] == "cgroup" and controller in m[3]), None)
        if mount is None or controller not in paths:
            continue
        parent = _directory(mount[0], mount[1], paths[controller])
        if parent is not None and parent.is_dir() and os.access(parent, os.W_OK):
            parents[controller] = parent
    if "memory" not in parents:
        raise CgroupError("no writable cgroup v1 memory hierarchy (the grader is not root, "
                          "or /sys/fs/cgroup is read-only)")
    return parents


class Cgroup:
    """A fresh cgroup (v2: one directory; v1: one per controller) with the sandbox's limits."""

    _count = 0

    def __init__(self, memory_bytes: int, max_tasks: int, cpus: float):
        Cgroup._count += 1
        name = f"{PREFIX}{os.getpid()}-{Cgroup._count}"
        try:
            self.version, parents = 2, {"": _v2_parent()}
        except (CgroupError, OSError):
            self.version, parents = 1, _v1_parents()
        self.dirs: dict[str, Path] = {}
        self._fds: list[int] = []
        try:
            for controller, parent in parents.items():
                _remove_stale(parent)
                (parent / name).mkdir(mode=0o755)
                self.dirs[controller] = parent / name
            self._set_limits(memory_bytes, max_tasks, cpus)
            self._fds = [os.open(d / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for d in self.dirs.values()]
        except OSError:
            self.remove()
            raise

    def _set_limits(self, memory_bytes: int, max_tasks: int, cpus: float) -> None:
        quota = max(int(cpus * CPU_PERIOD_US), 1000)
        if self.version == 2:
            d = self.dirs[""]
            _write(d / "memory.max", memory_bytes)
            _write(d / "memory.swap.max", 0, optional=True)
            _write(d / "pids.max", max_tasks)
            _write(d / "cpu.max", f"{quota} {CPU_PERIOD_US}", optional=True)
            return
        memory = self.dirs["memory"]
        _write(memory / "memory.limit_in_bytes", memory_bytes)  # kernel memory is charged here too
        _write(memory / "memory.memsw.limit_in_bytes", memory_bytes, optional=True)  # no escape to swap
        if "pids" in self.dirs:
            _write(self.dirs["pids"] / "pids.max", max_tasks)
        if "cpu" in self.dirs:
            _write(self.dirs["cpu"] / "cpu.cfs_period_us", CPU_PERIOD_US)
            _write(self.dirs["cpu"] / "cpu.cfs_quota_us", quota)

    @property
    def controllers(self) -> list[str]:
        return ["memory", "pids", "cpu"] if self.version == 2 else sorted(self.dirs)

    def join_fds(self) -> list[int]:
        """Open `cgroup.procs` files: the child writes its pid to each (see join_in_child)."""
        return list(self._fds)

    def oom_kills(self) -> int:
        """Processes the kernel killed because the sandbox reached its memory limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        directory = self.dirs.get("" if self.version == 2 else "memory")
        try:
            for line in (directory / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError, TypeError):
            pass
        return 0

    def pids(self) -> list[int]:
        found = set()
        for directory in self.dirs.values():
            try:
                found.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(found)

    def kill(self) -> None:
        """SIGKILL every process in the cgroup (wherever it went: it cannot leave)."""
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what is left and delete the cgroup; safe to call twice."""
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []
        self.kill()
        for directory in self.dirs.values():
            for _ in range(50):  # a killed task leaves the cgroup a moment after it dies
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.dirs = {}


def join_in_child(fds: list[int]) -> None:
    """Between fork and exec: move this (child) process into the cgroup."""
    pid = str(os.getpid()).encode()
    for fd in fds:
        os.write(fd, pid)


def _write(path: Path, value, optional: bool = False) -> None:
    try:
        path.write_text(str(value))
    except OSError:
        if not optional:
            raise


def _remove_stale(parent: Path) -> None:
    """Empty cgroups left by a grader that was killed before it could remove its own."""
    for child in parent.glob(PREFIX + "*"):
        owner = child.name[len(PREFIX):].split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            try:
                child.rmdir()
            except OSError:
                pass


@lru_cache(maxsize=1)
def support() -> str | None:
    """None when per-worker cgroups work here, otherwise why not (one line for the output)."""
    try:
        probe = Cgroup(64 * 2**20, 8, 1.0)
    except (CgroupError, OSError) as err:
        return str(err) if isinstance(err, CgroupError) else f"{type(err).__name__}: {err}"
    probe.remove()
    return None


def describe() -> str:
    """Which kind of cgroup a worker gets here (for the docs and the test logs)."""
    reason = support()
    if reason is not None:
        return f"none ({reason})"
    probe = Cgroup(64 * 2**20, 8, 1.0)
    try:
        return f"cgroup v{probe.version} ({', '.join(probe.controllers)})"
    finally:
        probe.remove()
