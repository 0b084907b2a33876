"""The Cityscapes train ids the synthetic scenes are labelled with.

Labels are Cityscapes train ids 0..18 and 19 = void (the ego vehicle's hood;
never 255). The names, colours and counts come from :mod:`seg2vid_tf.labels`.
"""

import numpy as np

from seg2vid_tf.labels import LABEL_COLORS, NUM_LABELS, TRAIN_ID_NAMES, VOID_ID

__all__ = [
    "BICYCLE", "BUILDING", "BUS", "CAR", "FENCE", "LABEL_COLORS", "MOTORCYCLE", "NUM_LABELS",
    "PERSON", "POLE", "RIDER", "ROAD", "SIDEWALK", "SKY", "TERRAIN", "TRAFFIC_LIGHT",
    "TRAFFIC_SIGN", "TRAIN", "TRAIN_ID_NAMES", "TRUCK", "VEGETATION", "VOID_ID", "WALL",
    "colorize_labels",
]

ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, TRAFFIC_LIGHT, TRAFFIC_SIGN = range(8)
VEGETATION, TERRAIN, SKY, PERSON, RIDER, CAR, TRUCK, BUS = range(8, 16)
TRAIN, MOTORCYCLE, BICYCLE = 16, 17, 18


def colorize_labels(labels):
    """Maps train-id label maps to the Cityscapes colour palette.

    Args:
        labels: Integer array ``[..., H, W]`` of train ids 0..19.

    Returns:
        uint8 array ``[..., H, W, 3]``.
    """
    labels = np.asarray(labels)
    return LABEL_COLORS[np.clip(labels, 0, VOID_ID)]
