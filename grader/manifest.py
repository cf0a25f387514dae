"""Homework registry and the `submission.yaml` manifest every homework ships.

A manifest (`<package>/submission.yaml`, also given to students) says which files a student may edit
and how many points each part is worth:

    homework: hw2
    package: hw2_policy_gradient
    files:                      # student-editable, relative to the repository root
      - hw2_policy_gradient/returns.py
      - hw2_policy_gradient/agent.py
    parts:                      # part name -> points; every hidden test declares its part
      returns: 30
      agent: 40
      training: 30
    limits:                     # optional, defaults below
      test_timeout_s: 60        # wall clock per test unless the test sets its own
      total_timeout_s: 300      # wall clock for the whole hidden suite
      memory_mb: 4096           # address space of the sandboxed worker
      max_processes: 64         # processes and threads the worker may hold
      max_file_mb: 64           # largest file the worker may write (its private /tmp is capped too)
      cpus: 1.0                 # CPU cores the worker may use at once (needs a cgroup; see docs/GRADER.md)
    suite: grader/suites/hw2    # optional; where the hidden tests live (default shown)

Only the files listed under `files` are taken from a submission; everything else comes from the
instructor edition. `find_homework("hw2")` resolves a registered id; `find_homework(PATH)` takes the
directory of a homework package holding a `submission.yaml` (for a homework under development, and
for the machinery's own fixture homework), the repository root being that directory's parent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent

# homework id -> package directory at the repository root
REGISTRY = {
    "hw1": "hw1_imitation",
    "hw2": "hw2_policy_gradient",
    "hw3": "hw3_qlearning_ac",
    "hw4": "hw4_model_based",
    "hw5": "hw5_exploration_offline",
}
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class ManifestError(ValueError):
    """A `submission.yaml` is missing, malformed, or points outside the repository."""


@dataclass(frozen=True)
class Limits:
    test_timeout_s: float = 60.0
    total_timeout_s: float = 300.0
    memory_mb: int = 4096
    max_processes: int = 64
    max_file_mb: int = 64
    max_open_files: int = 256
    cpus: float = 1.0           # cgroup cpu quota of the whole sandbox (where the host has a cgroup)
    gpu: bool = False           # a batch or cluster gives each grading a GPU of its own, where there is one


@dataclass(frozen=True)
class Homework:
    id: str                     # "hw2"
    root: Path                  # repository root the paths below are relative to
    package: str                # "hw2_policy_gradient"
    files: tuple[str, ...]      # student-editable paths, POSIX, relative to root
    parts: dict[str, float]     # part -> points
    suite_dir: Path             # hidden tests
    limits: Limits = field(default_factory=Limits)
    uses: tuple[str, ...] = ()  # other homeworks' packages this one imports (staged as their solved edition)

    @property
    def package_dir(self) -> Path:
        return self.root / self.package

    @property
    def public_tests_dir(self) -> Path:
        return self.package_dir / "tests"

    @property
    def total_points(self) -> float:
        return float(sum(self.parts.values()))


def find_homework(hw: str, root: Path | str = REPO_ROOT) -> Homework:
    """The homework `hw` ("hw2", or the path of a package directory holding submission.yaml)."""
    if hw in REGISTRY:
        return load_manifest(Path(root) / REGISTRY[hw] / "submission.yaml", Path(root))
    package_dir = Path(hw)
    if (package_dir / "submission.yaml").is_file():
        package_dir = package_dir.resolve()
        return load_manifest(package_dir / "submission.yaml", package_dir.parent)
    known = ", ".join(REGISTRY)
    raise ManifestError(f"unknown homework {hw!r}: use one of {known}, or a homework directory with submission.yaml")


def load_manifest(path: Path, root: Path) -> Homework:
    path, root = Path(path), Path(root).resolve()
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found (each homework ships a submission.yaml)")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ManifestError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected a mapping with homework, package, files, parts")
    allowed = {"homework", "package", "files", "parts", "limits", "suite", "uses"}
    unknown = set(data) - allowed
    if unknown:
        raise ManifestError(f"{path}: unknown keys {sorted(unknown)}; valid keys are {sorted(allowed)}")
    for key in ("homework", "package", "files", "parts"):
        if key not in data:
            raise ManifestError(f"{path}: missing key {key!r}")
    files = tuple(_check_relative(path, f) for f in data["files"])
    for f in files:
        if not f.startswith(data["package"] + "/"):
            raise ManifestError(f"{path}: student file {f!r} is outside the package {data['package']!r}")
    parts = data["parts"]
    if not isinstance(parts, dict) or not all(isinstance(v, (int, float)) and v >= 0 for v in parts.values()):
        raise ManifestError(f"{path}: parts must map part names to non-negative points")
    limits = data.get("limits") or {}
    try:
        limits = Limits(**limits)
    except TypeError:
        raise ManifestError(f"{path}: unknown limit in {sorted(limits)}; valid: {sorted(Limits.__dataclass_fields__)}") from None
    suite = _check_relative(path, data.get("suite", f"grader/suites/{data['homework']}"))
    uses = tuple(str(name) for name in data.get("uses") or ())
    for name in uses:
        if not re.fullmatch(r"hw\d+_\w+", name) or name == data["package"]:
            raise ManifestError(f"{path}: uses {name!r}: expected another homework's package (e.g. hw3_qlearning_ac)")
    return Homework(id=str(data["homework"]), root=root, package=str(data["package"]), files=files,
                    parts={str(k): float(v) for k, v in parts.items()}, suite_dir=root / suite, limits=limits,
                    uses=uses)


def _check_relative(manifest: Path, name) -> str:
    """A manifest path must be relative, POSIX, and stay inside the repository."""
    pure = PurePosixPath(str(name))
    if not isinstance(name, str) or pure.is_absolute() or ".." in pure.parts or "\\" in name or not pure.parts:
        raise ManifestError(f"{manifest}: {name!r} must be a relative path inside the repository")
    return pure.as_posix()
