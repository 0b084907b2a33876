"""The img2vid (stage 2) network from a reference state_dict."""

import numpy as np

from seg2vid_tf.conversion.state_dicts import ConversionError, assign_reference_variables
from seg2vid_tf.models import config as config_lib
from seg2vid_tf.models.img2vid import Img2Vid


def _shape(state_dict, name):
    if name not in state_dict:
        raise ConversionError(f"Not an img2vid state_dict: {name!r} is missing.")
    return tuple(np.shape(state_dict[name]))


def infer_img2vid_config(state_dict, *, height, width):
    """Reads the img2vid variant and widths off the parameter names and shapes.

    Returns:
        An `Img2VidConfig` for `height` x `width`.
    """

    channels = _shape(state_dict, "refine_net.image_decoder.upc6.1.weight")[1]
    first_width = _shape(state_dict, "encoder.econv1.main.0.weight")[0]
    frames = _shape(state_dict, "zconv.main.0.weight")[0] // config_lib.CODE_CHANNELS_PER_FRAME
    if "motion_net_bg.main.0.weight" in state_dict:
        label_mode = "two_path"
    else:
        motion_inputs = _shape(state_dict, "motion_net.main.0.weight")[1]
        clip_channels = (frames + 1) * channels
        if motion_inputs == clip_channels:
            label_mode = "none"
        elif motion_inputs == clip_channels + config_lib.NUM_CLASSES:
            label_mode = "one_path"
        else:
            raise ConversionError(
                f"motion_net.main.0.weight has {motion_inputs} input channels; expected "
                f"{clip_channels} (no labels) or {clip_channels + config_lib.NUM_CLASSES} "
                "(one path).")
    return config_lib.Img2VidConfig(
        height=height, width=width, label_mode=label_mode, channels=channels,
        num_predicted_frames=frames, width_multiplier=first_width / 32.0)


def img2vid_from_reference(state_dict, *, height, width):
    """Builds an `Img2Vid` for `height` x `width` and loads a reference state_dict.

    The variant (two-path, one-path, no labels; RGB or grayscale) is recognized
    from the names and shapes. Entries of the frozen perceptual VGG19
    (`vgg_net.vgg.*`) belong to `vgg19_from_reference` and are left alone.

    Args:
        state_dict: dict from PyTorch names to NumPy arrays in PyTorch layout.
        height, width: Frame size the model will run at.

    Returns:
        The built `Img2Vid` with every variable assigned.

    Raises:
        ConversionError: Unused or missing tensors, or shape mismatches.
        ValueError: An unsupported frame size.
    """

    state_dict = {name: value for name, value in state_dict.items()
                  if not name.startswith("vgg_net.")}
    model = Img2Vid(infer_img2vid_config(state_dict, height=height, width=width))
    model.build_for_size()
    assign_reference_variables(model.reference_variables(), state_dict, "img2vid network")
    return model
