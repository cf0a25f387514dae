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
the order given. Override values are parsed as YAML (`3e-4`, `[64, 64]`, `false`, `null`) and then
checked against the field's type annotation, so a typo fails at start-up with a message that names
the key, instead of an hour into training.
"""
from __future__ import annotations

import argparse
import dataclasses
import difflib
import functools
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

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
    # Every value given, as (dotted key, value) pairs in the order they apply; later ones win.
    items: list[tuple[str, Any]] = []
    if path is not None:
        items += _dotted_items(cls, _read_yaml_mapping(Path(path)), prefix="", source=f"config file {path}")
    for override in overrides:
        items += _override_items(cls, override)
    return _build_from_items(cls, items)


def config_from_dict(cls: type[ConfigT], values: Mapping[str, Any], source: str = "the given values") -> ConfigT:
    """Build a `cls` instance from its defaults and a plain (nested) dict, e.g. one sent by the grader.

    The dict is checked exactly like a YAML file: unknown keys raise ConfigError naming them (and
    `source`) and listing the valid ones; values are coerced to the fields' types.
    """
    _require_dataclass(cls, "config_from_dict")
    return _build_from_items(cls, _dotted_items(cls, values, prefix="", source=source))


def config_to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass (or a mapping) as nested plain dicts, lists and scalars, ready for YAML.

    Tuples become lists and paths become strings; `load_config` turns them back, so
    `load_config(type(c), path_of(yaml.safe_dump(config_to_dict(c)))) == c`.
    """
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: _to_plain(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, Mapping):
        return {str(key): _to_plain(value) for key, value in config.items()}
    raise TypeError(f"expected a config dataclass instance or a dict, got {type(config).__name__}")


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
    except ValueError as error:  # ConfigError, or a check in the dataclass's __post_init__
        parser.error(str(error))


def config_keys(cls: type) -> list[str]:
    """Every settable key of config class `cls`, nested ones dotted (`policy.learning_rate`)."""
    keys = []
    for f in _settable_fields(cls):
        field_type = _field_types(cls)[f.name]
        if _is_dataclass_type(field_type):
            keys += [f"{f.name}.{key}" for key in config_keys(field_type)]
        else:
            keys.append(f.name)
    return keys


# ---------------------------------------------------------------------------------------------
# Reading and checking keys
# ---------------------------------------------------------------------------------------------


def _require_dataclass(cls: Any, caller: str) -> None:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{caller} needs a dataclass type, got {cls!r}")


def _build_from_items(cls: type[ConfigT], items: Sequence[tuple[str, Any]]) -> ConfigT:
    """Apply (dotted key, value) pairs in order over the defaults of `cls`."""
    values: dict[str, Any] = {}  # nested like the dataclass: {"policy": {"learning_rate": 0.01}}
    for key, value in items:
        _set_dotted(values, key, value)
    return _build(cls, values, prefix="", base=None)


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from None
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {' '.join(str(error).split())}") from None
    if values is None:  # an empty file keeps every default
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys to values, got {type(values).__name__}")
    return values


def _split_override(override: str) -> tuple[str, str]:
    key, sep, text = override.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"override {override!r} must look like KEY=VALUE, e.g. seed=1 or policy.learning_rate=1e-3")
    return key, text.strip()


def _parse_override_value(text: str, annotation: Any) -> Any:
    """The YAML value of `text`, except that a text field keeps the text as typed.

    YAML would read `--set mode=on` as True and `--set name=1e3` as text but `name=10` as 10;
    for a `str` field the characters the user typed are what they meant.
    """
    if annotation is str or (_is_optional_of(annotation, str) and text not in ("null", "~")):
        return text
    try:
        return yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text  # e.g. an unbalanced bracket: the type check then reports it as text


def _override_items(cls: type, override: str) -> list[tuple[str, Any]]:
    """One `--set KEY=VALUE` as (dotted key, value) pairs, the value parsed for the key's type.

    A whole section, `policy={learning_rate: 0.1}`, means `policy.learning_rate=0.1`: the section's
    other keys keep the values they had.
    """
    key, text = _split_override(override)
    source = f"--set {override}"
    annotation = _check_dotted_key(cls, key, source)
    value = _parse_override_value(text, annotation)
    if _is_dataclass_type(annotation) and isinstance(value, Mapping):
        return _dotted_items(annotation, value, prefix=key + ".", source=source)
    return [(key, value)]


def _dotted_items(cls: type, section: Mapping[str, Any], prefix: str, source: str) -> list[tuple[str, Any]]:
    """`section`, keys of `cls`, as (dotted key, value) pairs: {"policy": {"lr": 1}} -> [("policy.lr", 1)].

    Nested sections are flattened; the value of a `dict` field stays whole (it is one value). The
    first key that `cls` does not have raises ConfigError naming it and `source`.
    """
    types_by_name = _field_types(cls)
    names = [f.name for f in _settable_fields(cls)]
    items = []
    for name, value in section.items():
        if name not in names:
            raise _unknown_key_error(prefix + str(name), names, prefix, source)
        if _is_dataclass_type(types_by_name[name]) and isinstance(value, Mapping):
            items += _dotted_items(types_by_name[name], value, f"{prefix}{name}.", source)
        else:
            items.append((prefix + name, value))
    return items


