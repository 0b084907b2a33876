"""The label vocabulary: the 19 Cityscapes train ids, void, and their colours.

Train ids 0..18 are Cityscapes' evaluation classes in their official order
(`cityscapesscripts.helpers.labels`); 19 stands for void (every other
Cityscapes label). Ids 0..10 are the background classes (flat ground,
construction, objects, nature, sky), 11..18 the foreground ones (Cityscapes'
classes with instances: humans and vehicles); the two-path model's background
motion encoder sees one-hot ids 0..10, its foreground one 11..19, void
included (docs/method.md, "img2vid forward pass"). The colours are Cityscapes'
palette, black for void. Every other module takes these from here.
"""

import numpy as np

TRAIN_ID_NAMES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
    "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car",
    "truck", "bus", "train", "motorcycle", "bicycle",
)
VOID_ID = 19
NUM_LABELS = 20  # 19 train ids + void.
LABEL_NAMES = TRAIN_ID_NAMES + ("void",)  # the name of every id 0..19

# The two-path model's split: ids below NUM_BACKGROUND_LABELS feed the background motion encoder.
NUM_BACKGROUND_LABELS = 11
BACKGROUND_IDS = tuple(range(NUM_BACKGROUND_LABELS))  # road .. sky
FOREGROUND_IDS = tuple(range(NUM_BACKGROUND_LABELS, VOID_ID))  # person .. bicycle

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


# --------------------------------------------------------------------------- Cityscapes label ids
IGNORE_ID = 255  # Cityscapes' "ignore in evaluation" train id; void here.
# Label ids 0..33 in *_gtFine_labelIds.png (license plate, -1, is never stored).
NUM_CITYSCAPES_IDS = 34

# Cityscapes label id -> train id (`cityscapesscripts.helpers.labels`; 255 = ignored, void here).
CITYSCAPES_ID_TO_TRAIN_ID = {
    0: IGNORE_ID, 1: IGNORE_ID, 2: IGNORE_ID, 3: IGNORE_ID, 4: IGNORE_ID, 5: IGNORE_ID,
    6: IGNORE_ID, 7: 0, 8: 1, 9: IGNORE_ID, 10: IGNORE_ID, 11: 2, 12: 3, 13: 4, 14: IGNORE_ID,
    15: IGNORE_ID, 16: IGNORE_ID, 17: 5, 18: IGNORE_ID, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
    24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 29: IGNORE_ID, 30: IGNORE_ID, 31: 16, 32: 17, 33: 18,
}
# Train id -> the label id it stands for (void -> 0, "unlabeled").
TRAIN_ID_TO_CITYSCAPES_ID = {
    train_id: label_id for label_id, train_id in CITYSCAPES_ID_TO_TRAIN_ID.items()
    if train_id != IGNORE_ID}
TRAIN_ID_TO_CITYSCAPES_ID[VOID_ID] = 0

# Lookup tables as arrays: index = id, value = train id 0..19 (void for ignored ids).
CITYSCAPES_ID_TABLE = np.array(
    [VOID_ID if CITYSCAPES_ID_TO_TRAIN_ID[i] == IGNORE_ID else CITYSCAPES_ID_TO_TRAIN_ID[i]
     for i in range(NUM_CITYSCAPES_IDS)], np.int32)
TRAIN_ID_TO_CITYSCAPES_TABLE = np.array(
    [TRAIN_ID_TO_CITYSCAPES_ID[i] for i in range(NUM_LABELS)], np.int32)


def train_id_png_values(train_ids):
    """Train ids as the uint8 values of a `*_labelTrainIds.png` (void as 255, as in Cityscapes)."""
    train_ids = np.asarray(train_ids)
    return np.where(train_ids == VOID_ID, IGNORE_ID, train_ids).astype(np.uint8)


def cityscapes_ids_to_train_ids(label_ids, source="label map"):
    """Cityscapes label ids 0..33 -> train ids 0..19 (ignored classes -> 19, void).

    Args:
        label_ids: Integer array of label ids.
        source: What the ids came from, for the error message (a file name).

    Returns:
        int32 array of the same shape.

    Raises:
        ValueError: Ids outside 0..33 (listed, naming `source`).
    """
    label_ids = np.asarray(label_ids)
    bad = np.unique(label_ids[(label_ids < 0) | (label_ids >= NUM_CITYSCAPES_IDS)])
    if bad.size:
        raise ValueError(f"{source}: Cityscapes label ids must be in 0..{NUM_CITYSCAPES_IDS - 1}, "
                         f"found {bad[:10].tolist()}.")
    return CITYSCAPES_ID_TABLE[label_ids]


def train_ids_to_cityscapes_ids(train_ids):
    """Train ids 0..19 -> the Cityscapes label id of each class (void -> 0), NumPy int32."""
    return TRAIN_ID_TO_CITYSCAPES_TABLE[np.clip(np.asarray(train_ids), 0, VOID_ID)]
