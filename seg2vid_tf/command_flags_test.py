"""Tests of the shared flag definitions: config dataclasses as flags and back."""

import dataclasses

import pytest
from absl import flags

from seg2vid_tf import command_flags
from seg2vid_tf.training import base, label2image, segmenter


@dataclasses.dataclass(frozen=True)
class _Settings:
    path: str = ""
    count: int = 3
    rate: float = 0.5
    enabled: bool = True


_HELP = {"path": "A path.", "count": "A count.", "rate": "A rate.", "enabled": "On or off."}


def test_config_flags_take_their_kind_from_the_defaults_and_round_trip():
    values = flags.FlagValues()
    command_flags.define_config_flags(_Settings, _HELP, values)
    values(["prog", "--count=7", "--rate=0.25", "--noenabled"])
    assert values["path"].value is None  # an empty string default reads as unset
    assert values["count"].help == "A count."
    assert command_flags.config_from_flags(_Settings, values) == _Settings(
        path="", count=7, rate=0.25, enabled=False)
    with pytest.raises(flags.IllegalFlagValueError):
        values["count"].parse("seven")


@dataclasses.dataclass(frozen=True)
class _CheckedSettings(_Settings):
    def __post_init__(self):
        if self.count < 1:
            raise ValueError(f"--count must be >= 1, got {self.count}.")


def test_a_value_the_config_refuses_is_a_flag_error_with_its_message():
    values = flags.FlagValues()
    command_flags.define_config_flags(_CheckedSettings, _HELP, values)
    values(["prog", "--count=0"])
    with pytest.raises(command_flags.FlagError, match=r"^--count must be >= 1, got 0\.$"):
        command_flags.config_from_flags(_CheckedSettings, values)
    values(["prog", "--count=2"])
    assert command_flags.config_from_flags(_CheckedSettings, values).count == 2


def test_config_flags_are_idempotent_and_keep_the_first_definition():
    values = flags.FlagValues()
    command_flags.define_flag("integer", "count", 99, "Defined first.", flag_values=values)
    command_flags.define_config_flags(_Settings, _HELP, values)
    command_flags.define_config_flags(_Settings, _HELP, values)
    values(["prog"])
    assert values.count == 99 and values["count"].help == "Defined first."


def test_a_field_without_help_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="enabled"):
        command_flags.define_config_flags(_Settings, {"path": "", "count": "", "rate": ""},
                                          flags.FlagValues())


@pytest.mark.parametrize("config_class, help_texts, valid", [
    (label2image.Label2ImageConfig, label2image._FLAG_HELP,  # pylint: disable=protected-access
     {"weight_vgg": 0.0}),
    (segmenter.SegmenterTrainConfig, segmenter.FLAG_HELP, {}),
])
def test_trainer_configs_start_with_the_checked_bookkeeping_fields(config_class, help_texts,
                                                                   valid):
    names = [field.name for field in dataclasses.fields(config_class)]
    assert names[:len(base.BOOKKEEPING_FIELDS)] == list(base.BOOKKEEPING_FIELDS)
    assert set(names) <= set(help_texts)
    for name in base.BOOKKEEPING_FIELDS:
        with pytest.raises(ValueError, match=f"--{name} must be an integer >= 1, got 0"):
            config_class(**valid, **{name: 0})
