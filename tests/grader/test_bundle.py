"""`python -m grader bundle`: the Gradescope autograder zip, run against a simulated /autograder.

Gradescope's contract (https://gradescope-autograders.readthedocs.io/en/latest/specs/): setup.sh and
run_autograder at the zip's root; the zip extracted to /autograder/source; the submission in
/autograder/submission; run_autograder must leave /autograder/results/results.json. setup.sh's
installs are not run here (the tests use this venv); everything run_autograder does is.
"""
import ast
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.bundle import bundle_files, write_bundle
from grader.manifest import REGISTRY, find_homework
from grader.sandbox.launcher import _readable_by_others, bwrap_works

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixture_hw"

# Gradescope's results.json keys (specs page, "Output format"); `part` is this grader's own addition
TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data", "part"}
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}


def check_gradescope_results(path: Path) -> dict:
    """results.json is strict JSON in Gradescope's format; returns it."""
    def no_constants(name):
        raise AssertionError(f"{path}: {name} is not valid JSON for Gradescope")
    results = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constants)
    assert isinstance(results, dict) and set(results) <= TOP_KEYS, set(results) - TOP_KEYS
    assert isinstance(results["score"], (int, float)) and not isinstance(results["score"], bool)
    assert isinstance(results.get("execution_time", 0), (int, float)) and results.get("execution_time", 0) >= 0
    assert isinstance(results.get("output", ""), str)
    assert isinstance(results["tests"], list)
    for test in results["tests"]:
        assert set(test) <= TEST_KEYS and {"name", "score", "max_score"} <= set(test), test.keys()
        assert isinstance(test["name"], str) and test["name"]
        assert 0 <= test["score"] <= test["max_score"], test
        assert test.get("status", "passed") in ("passed", "failed")
        assert test.get("visibility", "visible") in VISIBILITIES
        assert isinstance(test.get("output", ""), str)
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    return results


def unpack(bundle: Path, root: Path) -> Path:
    """Extract the zip as Gradescope does, into root/source (modes kept)."""
    source = root / "source"
    with zipfile.ZipFile(bundle) as archive:
        for entry in archive.infolist():
            target = source / entry.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(entry))
            target.chmod((entry.external_attr >> 16) & 0o777 or 0o644)
    (root / "submission").mkdir()
    return source


