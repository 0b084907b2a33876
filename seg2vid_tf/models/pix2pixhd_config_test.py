"""pix2pixHD configs: JSON round trips, validation, size rules."""

import json

import pytest

from seg2vid_tf.models.pix2pixhd_config import DiscriminatorConfig, Pix2PixHDConfig
from seg2vid_tf.testing.tiny_pix2pixhd import TINY_DISCRIMINATOR, TINY_GLOBAL, TINY_LOCAL


@pytest.mark.parametrize("config", [TINY_GLOBAL, TINY_LOCAL, TINY_DISCRIMINATOR])
def test_configs_round_trip_through_json(config):
    restored = type(config).from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config


@pytest.mark.parametrize("changes, message", [
    ({"norm": "group"}, "norm must be one of"),
    ({"ngf": 0}, "ngf must be an integer >= 1"),
    ({"n_blocks": -1}, "n_blocks must be an integer >= 0"),
    ({"input_channels": 2.0}, "input_channels must be an integer"),
])
def test_generator_config_validation(changes, message):
    with pytest.raises(ValueError, match=message):
        TINY_GLOBAL.replace(**changes)


def test_config_from_dict_names_unknown_fields():
    with pytest.raises(ValueError, match="Unknown Pix2PixHDConfig fields.*'netG'"):
        Pix2PixHDConfig.from_dict({"netG": "local"})
    with pytest.raises(ValueError, match="use_sigmoid must be a bool"):
        DiscriminatorConfig(use_sigmoid=1)


def test_size_rules():
    assert (TINY_LOCAL.size_multiple, TINY_LOCAL.minimum_size) == (16, 32)
    assert TINY_GLOBAL.replace(n_downsampling=0).minimum_size == 4
    TINY_LOCAL.check_size(32, 48)
    with pytest.raises(ValueError, match="multiples of 16"):
        TINY_LOCAL.check_size(32, 40)
    with pytest.raises(ValueError, match="at least 32"):
        TINY_LOCAL.check_size(16, 32)
