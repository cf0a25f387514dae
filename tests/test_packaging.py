"""The install story must not drift: one set of pins, one Quick start that CI really runs."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += [r for r in extra if not r.startswith("deeprl-course")]
    return dict(_split_pin(r) for r in requirements)


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return dict(_split_pin(r) for r in pip_section if not r.startswith("-e"))


def _split_pin(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"([A-Za-z0-9_.\-\[\],]+)==([^\s;]+)", requirement.strip())
    assert match, f"{requirement!r} is not pinned with ==: every dependency needs an exact version"
    return match.group(1).lower(), match.group(2)


def test_every_dependency_is_pinned_exactly():
    pins = _pyproject_pins()
    assert pins["torch"] == "2.13.0"
    assert pins["gymnasium[mujoco,box2d]"] == "1.4.0"


def test_environment_yml_pins_match_pyproject():
    assert _environment_pins() == _pyproject_pins()


def test_environment_yml_uses_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def _quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quickstart_is_exactly_two_commands():
    assert len(_quickstart_commands()) == 2


def test_ci_runs_the_quickstart_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    install, test = _quickstart_commands()
    assert ci[ci.index("# QUICKSTART 1") + 1] == install
    # the test command may be wrapped to handle pytest's exit code 5, but must be run as written
    assert test in ci[ci.index("# QUICKSTART 2") + 1 :]
