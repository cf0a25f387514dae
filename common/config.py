"""Experiment configs: dataclasses filled from a YAML file and `--set key=value` overrides.

A homework declares its config as a (possibly nested) dataclass with a default for every field::

    @dataclass
    class PolicyConfig:
        hidden_sizes: tuple[int, ...] = (64, 64)
        learning_rate: float = 3e-4

    @dataclass
    class Config:
        env_id: str = "CartPole-v1"
        seed: int = 0
        policy: PolicyConfig = field(default_factory=PolicyConfig)

and its `run.py` reads it in one line::

    config = parse_config(Config, description="Policy gradient")
    # python -m hw2_policy_gradient.run --config configs/cartpole.yaml --set policy.learning_rate=1e-3

Values are applied in this order: the dataclass defaults, then the YAML file, then each `--set` in
the order given; a nested section is merged key by key. Override values are parsed as YAML (`3e-4`,
`[64, 64]`, `false`, `null`). pydantic then checks every value against the field's type annotation
and converts it (a list to a tuple, "1e-3" to a float, 1e6 to an int), so a typo fails at start-up
with a one-line message that names the key, instead of an hour into training.
"""
from __future__ import annotations

import argparse
import dataclasses
import difflib
import functools
import re
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml
from pydantic_core import to_jsonable_python

ConfigT = TypeVar("ConfigT")


class ConfigError(ValueError):
    """A config file or override does not fit the config dataclass (unknown key, wrong type)."""


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def load_config(cls: type[ConfigT], path: str | Path | None = None, overrides: Sequence[str] = ()) -> ConfigT:
    """Build a `cls` instance from its defaults, the YAML file at `path`, then `overrides`.

    Each override is a string `"a.b=value"`; `a.b` names a field of a nested dataclass.
    Raises ConfigError when a key is unknown (the message lists the valid keys), a value has the
    wrong type, or the file cannot be read.
    """
    _require_dataclass(cls, "load_config")
    values: dict[str, Any] = {}  # nested like the dataclass: {"policy": {"learning_rate": 0.01}}
    sources: dict[str, str] = {}  # dotted key -> where its value came from, for error messages
    if path is not None:
        _merge(cls, values, _read_yaml_mapping(Path(path)), f"config file {path}", sources)
    for override in overrides:
        _merge(cls, values, _parse_override(cls, override), f"--set {override}", sources)
    return _validate(cls, values, sources)


def config_from_dict(cls: type[ConfigT], values: Mapping[str, Any], source: str = "the given values") -> ConfigT:
    """Build a `cls` instance from its defaults and a plain (nested) dict, e.g. one sent by the grader.

    The dict is checked exactly like a YAML file: unknown keys raise ConfigError naming them (and
    `source`) and listing the valid ones; values are coerced to the fields' types.
    """
    _require_dataclass(cls, "config_from_dict")
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    _merge(cls, merged, values, source, sources)
    return _validate(cls, merged, sources)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass (or a mapping) as nested plain dicts, lists and scalars, ready for YAML.

    Tuples become lists and paths become strings; `load_config` turns them back, so
    `load_config(type(c), path_of(yaml.safe_dump(config_to_dict(c)))) == c`.
    """
    if not (isinstance(config, Mapping) or (dataclasses.is_dataclass(config) and not isinstance(config, type))):
        raise TypeError(f"expected a config dataclass instance or a dict, got {type(config).__name__}")
    # inf and nan stay floats (YAML writes them as .inf and .nan)
    return to_jsonable_python(config, fallback=_python_scalar, inf_nan_mode="constants")


def _python_scalar(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) to a config file")


def save_config(config: Any, path: str | Path) -> Path:
    """Write `config` (dataclass or dict) as YAML to `path`, keeping the fields' declared order."""
    path = Path(path)
    path.write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False))
    return path


