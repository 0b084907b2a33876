"""Configuration of the img2vid network as data, with the reference's size rules."""

import dataclasses

from seg2vid_tf import labels
from seg2vid_tf.config_data import ConfigData

LABEL_MODES = ("two_path", "one_path", "none")

NUM_CLASSES = labels.NUM_LABELS  # Cityscapes train ids 0..18 plus 19 (void).
NUM_BACKGROUND_CLASSES = labels.NUM_BACKGROUND_LABELS  # ids 0..10: background motion encoder.
LATENT_ROW = 1024  # The motion encoders cut their features into rows of this size.
MOTION_CHANNELS = 64  # Channels of the motion encoders' last feature map.
CODE_CHANNELS_PER_FRAME = 16  # zconv output channels given to each predicted frame.


def check_size(height, width):
    """Raises ValueError unless the reference network works at `height` x `width`.

    The refine network pools five times and then applies a 4x4 convolution
    without padding, and the motion encoders cut `64 x H/16 x W/16` features
    into rows of 1024, so H and W must be multiples of 32, at least 128, and
    `(H/16) * (W/16)` a multiple of 16 (e.g. 128x128, 128x256, 256x512).
    """
    rule = ("height and width must be multiples of 32, at least 128, and "
            "(height/16)*(width/16) a multiple of 16 (e.g. 128x128, 128x256, 256x512)")
    for name, value in (("height", height), ("width", width)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} must be an int, got {value!r}; {rule}.")
    if height < 128 or width < 128 or height % 32 or width % 32 or \
            ((height // 16) * (width // 16)) % 16:
        raise ValueError(f"Unsupported frame size {height}x{width}: {rule}.")


@dataclasses.dataclass(frozen=True)
class Img2VidConfig(ConfigData):
    """Architecture of an img2vid network.

    Attributes:
        height, width: Frame size (see `check_size`).
        label_mode: `"two_path"` (background and foreground motion encoders,
            the Cityscapes model of the paper), `"one_path"` (one motion encoder
            over the 20-class label volume) or `"none"` (no label map: KTH, UCF101).
        channels: Frame channels, 3 (RGB) or 1 (grayscale).
        num_predicted_frames: Frames predicted after the start frame (4 in the paper).
        width_multiplier: Scales every hidden channel count (not the latent) for
            fast experiments; 1.0 is exactly the reference.
    """

    height: int = 128
    width: int = 256
    label_mode: str = "two_path"
    channels: int = 3
    num_predicted_frames: int = 4
    width_multiplier: float = 1.0

    def __post_init__(self):
        check_size(self.height, self.width)
        if self.label_mode not in LABEL_MODES:
            raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {self.label_mode!r}.")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels!r}.")
        if not isinstance(self.num_predicted_frames, int) or self.num_predicted_frames < 1:
            raise ValueError(
                f"num_predicted_frames must be a positive int, got {self.num_predicted_frames!r}.")
        if not 0.0 < self.width_multiplier <= 4.0:
            raise ValueError(f"width_multiplier must be in (0, 4], got {self.width_multiplier!r}.")

    @property
    def latent_rows(self):
        """R: rows of 1024 latent features per sample."""
        return MOTION_CHANNELS * (self.height // 16) * (self.width // 16) // LATENT_ROW

    @property
    def has_labels(self):
        return self.label_mode != "none"

    @property
    def upsampling(self):
        """The no-label variant upsamples with nearest neighbour, the others bilinearly."""
        return "bilinear" if self.has_labels else "nearest"

    @property
    def num_frames(self):
        """Frames of a training clip: the start frame plus the predicted ones."""
        return self.num_predicted_frames + 1

    def scaled(self, channels):
        """A hidden channel count scaled by `width_multiplier`."""
        return max(1, int(round(channels * self.width_multiplier)))
