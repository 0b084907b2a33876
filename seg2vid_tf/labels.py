"""The label vocabulary: the 19 Cityscapes train ids, void, and their colours.

Train ids 0..18 are Cityscapes' evaluation classes in their official order
(`cityscapesscripts.helpers.labels`); 19 stands for void (every other
Cityscapes label). Ids 0..10 are the background classes of the two-path
model's background motion encoder, 11..18 the foreground ones. The colours are
Cityscapes' palette, black for void.
"""

import numpy as np

TRAIN_ID_NAMES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
    "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car",
    "truck", "bus", "train", "motorcycle", "bicycle",
)
VOID_ID = 19
NUM_LABELS = 20  # 19 train ids + void.

# Cityscapes colour palette (train ids 0..18), black for void.
LABEL_COLORS = np.array([
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156),
    (190, 153, 153), (153, 153, 153), (250, 170, 30), (220, 220, 0),
    (107, 142, 35), (152, 251, 152), (70, 130, 180), (220, 20, 60),
    (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100), (0, 80, 100),
    (0, 0, 230), (119, 11, 32), (0, 0, 0)], dtype=np.uint8)


def colorize(label_maps):
    """Train-id label maps `[..., H, W]` as uint8 colours `[..., H, W, 3]` (void black)."""
    return LABEL_COLORS[np.clip(np.asarray(label_maps), 0, VOID_ID)]
