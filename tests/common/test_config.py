"""Specification of common.config: YAML + --set overrides into typed dataclasses, loud errors."""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import pytest
import yaml
from pydantic import Field

from common.config import (
    ConfigError,
    add_config_arguments,
    config_from_dict,
    config_keys,
    config_to_dict,
    load_config,
    parse_config,
    save_config,
)


@dataclass
class PolicyConfig:
    hidden_sizes: tuple[int, ...] = (64, 64)
    learning_rate: float = 3e-4
    activation: Literal["tanh", "relu"] = "tanh"


@dataclass
class ExperimentConfig:
    env_id: str = "CartPole-v1"
    seed: int = 0
    total_steps: int = 100_000
    gamma: float = 0.99
    use_baseline: bool = True
    gae_lambda: float | None = None
    log_dir: Path = Path("runs")
    # A non-default factory: overriding one policy key must keep the others from here.
    policy: PolicyConfig = field(default_factory=lambda: PolicyConfig(hidden_sizes=(32,)))


def write_yaml(tmp_path: Path, values: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def test_defaults_when_no_file_and_no_overrides():
    assert load_config(ExperimentConfig) == ExperimentConfig()


def test_yaml_values_replace_defaults_and_nested_sections_merge(tmp_path):
    path = write_yaml(tmp_path, {"seed": 3, "policy": {"learning_rate": 0.01}})
    config = load_config(ExperimentConfig, path)
    assert config.seed == 3
    assert config.policy.learning_rate == 0.01
    assert config.policy.hidden_sizes == (32,)  # from the dataclass's default factory, not PolicyConfig()
    assert config.total_steps == 100_000


def test_overrides_are_parsed_as_yaml_and_coerced_to_field_types(tmp_path):
    config = load_config(
        ExperimentConfig,
        overrides=[
            "policy.learning_rate=3e-3",  # PyYAML reads this as text: the float field converts it
            "total_steps=1e6",  # an int field takes a float with no fractional part
            "policy.hidden_sizes=[8, 16]",
            "use_baseline=false",
            "gae_lambda=0.95",
            "log_dir=/tmp/elsewhere",
        ],
    )
    assert config.policy.learning_rate == pytest.approx(3e-3) and isinstance(config.policy.learning_rate, float)
    assert config.total_steps == 1_000_000 and isinstance(config.total_steps, int)
    assert config.policy.hidden_sizes == (8, 16)  # a tuple, as annotated, not YAML's list
    assert config.use_baseline is False
    assert config.gae_lambda == 0.95
    assert config.log_dir == Path("/tmp/elsewhere")


def test_overrides_apply_after_the_file_and_in_order(tmp_path):
    path = write_yaml(tmp_path, {"seed": 3, "gamma": 0.9})
    config = load_config(ExperimentConfig, path, ["seed=4", "seed=5"])
    assert (config.seed, config.gamma) == (5, 0.9)


def test_a_whole_section_override_sets_only_the_keys_it_names(tmp_path):
    # --set policy={...} means the same as one --set policy.<key>=... per key it names.
    path = write_yaml(tmp_path, {"policy": {"learning_rate": 0.01}})
    config = load_config(ExperimentConfig, path, ["policy={hidden_sizes: [8]}"])
    assert config.policy == PolicyConfig(hidden_sizes=(8,), learning_rate=0.01)
    config = load_config(ExperimentConfig, overrides=["policy.activation=relu", "policy={learning_rate: 0.5}"])
    assert config.policy == PolicyConfig(hidden_sizes=(32,), learning_rate=0.5, activation="relu")


def test_text_fields_keep_the_text_as_typed():
    # YAML alone would turn these into True and 1000 (an int).
    config = load_config(ExperimentConfig, overrides=["env_id=on"])
    assert config.env_id == "on"
    assert load_config(ExperimentConfig, overrides=["env_id=1000"]).env_id == "1000"


def test_optional_field_accepts_null():
    config = load_config(ExperimentConfig, overrides=["gae_lambda=0.9", "gae_lambda=null"])
    assert config.gae_lambda is None


def test_unknown_top_level_key_names_it_and_lists_valid_keys():
    with pytest.raises(ConfigError) as error:
        load_config(ExperimentConfig, overrides=["learning_rate=1e-3"])
    message = str(error.value)
    assert "'learning_rate'" in message
    for key in ("env_id", "seed", "total_steps", "gamma", "use_baseline", "policy"):
        assert key in message


def test_unknown_nested_key_names_it_and_lists_the_sections_keys():
    with pytest.raises(ConfigError) as error:
        load_config(ExperimentConfig, overrides=["policy.learning_rat=1e-3"])
    message = str(error.value)
    assert "'policy.learning_rat'" in message
    assert "policy.hidden_sizes" in message and "policy.learning_rate" in message
    assert "did you mean 'policy.learning_rate'" in message


def test_unknown_key_in_yaml_file_names_key_and_file(tmp_path):
    path = write_yaml(tmp_path, {"policy": {"hiden_sizes": [4]}})
    with pytest.raises(ConfigError, match=r"'policy\.hiden_sizes'.*config\.yaml.*policy\.hidden_sizes"):
        load_config(ExperimentConfig, path)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    "override, key",
    [
        ("seed=abc", "seed"),
        ("seed=1.5", "seed"),
        ("seed=true", "seed"),  # bool is an int subclass in Python; still a mistake here
        ("gamma=fast", "gamma"),
        ("use_baseline=1", "use_baseline"),
        ("policy.hidden_sizes=64", "policy.hidden_sizes"),
        ("policy.hidden_sizes=[64, x]", "policy.hidden_sizes[1]"),
        ("policy.activation=elu", "policy.activation"),
    ],
)
def test_wrong_type_is_an_error_naming_the_field(override, key):
    with pytest.raises(ConfigError, match=re.escape(f"config key '{key}' must")):
        load_config(ExperimentConfig, overrides=[override])


