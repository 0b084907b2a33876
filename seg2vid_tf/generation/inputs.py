"""The inputs of a generated video: label-map PNGs and first frames, read and checked.

`read_label_map` reads train ids or Cityscapes label ids and turns them into
train ids; `read_first_frame` reads a picture as floats. Both resize inputs of
another size to the model's (`--resize`, `seg2vid_tf.segmentation.frames`)
with a notice, and raise errors that name the file and the flag.
"""

import os

import numpy as np
from absl import logging
from PIL import Image

from seg2vid_tf import labels
from seg2vid_tf.image_formats import PNG_SIGNATURE
from seg2vid_tf.models import seg2vid
from seg2vid_tf.segmentation import frames as frames_lib

LABEL_ID_SETS = ("train", "cityscapes")
# What Pillow raises for a corrupt, truncated or hostile image file (the last: a header
# claiming more pixels than Image.MAX_IMAGE_PIXELS allows, e.g. a decompression bomb).
UNREADABLE_IMAGE = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)



def check_file(path, flag_name):
    """Raises FileNotFoundError naming `--flag_name` unless `path` is a file."""
    if not path or not os.path.isfile(path):
        raise FileNotFoundError(f"File not found: {path!r} (--{flag_name}).")


def read_label_map(path, label_ids="train", height=None, width=None, flag_name="label_map",
                   resize="fit"):
    """Reads a label PNG as train ids, resized to `height` x `width` if needed.

    Args:
        path: 8-bit single-channel (mode L or P) PNG of ids.
        label_ids: `"train"` (0..19, 255 -> 19) or `"cityscapes"` (label ids 0..33).
        height, width: The model's size; the map is resized by nearest
            neighbour (with a logged notice) when it differs.
        flag_name: The flag that named the file, for messages.
        resize: "fit" or "crop" (`segmentation.frames.resize_image`).

    Returns:
        `(train_ids, cityscapes_ids)`: int32 `[H, W]` arrays, the second the
        original Cityscapes label ids (None with `label_ids="train"`).

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not a PNG, not 8-bit single-channel, or ids out of range
            (naming the file and the ids).
    """
    if label_ids not in LABEL_ID_SETS:
        raise ValueError(f"--label_ids must be one of {LABEL_ID_SETS}, got {label_ids!r}.")
    check_file(path, flag_name)
    with open(path, "rb") as handle:
        if handle.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            raise ValueError(f"{path} (--{flag_name}) is not a PNG file; label maps must be "
                             "8-bit single-channel PNGs of ids.")
    try:
        with Image.open(path) as image:
            mode = image.mode
            if mode in ("L", "P"):
                ids = np.asarray(image, dtype=np.uint8)
    except UNREADABLE_IMAGE as error:
        raise ValueError(f"{path} (--{flag_name}) is not a readable PNG ({error}); expected a "
                         "complete 8-bit single-channel PNG of label ids.") from error
    if mode not in ("L", "P"):
        raise ValueError(
            f"{path} (--{flag_name}) has image mode {mode!r}; a label map must be an 8-bit "
            "single-channel PNG (mode 'L' or palette 'P') whose pixel values are the class ids, "
            "not a colour rendering or a 16-bit image.")
    if height and width and ids.shape != (height, width):
        logging.warning("Label map %s is %dx%d; resizing it to the model's %dx%d (nearest "
                        "neighbour, --resize=%s).", path, ids.shape[0], ids.shape[1], height,
                        width, resize)
        ids = frames_lib.resize_image(ids, height, width, resize, Image.NEAREST)
    ids = ids.astype(np.int32)
    if label_ids == "cityscapes":
        bad = np.unique(ids[ids > 33])
        if bad.size:
            raise ValueError(
                f"{path} (--{flag_name}) has ids {bad.tolist()} outside the Cityscapes label ids "
                "0..33 (--label_ids=cityscapes); use --label_ids=train for train-id maps.")
        return seg2vid.cityscapes_to_train_ids(ids), ids
    bad = np.unique(ids[(ids > labels.VOID_ID) & (ids != labels.IGNORE_ID)])
    if bad.size:
        raise ValueError(
            f"{path} (--{flag_name}) has ids {bad.tolist()} outside the train ids "
            f"0..{labels.VOID_ID} (255 reads as void); use --label_ids=cityscapes for "
            "Cityscapes label-id maps.")
    ids[ids == labels.IGNORE_ID] = labels.VOID_ID
    return ids, None


def read_first_frame(path, channels, height, width, flag_name="first_frame", resize="fit"):
    """Reads an image as float32 `[H, W, channels]` in [0, 1] at the model's size.

    An image of another size is resized bilinearly by the `resize` policy
    ("fit" or "crop", `segmentation.frames.resize_image`), with a notice.

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not a readable image (naming the file).
    """
    check_file(path, flag_name)
    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"), np.uint8)
    except UNREADABLE_IMAGE as error:
        raise ValueError(f"{path} (--{flag_name}) is not a readable image ({error}); expected "
                         "a complete PNG or JPEG picture.") from error
    if pixels.shape[:2] != (height, width):
        logging.warning("First frame %s is %dx%d; resizing it to the model's %dx%d (bilinear, "
                        "--resize=%s).", path, pixels.shape[0], pixels.shape[1], height, width,
                        resize)
        pixels = frames_lib.resize_image(pixels, height, width, resize)
    pixels = pixels.astype(np.float32) / 255.0
    return pixels.reshape(height, width, channels)
