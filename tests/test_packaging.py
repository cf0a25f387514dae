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


# Imported modules that come with a pinned package rather than being pinned themselves.
_PROVIDED_BY = {"pydantic_core": "pydantic", "IPython": "ipykernel"}


def _third_party_imports() -> dict[str, Path]:
    """Top-level modules imported by the course's packages that are neither stdlib nor in the repo."""
    import ast
    import sys

    includes = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted({p.rstrip("*") for p in includes})
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for top in (name.split(".")[0] for name in names):
                    in_repo = top in packages or (path.parent / f"{top}.py").exists() or (path.parent / top).is_dir()
                    if not (top in sys.stdlib_module_names or in_repo):
                        found.setdefault(top, path.relative_to(ROOT))
    return found


def test_every_library_the_code_imports_is_pinned():
    from importlib.metadata import packages_distributions

    pinned = {re.sub(r"\[.*\]", "", name).replace("_", "-") for name in _pyproject_pins()}
    distributions = packages_distributions()
    imports = _third_party_imports()
    assert {"pydantic", "jupytext", "yaml", "nbformat"} <= set(imports)  # the libraries config/notebooks rely on
    unpinned = {}
    for module, path in imports.items():
        names = [_PROVIDED_BY[module]] if module in _PROVIDED_BY else distributions.get(module, [module])
        if not any(name.lower().replace("_", "-") in pinned for name in names):
            unpinned[module] = str(path)
    assert not unpinned, f"imported but not pinned in pyproject.toml and environment.yml: {unpinned}"