def _check_dotted_key(cls: type, dotted_key: str, source: str) -> Any:
    """The type annotation of the field `dotted_key` names; ConfigError when there is none."""
    parts = dotted_key.split(".")
    prefix = ""
    for depth, part in enumerate(parts):
        names = [f.name for f in _settable_fields(cls)]
        if part not in names:
            raise _unknown_key_error(prefix + part, names, prefix, source)
        field_type = _field_types(cls)[part]
        is_last = depth == len(parts) - 1
        if not is_last and not _is_dataclass_type(field_type):
            raise ConfigError(f"{source}: {prefix + part} is a single value, it has no key {parts[depth + 1]!r}")
        cls, prefix = field_type, prefix + part + "."
    return cls


def _unknown_key_error(key: str, names: list[str], prefix: str, source: str) -> ConfigError:
    valid = [prefix + name for name in names]
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    where = f"in section {prefix[:-1]!r}" if prefix else "at the top level"
    return ConfigError(f"unknown config key {key!r}{hint} in {source}; valid keys {where}: {', '.join(valid)}")


def _set_dotted(values: dict[str, Any], dotted_key: str, value: Any) -> None:
    *sections, last = dotted_key.split(".")
    for section in sections:
        if not isinstance(values.get(section), dict):
            values[section] = {}
        values = values[section]
    values[last] = value


# ---------------------------------------------------------------------------------------------
# Building the dataclass and coercing values to the annotated types
# ---------------------------------------------------------------------------------------------


def _build(cls: type, values: Mapping[str, Any], prefix: str, base: Any) -> Any:
    """Instantiate `cls` from `values`; fields missing there come from `base` or the defaults."""
    kwargs = {}
    for f in _settable_fields(cls):
        key = prefix + f.name
        field_type = _field_types(cls)[f.name]
        default = getattr(base, f.name) if base is not None else _default_of(f)
        if _is_dataclass_type(field_type):
            section = values.get(f.name, {})
            if not isinstance(section, Mapping):
                raise ConfigError(
                    f"{key} is a section of the config; set its keys instead, e.g. {key}.{config_keys(field_type)[0]}=..."
                )
            kwargs[f.name] = _build(field_type, section, key + ".", default if default is not _MISSING else None)
        elif f.name in values:
            kwargs[f.name] = _coerce(values[f.name], field_type, key)
        elif default is not _MISSING:
            kwargs[f.name] = default
        else:
            raise ConfigError(f"config key {key!r} has no default: give it in the config file or with --set {key}=...")
    return cls(**kwargs)


_MISSING = object()


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _MISSING


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Return `value` converted to `annotation`, or raise ConfigError naming `key`."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any or annotation is object:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, option, key)
            except ConfigError:
                continue
        raise _type_error(key, value, annotation)
    if origin is typing.Literal:
        if value in args:
            return value
        raise ConfigError(f"config key {key!r} must be one of {', '.join(map(repr, args))}; got {value!r}")
    if origin in (tuple, list) or annotation in (tuple, list):
        return _coerce_sequence(value, origin or annotation, args, key)
    if origin is dict or annotation is dict:
        if not isinstance(value, Mapping):
            raise _type_error(key, value, annotation)
        value_type = args[1] if len(args) == 2 else Any
        return {name: _coerce(item, value_type, f"{key}.{name}") for name, item in value.items()}
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise _type_error(key, value, annotation)
    if annotation is int:
        return _coerce_int(value, key)
    if annotation is float:
        return _coerce_float(value, key)
    if annotation is str:
        # YAML reads `exp_name=42` as a number; a str field wants the text back.
        if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return str(value)
        raise _type_error(key, value, annotation)
    if annotation is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        raise _type_error(key, value, annotation)
    if isinstance(annotation, type) and isinstance(value, annotation):
        return value
    raise _type_error(key, value, annotation)


def _coerce_int(value: Any, key: str) -> int:
    if isinstance(value, bool):
        raise _type_error(key, value, int)
    if isinstance(value, int):
        return value
    number = _coerce_float(value, key, wanted=int)
    if not number.is_integer():
        raise _type_error(key, value, int)
    return int(number)  # accepts 1e6 and 1000000.0 for step counts


def _coerce_float(value: Any, key: str, wanted: type = float) -> float:
    if isinstance(value, bool):
        raise _type_error(key, value, wanted)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        # PyYAML reads 3e-4 (no dot) as text, so numbers in exponent form arrive as strings.
        try:
            return float(value)
        except ValueError:
            pass
    raise _type_error(key, value, wanted)


def _coerce_sequence(value: Any, container: type, args: tuple, key: str) -> Any:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"config key {key!r} must be a list such as [64, 64]; got {value!r}")
    if container is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            raise ConfigError(f"config key {key!r} must have {len(args)} items; got {len(value)}: {value!r}")
        item_types = args
    else:
        item_types = (args[0] if args else Any,) * len(value)
    items = [_coerce(item, item_type, f"{key}[{i}]") for i, (item, item_type) in enumerate(zip(value, item_types))]
    return tuple(items) if container is tuple else items


def _type_error(key: str, value: Any, annotation: Any) -> ConfigError:
    name = getattr(annotation, "__name__", None) if not typing.get_args(annotation) else None
    return ConfigError(f"config key {key!r} must be of type {name or annotation}; got {value!r}")


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return config_to_dict(value)
    if isinstance(value, Mapping):
        return {str(k): _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


# ---------------------------------------------------------------------------------------------
# Dataclass introspection
# ---------------------------------------------------------------------------------------------


def _is_optional_of(annotation: Any, wanted: type) -> bool:
    args = typing.get_args(annotation)
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and set(args) == {wanted, type(None)}


def _settable_fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if f.init]


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    # get_type_hints resolves annotations written as strings (`from __future__ import annotations`).
    return typing.get_type_hints(cls)


def _is_dataclass_type(annotation: Any) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)