def test_override_into_a_single_value_or_onto_a_section_is_an_error():
    with pytest.raises(ConfigError, match="seed"):
        load_config(ExperimentConfig, overrides=["seed.x=1"])
    with pytest.raises(ConfigError, match="policy is a section"):
        load_config(ExperimentConfig, overrides=["policy=3"])


def test_override_without_equals_sign_is_an_error():
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(ExperimentConfig, overrides=["seed"])


def test_missing_or_invalid_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(ExperimentConfig, tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(ExperimentConfig, bad)


def test_required_field_without_default_must_be_given():
    @dataclass
    class NeedsEnv:
        env_id: str
        seed: int = 0

    with pytest.raises(ConfigError, match="'env_id' has no default"):
        load_config(NeedsEnv)
    assert load_config(NeedsEnv, overrides=["env_id=Hopper-v5"]).env_id == "Hopper-v5"


def test_config_to_dict_yaml_round_trip_gives_an_equal_config(tmp_path):
    config = load_config(ExperimentConfig, overrides=["policy.hidden_sizes=[8]", "gae_lambda=0.97", "seed=7"])
    as_dict = config_to_dict(config)
    assert as_dict["policy"] == {"hidden_sizes": [8], "learning_rate": 3e-4, "activation": "tanh"}
    assert as_dict["log_dir"] == "runs"
    path = save_config(config, tmp_path / "saved.yaml")
    assert load_config(ExperimentConfig, path) == config
    # save_config keeps the declared field order, so the file reads like the dataclass.
    assert list(yaml.safe_load(path.read_text())) == list(as_dict)


def test_config_keys_lists_nested_keys_dotted():
    assert config_keys(ExperimentConfig)[-3:] == ["policy.hidden_sizes", "policy.learning_rate", "policy.activation"]


def test_add_config_arguments_collects_repeated_and_grouped_sets():
    parser = add_config_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--config", "c.yaml", "--set", "seed=1", "--set", "gamma=0.9", "use_baseline=false"])
    assert args.config == "c.yaml"
    assert args.overrides == ["seed=1", "gamma=0.9", "use_baseline=false"]
    assert parser.parse_args([]).overrides == []


def test_parse_config_reads_argv(tmp_path):
    path = write_yaml(tmp_path, {"seed": 2})
    config = parse_config(ExperimentConfig, ["--config", str(path), "--set", "policy.learning_rate=0.5"])
    assert config.seed == 2 and config.policy.learning_rate == 0.5


def test_parse_config_exits_with_code_2_and_a_one_line_message(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_config(ExperimentConfig, ["--set", "sed=1"])
    assert exit_info.value.code == 2
    error_lines = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(error_lines) == 1 and "'sed'" in error_lines[0] and "seed" in error_lines[0]


def test_config_from_dict_checks_and_coerces_like_a_yaml_file():
    config = config_from_dict(ExperimentConfig, {"seed": "3", "policy": {"learning_rate": "1e-3"}})
    assert config.seed == 3 and config.policy.learning_rate == pytest.approx(1e-3)
    assert config.policy.hidden_sizes == (32,)  # untouched keys keep the section's defaults
    with pytest.raises(ConfigError, match=r"'policy\.lr'.*the grader's config.*policy\.learning_rate"):
        config_from_dict(ExperimentConfig, {"policy": {"lr": 1}}, source="the grader's config")
    with pytest.raises(ConfigError, match="seed"):
        config_from_dict(ExperimentConfig, {"seed": "abc"})


# --- The values are checked by pydantic; the messages stay one line a student can act on ---------


@pytest.mark.parametrize(
    "override, expected",
    [
        ("seed=abc", "config key 'seed' must be a valid integer, unable to parse string as an integer; "
                     "got 'abc' in --set seed=abc"),
        ("seed=1.5", "config key 'seed' must be a valid integer, got a number with a fractional part; "
                     "got 1.5 in --set seed=1.5"),
        ("seed=true", "config key 'seed' must be of type int; got True in --set seed=true"),
        ("use_baseline=1", "config key 'use_baseline' must be of type bool; got 1 in --set use_baseline=1"),
        ("gae_lambda=high", "config key 'gae_lambda' must be a valid number, unable to parse string as a number; "
                            "got 'high' in --set gae_lambda=high"),
        ("policy.activation=elu", "config key 'policy.activation' must be 'tanh' or 'relu'; "
                                  "got 'elu' in --set policy.activation=elu"),
        ("policy.hidden_sizes=[64, x]", "config key 'policy.hidden_sizes[1]' must be a valid integer, unable to "
                                        "parse string as an integer; got 'x' in --set policy.hidden_sizes=[64, x]"),
    ],
)
def test_a_bad_value_gives_one_line_naming_key_value_expectation_and_source(override, expected):
    with pytest.raises(ConfigError) as error:
        load_config(ExperimentConfig, overrides=[override])
    assert str(error.value) == expected


def test_a_bad_value_in_a_file_names_the_file(tmp_path):
    path = write_yaml(tmp_path, {"seed": 1, "policy": {"hidden_sizes": "wide"}})
    with pytest.raises(ConfigError) as error:
        load_config(ExperimentConfig, path, ["seed=2"])
    assert str(error.value) == f"config key 'policy.hidden_sizes' must be a valid tuple; got 'wide' in config file {path}"


def test_a_later_override_is_the_source_named_for_a_key():
    with pytest.raises(ConfigError, match=r"got 'x' in --set seed=x$"):
        load_config(ExperimentConfig, overrides=["seed=1", "seed=x"])


def test_a_union_field_lists_every_accepted_type():
    @dataclass
    class WithUnion:
        clip: int | str = 0

    with pytest.raises(ConfigError, match=r"^config key 'clip' must be a valid integer or must be a valid string; "
                                          r"got \[1\] in --set clip=\[1\]$"):
        load_config(WithUnion, overrides=["clip=[1]"])


def test_bool_and_number_are_never_mixed_up_in_files_or_dicts(tmp_path):
    # pydantic alone would read these as 1.0 and True; in a config they are typos.
    with pytest.raises(ConfigError, match=r"'gamma' must be of type float; got True in config file"):
        load_config(ExperimentConfig, write_yaml(tmp_path, {"gamma": True}))
    with pytest.raises(ConfigError, match=r"'use_baseline' must be of type bool; got 'yes' in the grader's config"):
        config_from_dict(ExperimentConfig, {"use_baseline": "yes"}, source="the grader's config")


def test_numbers_in_exponent_form_are_numbers_in_files_too(tmp_path):
    # PyYAML alone reads 1e6 and 3e-4 (no dot) as text; the config reads them as YAML 1.2 does.
    path = write_yaml(tmp_path, {})
    path.write_text("total_steps: 1e6\npolicy:\n  learning_rate: 3e-4\n")
    config = load_config(ExperimentConfig, path)
    assert config.total_steps == 1_000_000 and isinstance(config.total_steps, int)
    assert config.policy.learning_rate == 3e-4


def test_a_text_field_in_a_file_takes_a_number_as_text(tmp_path):
    assert load_config(ExperimentConfig, write_yaml(tmp_path, {"env_id": 42})).env_id == "42"


def test_a_check_in_post_init_becomes_a_config_error_with_its_own_message():
    @dataclass
    class Checked:
        gae_lambda: float | None = None
        use_baseline: bool = False

        def __post_init__(self):
            if self.gae_lambda is not None and not self.use_baseline:
                raise ValueError("gae_lambda needs a value function: set use_baseline: true")

    with pytest.raises(ConfigError) as error:
        load_config(Checked, overrides=["gae_lambda=0.9"])
    assert str(error.value) == "gae_lambda needs a value function: set use_baseline: true"
    assert load_config(Checked, overrides=["gae_lambda=0.9", "use_baseline=true"]).gae_lambda == 0.9


def test_a_dict_field_is_one_value_with_typed_items():
    @dataclass
    class WithEnvKwargs:
        env_kwargs: dict[str, float] = field(default_factory=dict)

    config = config_from_dict(WithEnvKwargs, {"env_kwargs": {"gravity": "-9.8", "wind": 1}})
    assert config.env_kwargs == {"gravity": -9.8, "wind": 1.0}
    with pytest.raises(ConfigError, match=r"^config key 'env_kwargs.wind' must be a valid number"):
        config_from_dict(WithEnvKwargs, {"env_kwargs": {"wind": "strong"}})


def test_a_field_outside_init_is_not_a_config_key():
    @dataclass
    class WithDerived:
        batch_size: int = 8
        num_minibatches: int = field(init=False, default=4)

    assert config_keys(WithDerived) == ["batch_size"]
    with pytest.raises(ConfigError, match=r"unknown config key 'num_minibatches'.*valid keys at the top level: batch_size$"):
        load_config(WithDerived, overrides=["num_minibatches=2"])


def test_configs_stay_plain_dataclasses():
    config = load_config(ExperimentConfig, overrides=["seed=1"])
    assert type(config) is ExperimentConfig and type(config.policy) is PolicyConfig
    assert not [name for name in vars(ExperimentConfig) if "pydantic" in name]


def test_config_to_dict_writes_numpy_scalars_and_infinity_as_plain_numbers():
    np = pytest.importorskip("numpy")
    as_dict = config_to_dict({"lr": np.float32(0.5), "steps": np.int64(3), "max_norm": float("inf")})
    assert as_dict == {"lr": 0.5, "steps": 3, "max_norm": float("inf")}
    assert type(as_dict["lr"]) is float and type(as_dict["steps"]) is int
    with pytest.raises(TypeError, match="cannot write"):
        config_to_dict({"callback": object()})


def test_a_field_may_state_a_range_and_the_message_names_it():
    @dataclass
    class WithRange:
        learning_rate: Annotated[float, Field(gt=0)] = 1e-3

    with pytest.raises(ConfigError, match=r"^config key 'learning_rate' must be greater than 0; got -0\.1 in --set"):
        load_config(WithRange, overrides=["learning_rate=-0.1"])
    assert load_config(WithRange, overrides=["learning_rate=0.1"]).learning_rate == 0.1


class _Schedule:
    """A class pydantic knows nothing about, as a config field might hold."""


@dataclass
class WithObject:
    schedule: _Schedule | None = None
    seed: int = 0


def test_a_field_of_any_class_takes_an_instance_of_it():
    schedule = _Schedule()
    assert config_from_dict(WithObject, {"schedule": schedule}).schedule is schedule
    assert load_config(WithObject, overrides=["seed=1"]).schedule is None
    with pytest.raises(ConfigError, match=r"^config key 'schedule' must be an instance of _Schedule; got 3 in"):
        config_from_dict(WithObject, {"schedule": 3})