def run_autograder(root: Path, path: str | None = None, **env):
    """run_autograder of the unpacked bundle, with /autograder moved to `root`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment.update(AUTOGRADER_ROOT=str(root), DEEPRL_PYTHON=sys.executable, **env)
    if path is not None:
        environment["PATH"] = path
    return subprocess.run(["/bin/bash", str(root / "source" / "run_autograder")], cwd=root, env=environment,
                          capture_output=True, text=True, timeout=600)


def test_hw2_bundle_holds_what_grading_needs_and_nothing_else(tmp_path):
    bundle = tmp_path / "hw2_autograder.zip"
    info = write_bundle("hw2", bundle)
    with zipfile.ZipFile(bundle) as archive:
        entries = {e.filename: e for e in archive.infolist()}
        setup, run = archive.read("setup.sh").decode(), archive.read("run_autograder").decode()
    names = set(entries)
    assert info["files"] == len(names) and info["grade_argument"] == "hw2"
    for script in ("setup.sh", "run_autograder"):  # at the root of the zip, executable
        assert (entries[script].external_attr >> 16) & stat.S_IXUSR, script
    homework = find_homework("hw2")
    assert set(homework.files) <= names                      # the reference (the suites import it)
    assert {"pyproject.toml", "release.yaml", "grader/harness/grade.py", "grader/sandbox/worker.py",
            "common/envs.py", "hw2_policy_gradient/submission.yaml"} <= names
    suite = {n for n in names if n.startswith("grader/suites/")}
    assert "grader/suites/hw2/test_returns.py" in suite and all(n.startswith("grader/suites/hw2/") for n in suite)
    for name in names:
        parts = name.split("/")
        assert not {".git", ".venv", "runs", "__pycache__", ".pytest_cache"} & set(parts), name
        assert parts[0] not in ("tests", "benchmarks", "docs", ".ci"), name
        assert not name.endswith((".pyc", ".ipynb", ".png")), name
    assert "grader/check.py" not in names and "grader/bundle.py" not in names   # instructor tools
    # setup.sh installs Python 3.11, bubblewrap, the pinned CPU torch, then the bundled tree
    assert "python3.11 -m venv" in setup and "ppa:deadsnakes/ppa" in setup and "bubblewrap" in setup
    assert '--index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"' in setup
    assert 'pip install -e "$SOURCE"' in setup
    assert '-m grader grade "$HW" --submission "$SUBMISSION" --out "$RESULTS"' in run and 'HW="hw2"' in run
    for script in (setup, run):
        checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
        assert checked.returncode == 0, checked.stderr


def test_hw2_reference_gets_full_marks_through_run_autograder(tmp_path):
    """The whole Gradescope round trip on an unpacked bundle (not a git checkout: staging walks it)."""
    write_bundle("hw2", tmp_path / "hw2.zip")
    root = tmp_path / "autograder"
    source = unpack(tmp_path / "hw2.zip", root)
    for name in find_homework("hw2").files:  # a flat upload of the edited files, as Gradescope stores it
        shutil.copyfile(REPO / name, root / "submission" / Path(name).name)
    done = run_autograder(root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = check_gradescope_results(root / "results" / "results.json")
    assert results["score"] == 100 and len(results["tests"]) > 20, results["output"]
    assert "100/100" in done.stdout
    if bwrap_works():  # sandboxed, as on any host where bubblewrap works
        assert "WARNING" not in results["output"] and "--unsandboxed" not in done.stdout
    else:              # the explicit fallback, said in the instructor's output and the results
        assert "grading with --unsandboxed" in done.stdout and "ran without the sandbox" in results["output"]
    # it was the bundled grader that graded, not this checkout's
    where = subprocess.run([sys.executable, "-c", "import grader, hw2_policy_gradient as p; "
                            "print(grader.__file__); print(p.__file__)"], cwd=source, capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(source)})
    assert all(line.startswith(str(source)) for line in where.stdout.split()), where.stdout


def grader_modules_imported_by(path: Path) -> set[str]:
    """The grader modules a suite file imports, as archive paths ("grader/harness/twins.py")."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            dotted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from grader.harness import twins` imports the module grader.harness.twins
            dotted = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in dotted:
            if name.split(".")[0] == "grader":
                for candidate in (f"{name.replace('.', '/')}.py", f"{name.replace('.', '/')}/__init__.py"):
                    if (REPO / candidate).is_file():
                        modules.add(candidate)
    return modules


@pytest.mark.parametrize("hw", sorted(REGISTRY))
def test_every_grader_module_a_suite_imports_ships_in_its_bundle(hw):
    """A bundle ships one suite, so suites share code through grader/harness (smoke.py, twins.py):
    each module a suite imports must be in the bundle (a new harness module must be tracked by git)."""
    homework = find_homework(hw)
    if not homework.suite_dir.is_dir():
        pytest.skip(f"{hw} has no hidden suite yet")
    names = set(bundle_files(homework))
    graded = [path for path in homework.suite_dir.glob("*.py")
              if not path.name.startswith("mutants")]             # mutants*.py: instructor tools, never graded
    imported = set().union(*(grader_modules_imported_by(path) for path in graded))
    assert "grader/harness/api.py" in imported                   # the parse sees the suite's imports
    assert imported <= names, sorted(imported - names)


@pytest.fixture(scope="module")
def fixture_bundle(tmp_path_factory):
    bundle = tmp_path_factory.mktemp("bundle") / "fixhw.zip"
    info = write_bundle(str(FIXTURE / "fixhw"), bundle)
    assert info["grade_argument"] == "fixhw"
    return bundle