def add_config_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add `--config PATH` and `--set KEY=VALUE [KEY=VALUE ...]` (repeatable) to `parser`.

    After parsing, `args.config` is the path or None and `args.overrides` the list of overrides.
    """
    parser.add_argument("--config", metavar="PATH", default=None, help="YAML file with config values")
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        nargs="+",
        action="extend",
        default=[],
        help="override one config value, e.g. --set policy.learning_rate=1e-3 batch_size=4000",
    )
    return parser


def parse_config(cls: type[ConfigT], argv: Sequence[str] | None = None, description: str | None = None) -> ConfigT:
    """Parse `--config` and `--set` from `argv` (default: sys.argv) into a `cls` instance.

    A bad config ends the program with argparse's usage line and a one-line error (exit code 2).
    """
    parser = add_config_arguments(argparse.ArgumentParser(description=description))
    args = parser.parse_args(argv)
    try:
        return load_config(cls, args.config, args.overrides)
    except ValueError as error:  # ConfigError, which also carries a ValueError from __post_init__
        parser.error(str(error))


def config_keys(cls: type) -> list[str]:
    """Every settable key of config class `cls`, nested ones dotted (`policy.learning_rate`)."""
    keys = []
    for name, field_type in _field_types(cls).items():
        if _is_dataclass_type(field_type):
            keys += [f"{name}.{key}" for key in config_keys(field_type)]
        else:
            keys.append(name)
    return keys


# ---------------------------------------------------------------------------------------------
# Collecting the values given, key by key
# ---------------------------------------------------------------------------------------------


class _YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that `3e-4` and `1e6` are numbers (as in YAML 1.2), not text."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+.0123456789"),
)


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from None
    try:
        values = yaml.load(text, Loader=_YamlLoader)
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {' '.join(str(error).split())}") from None
    if values is None:  # an empty file keeps every default
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys to values, got {type(values).__name__}")
    return values


def _parse_override(cls: type, override: str) -> dict[str, Any]:
    """`--set a.b=text` as the nested dict {"a": {"b": value}}, the text read as YAML.

    A text field keeps the text as typed: YAML would read `--set mode=on` as True and
    `--set name=10` as a number, but for a `str` field the characters typed are what was meant.
    """
    key, sep, text = (part.strip() for part in override.partition("="))
    if not sep or not key:
        raise ConfigError(f"override {override!r} must look like KEY=VALUE, e.g. seed=1 or policy.learning_rate=1e-3")
    annotation = _field_type(cls, key)
    optional_text = set(typing.get_args(annotation)) == {str, type(None)}
    if annotation is str or (optional_text and text not in ("null", "~")):
        value: Any = text
    else:
        try:
            value = yaml.load(text, Loader=_YamlLoader) if text else ""
        except yaml.YAMLError:
            value = text  # e.g. an unbalanced bracket: the type check then reports it as text
    for name in reversed(key.split(".")):
        value = {name: value}
    return value


def _merge(cls: type, values: dict[str, Any], new: Mapping[str, Any], source: str, sources: dict[str, str],
           prefix: str = "") -> None:
    """Write `new` into `values`, section by section: a section given keeps its other keys' values.

    The value of a `dict` field stays whole (it is one value); unknown keys are kept for pydantic
    to report. `sources` records, for each dotted key, where its value came from.
    """
    for name, value in new.items():
        key, field_type = prefix + str(name), _field_types(cls).get(name)
        if _is_dataclass_type(field_type):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{key} is a section of the config; set its keys instead, "
                                  f"e.g. {key}.{config_keys(field_type)[0]}=... (in {source})")
            if not isinstance(values.get(name), dict):
                values[name] = {}
            _merge(field_type, values[name], value, source, sources, prefix=key + ".")
        else:
            values[name] = value
            sources[key] = source


# ---------------------------------------------------------------------------------------------
# Checking and converting the values with pydantic
# ---------------------------------------------------------------------------------------------


@functools.cache
def _validator(cls: type) -> type[pydantic.BaseModel]:
    """A pydantic model with one field, `config: cls`, that checks and converts a config's values.

    A plain dataclass takes its pydantic settings from the model around it (see pydantic issue
    10917), so these reach every nested section without touching the homework's dataclasses.
    """
    # arbitrary_types_allowed: a field of any other class takes an instance of it, checked with isinstance.
    settings = pydantic.ConfigDict(extra="forbid", coerce_numbers_to_str=True, arbitrary_types_allowed=True)
    return pydantic.create_model(f"{cls.__name__}Values", __config__=settings, config=(cls, ...))


def _validate(cls: type[ConfigT], values: dict[str, Any], sources: dict[str, str]) -> ConfigT:
    values = _with_section_defaults(cls, values, base=None)
    try:
        config = _validator(cls).model_validate({"config": values}).config
    except pydantic.ValidationError as error:
        raise _config_error(cls, error, values, sources) from None
    _reject_bool_number_mixups(values, config, "", sources)
    return config


def _with_section_defaults(cls: type, values: Mapping[str, Any], base: Any) -> dict[str, Any]:
    """`values` with each section's missing keys taken from the default it replaces.

    `--set policy.learning_rate=0.1` keeps the other policy values of the config's default, which
    may come from a `default_factory` and differ from the section class's own defaults.
    """
    filled = dict(values)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if base is not None and f.name not in filled:
            filled[f.name] = getattr(base, f.name)
        elif _is_dataclass_type(_field_types(cls)[f.name]) and isinstance(filled.get(f.name), Mapping):
            section_base = getattr(base, f.name) if base is not None else _default_of(f)
            filled[f.name] = _with_section_defaults(_field_types(cls)[f.name], filled[f.name], section_base)
    return filled


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _reject_bool_number_mixups(given: Any, result: Any, key: str, sources: dict[str, str]) -> None:
    """pydantic reads `true` as 1 for an int and `1` as True for a bool; in a config both are typos."""
    if isinstance(given, Mapping):
        for name, value in given.items():
            inner = result.get(name) if isinstance(result, Mapping) else getattr(result, name, None)
            _reject_bool_number_mixups(value, inner, f"{key}.{name}" if key else str(name), sources)
    elif isinstance(given, (list, tuple)) and isinstance(result, (list, tuple)):
        for i, (value, inner) in enumerate(zip(given, result)):
            _reject_bool_number_mixups(value, inner, f"{key}[{i}]", sources)
    elif isinstance(given, bool) != isinstance(result, bool):
        raise ConfigError(f"config key {key!r} must be of type {type(result).__name__}; "
                          f"got {given!r}{_where(key, sources)}")


def _config_error(cls: type, error: pydantic.ValidationError, values: Mapping[str, Any],
                  sources: dict[str, str]) -> ConfigError:
    """The first problem pydantic found, as one line that names the key, the value and the fix."""
    problems = error.errors(include_url=False)
    loc = problems[0]["loc"][1:]  # [0] is the wrapper model's field, "config"
    key = _key_of(loc, values)
    kind, where = problems[0]["type"], _where(key, sources)
    if kind == "unexpected_keyword_argument":
        section = key.rpartition(".")[0]
        return _unknown_key_error(key, _field_type(cls, section) if section else cls, section, where)
    if kind == "missing":
        return ConfigError(f"config key {key!r} has no default: give it in the config file or with --set {key}=...")
    if "error" in problems[0].get("ctx", {}):  # a ValueError raised by the dataclass's __post_init__
        return ConfigError(str(problems[0]["ctx"]["error"]))
    # A union field gives one problem per option, all at the same key: "must be ... or must be ...".
    wanted = [_must(p["msg"]) for p in problems if _key_of(p["loc"][1:], values) == key]
    return ConfigError(f"config key {key!r} {' or '.join(dict.fromkeys(wanted))}; "
                       f"got {problems[0]['input']!r}{where}")


def _must(message: str) -> str:
    """pydantic's "Input should be a valid integer" as "must be a valid integer" (to follow a key)."""
    if message.startswith("Input should"):
        return "must" + message.removeprefix("Input should")
    return message.removeprefix("Input ")


