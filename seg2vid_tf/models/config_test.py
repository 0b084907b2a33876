"""Img2VidConfig validation and derived sizes."""

import pytest

from seg2vid_tf.models.config import Img2VidConfig, check_size


@pytest.mark.parametrize("height,width,rows", [(128, 128, 4), (128, 256, 8), (256, 512, 32)])
def test_supported_sizes_and_latent_rows(height, width, rows):
    check_size(height, width)
    assert Img2VidConfig(height=height, width=width).latent_rows == rows


@pytest.mark.parametrize("height,width", [(96, 128), (128, 96), (144, 256), (128, 240),
                                          (160, 160), (64, 64)])
def test_unsupported_sizes_name_the_rule(height, width):
    with pytest.raises(ValueError, match="multiples of 32, at least 128"):
        Img2VidConfig(height=height, width=width)


def test_non_integer_size():
    with pytest.raises(ValueError, match="height must be an int"):
        check_size(128.0, 256)


@pytest.mark.parametrize("field,value,message", [
    ("label_mode", "three_path", "label_mode"), ("channels", 2, "channels"),
    ("num_predicted_frames", 0, "num_predicted_frames"), ("width_multiplier", 0.0, "width_multiplier")])
def test_invalid_fields(field, value, message):
    with pytest.raises(ValueError, match=message):
        Img2VidConfig(**{field: value})


def test_variants_and_round_trip():
    config = Img2VidConfig(label_mode="none", channels=1, width_multiplier=0.25)
    assert not config.has_labels and config.upsampling == "nearest"
    assert Img2VidConfig().upsampling == "bilinear"
    assert config.scaled(32) == 8 and config.scaled(1) == 1
    assert Img2VidConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="Unknown Img2VidConfig fields"):
        Img2VidConfig.from_dict({"heigth": 128})
