"""The perceptual VGG19 from img2vid or torchvision names, and its .npz files."""

import numpy as np
import pytest

from seg2vid_tf.conversion import vgg
from seg2vid_tf.conversion.state_dicts import ConversionError
from seg2vid_tf.models import vgg19
from seg2vid_tf.testing.reference_weights import img2vid_test_weights


@pytest.fixture(scope="module")
def state_dict():
    return img2vid_test_weights()


def test_vgg19_from_img2vid_or_torchvision_names(state_dict):
    network = vgg.vgg19_from_reference(state_dict)
    np.testing.assert_array_equal(
        network.convs[2].kernel.numpy(),
        np.transpose(state_dict["vgg_net.vgg.features.5.weight"], (2, 3, 1, 0)))
    torchvision = {name[len("vgg_net.vgg."):]: value for name, value in state_dict.items()
                   if name.startswith("vgg_net.")}
    torchvision["classifier.0.weight"] = np.zeros((4, 4), np.float32)
    plain = vgg.vgg19_from_reference(torchvision, pooling="max",
                                         output_layers=vgg19.PIX2PIXHD_PERCEPTUAL_LAYERS)
    images = np.random.default_rng(0).uniform(size=(1, 32, 32, 3)).astype(np.float32)
    assert [f.shape[-1] for f in plain(images)] == [64, 128, 256, 512, 512]
    del torchvision["features.34.bias"]
    with pytest.raises(ConversionError, match="features.34.bias|34.bias"):
        vgg.vgg19_from_reference(torchvision)
    with pytest.raises(ConversionError, match="No VGG19"):
        vgg.vgg19_from_reference({"classifier.0.weight": np.zeros(1)})


def test_vgg19_file_round_trip_and_missing_file(state_dict, tmp_path):
    network = vgg.vgg19_from_reference(state_dict)
    path = vgg.save_vgg19(network, str(tmp_path / "vgg19.npz"))
    loaded = vgg.load_vgg19(path)
    images = np.random.default_rng(1).uniform(size=(1, 32, 32, 3)).astype(np.float32)
    for a, b in zip(network(images), loaded(images)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(FileNotFoundError, match="--vgg19_weights"):
        vgg.load_vgg19(str(tmp_path / "absent.h5"))