def test_another_homework_bundle_has_its_suite_only(fixture_bundle):
    names = zipfile.ZipFile(fixture_bundle).namelist()
    assert "suites/fixhw/test_functions.py" in names and "fixhw/functions.py" in names
    assert not [n for n in names if n.startswith("grader/suites/")]     # never hw2's hidden tests


def test_starter_scores_zero_and_a_chosen_fallback_says_so(fixture_bundle, tmp_path):
    root = tmp_path / "autograder"
    unpack(fixture_bundle, root)
    with zipfile.ZipFile(root / "submission" / "release.zip", "w") as upload:  # a zipped release folder
        for name in ("functions.py", "policy.py"):
            upload.write(FIXTURE / "starter" / "fixhw" / name, f"student-release/fixhw/{name}")
    done = run_autograder(root, DEEPRL_SANDBOX="off", DEEPRL_SEED="5")
    assert done.returncode == 0, done.stdout + done.stderr
    results = check_gradescope_results(root / "results" / "results.json")
    assert results["score"] == 0 and len(results["tests"]) == 6
    assert all(t["output"].startswith("not implemented yet: ") for t in results["tests"]), results  # read the zip
    assert "DEEPRL_SANDBOX=off: grading without the sandbox" in done.stdout
    assert "ran without the sandbox" in results["output"] and "seed 5 (reproduce" in results["output"]


READS_THE_SUITE = """

_discounted_return = discounted_return


def discounted_return(rewards, gamma):
    open({suite!r}).read()
    return _discounted_return(rewards, gamma)
"""


def without_bwrap(tmp_path: Path) -> str:
    """A PATH with the few tools run_autograder uses, and no bwrap."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("mkdir", "dirname", "id", "chmod"):
        (tools / tool).symlink_to(shutil.which(tool))
    return str(tools)


def test_without_bwrap_auto_falls_back_explicitly_and_require_refuses(fixture_bundle, tmp_path):
    root = tmp_path / "autograder"
    unpack(fixture_bundle, root)
    shutil.copytree(FIXTURE / "fixhw", root / "submission" / "fixhw")   # the reference's files...
    with (root / "submission" / "fixhw" / "functions.py").open("a") as f:    # ...reading the hidden suite
        f.write(READS_THE_SUITE.format(suite=str(root / "source" / "suites" / "fixhw" / "test_functions.py")))
    path = without_bwrap(tmp_path)
    done = run_autograder(root, path=path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bubblewrap cannot sandbox in this container (bwrap is not installed)" in done.stdout
    assert "grading with --unsandboxed" in done.stdout
    results = check_gradescope_results(root / "results" / "results.json")
    assert "ran without the sandbox" in results["output"]
    if os.getuid() == 0:  # the suite and the results are root's alone
        assert stat.S_IMODE((root / "source").stat().st_mode) == 0o700
        assert stat.S_IMODE((root / "results").stat().st_mode) == 0o700
    reading = next(t for t in results["tests"] if t["name"].startswith("test_discounted_return"))
    if os.getuid() == 0 and _readable_by_others(sys.base_prefix):
        # as on Gradescope (root, Python under /usr): the fallback worker drops to another uid
        assert reading["score"] == 0 and "PermissionError" in reading["output"], reading
        assert results["score"] == 8
    else:  # a Python only its owner can read (pyenv in /root): the fallback worker keeps the grader's uid
        assert results["score"] == 10

    done = run_autograder(root, path=path, DEEPRL_SANDBOX="require")
    assert done.returncode == 2
    results = check_gradescope_results(root / "results" / "results.json")
    assert results["score"] == 0 and "bubblewrap is not usable here" in results["output"]


def test_an_unknown_homework_is_a_clear_error(tmp_path, capsys):
    from grader.cli import main
    assert main(["bundle", "hw9", str(tmp_path / "hw9.zip")]) == 2
    assert "bundle: unknown homework 'hw9'" in capsys.readouterr().out and not (tmp_path / "hw9.zip").exists()