def _key_of(loc: tuple, values: Any) -> str:
    """pydantic's error location as a config key: ("policy", "hidden_sizes", 1) -> policy.hidden_sizes[1].

    Parts that do not step into the values given (the option names of a union) are left out.
    """
    key = ""
    for part in loc:
        if isinstance(part, str) and isinstance(values, Mapping):
            key, values = (f"{key}.{part}" if key else part), values.get(part)
        elif isinstance(part, int) and isinstance(values, (list, tuple)) and part < len(values):
            key, values = f"{key}[{part}]", values[part]
        else:
            break
    return key


def _unknown_key_error(key: str, section_cls: type, section: str, where: str) -> ConfigError:
    prefix = section + "." if section else ""
    valid = [prefix + name for name in _field_types(section_cls)]
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    scope = f"in section {section!r}" if section else "at the top level"
    return ConfigError(f"unknown config key {key!r}{hint}{where}; valid keys {scope}: {', '.join(valid)}")


def _where(key: str, sources: dict[str, str]) -> str:
    """" in <source>" for the value at `key` (or at the nearest key above it that has one)."""
    while key and key not in sources:  # policy.hidden_sizes[1] -> policy.hidden_sizes -> policy
        key = key[: max(key.rfind("."), key.rfind("["), 0)]
    return f" in {sources[key]}" if key else ""


# ---------------------------------------------------------------------------------------------
# Dataclass introspection
# ---------------------------------------------------------------------------------------------


def _require_dataclass(cls: Any, caller: str) -> None:
    if not _is_dataclass_type(cls):
        raise TypeError(f"{caller} needs a dataclass type, got {cls!r}")


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """{name: type} of the fields that `cls(...)` takes, in declared order."""
    # get_type_hints resolves annotations written as strings (`from __future__ import annotations`).
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _field_type(cls: type, dotted_key: str) -> Any:
    """The type of the field `dotted_key` names (`policy.learning_rate`), or None if there is none."""
    annotation: Any = cls
    for name in dotted_key.split("."):
        if not _is_dataclass_type(annotation):
            return None
        annotation = _field_types(annotation).get(name)
    return annotation


def _is_dataclass_type(annotation: Any) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)
