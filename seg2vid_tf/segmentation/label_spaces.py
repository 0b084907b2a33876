"""The label spaces a segmenter may speak, and their maps to our train ids.

Every label map this project reads or writes is in Cityscapes *train ids*
(`seg2vid_tf.labels`: 0..18, 19 = void). A segmenter from elsewhere predicts
in its own space; `--segmenter_label_space` names it and `to_train_ids` maps
it here. Ids without a Cityscapes counterpart become void, as do ids outside
the space (a segmenter whose output does not fit its stated space is an
error, naming the source).

=========================  ========  ==============================================
space                      ids       meaning
=========================  ========  ==============================================
``cityscapes_train_id``    0..18     Cityscapes train ids (DeepLab's Cityscapes
                                     models, this project's segmenter); 19 and 255
                                     read as void
``cityscapes_id``          0..33     Cityscapes label ids (``*_gtFine_labelIds``)
``ade20k``                 0..150    ADE20K SceneParsing (MIT Scene Parsing 150):
                                     0 = other, 1..150 as in ``objectInfo150``
                                     (DeepLab's ADE20K models); see ADE20K_TO_TRAIN_ID
``pascal_voc``             0..20     PASCAL VOC 2012 (0 = background)
=========================  ========  ==============================================
"""

import numpy as np

from seg2vid_tf import labels

# ADE20K SceneParsing id (1-based, objectInfo150) -> train id; every other id is void.
# Outdoor classes only: ADE20K has no rider, train or motorcycle class ("minibike" is the
# nearest to motorcycle); "wall" is kept as wall, although ADE20K's walls are mostly indoors.
ADE20K_TO_TRAIN_ID = {
    1: 3,     # wall -> wall
    2: 2,     # building -> building
    3: 10,    # sky -> sky
    5: 8,     # tree -> vegetation
    7: 0,     # road -> road
    10: 9,    # grass -> terrain
    12: 1,    # sidewalk -> sidewalk
    13: 11,   # person -> person
    14: 9,    # earth -> terrain
    18: 8,    # plant -> vegetation
    21: 13,   # car -> car
    26: 2,    # house -> building
    30: 9,    # field -> terrain
    33: 4,    # fence -> fence
    39: 4,    # railing -> fence
    44: 7,    # signboard -> traffic sign
    49: 2,    # skyscraper -> building
    53: 1,    # path -> sidewalk
    73: 8,    # palm -> vegetation
    81: 15,   # bus -> bus
    84: 14,   # truck -> truck
    85: 2,    # tower -> building
    88: 5,    # streetlight -> pole
    94: 5,    # pole -> pole
    95: 9,    # land -> terrain
    103: 13,  # van -> car
    117: 17,  # minibike -> motorcycle
    128: 18,  # bicycle -> bicycle
    137: 6,   # traffic light -> traffic light
}
NUM_ADE20K_IDS = 151

# PASCAL VOC 2012 class id -> train id; background and indoor classes are void.
PASCAL_VOC_TO_TRAIN_ID = {2: 18, 6: 15, 7: 13, 14: 17, 15: 11, 19: 16}
NUM_PASCAL_VOC_IDS = 21


def _table(num_ids, mapping):
    table = np.full(num_ids, labels.VOID_ID, np.int32)
    for source_id, train_id in mapping.items():
        table[source_id] = train_id
    return table


# space -> (lookup table over its ids, its ids' description for errors).
_TABLES = {
    "cityscapes_train_id": (np.append(np.arange(labels.VOID_ID + 1, dtype=np.int32),
                                      np.full(labels.IGNORE_ID - labels.VOID_ID,
                                              labels.VOID_ID, np.int32)),
                            f"train ids 0..{labels.VOID_ID} or {labels.IGNORE_ID}"),
    "cityscapes_id": (labels.CITYSCAPES_ID_TABLE,
                      f"Cityscapes label ids 0..{labels.NUM_CITYSCAPES_IDS - 1}"),
    "ade20k": (_table(NUM_ADE20K_IDS, ADE20K_TO_TRAIN_ID),
               f"ADE20K ids 0..{NUM_ADE20K_IDS - 1}"),
    "pascal_voc": (_table(NUM_PASCAL_VOC_IDS, PASCAL_VOC_TO_TRAIN_ID),
                   f"PASCAL VOC ids 0..{NUM_PASCAL_VOC_IDS - 1}"),
}
LABEL_SPACES = tuple(_TABLES)


def check_label_space(space):
    """ValueError naming `--segmenter_label_space` unless `space` is known."""
    if space not in _TABLES:
        raise ValueError(f"--segmenter_label_space must be one of {LABEL_SPACES}, got {space!r}.")


def to_train_ids(ids, space, source="segmenter output"):
    """Maps ids of `space` to train ids 0..19.

    Args:
        ids: Integer array of the space's ids.
        space: One of `LABEL_SPACES`.
        source: What the ids came from (a file or the segmenter), for errors.

    Returns:
        int32 NumPy array of the same shape.

    Raises:
        ValueError: Unknown space, or ids that the space does not have (the
            message names `source`, the space and the offending ids).
    """
    check_label_space(space)
    table, description = _TABLES[space]
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{source}: expected integer class ids, got dtype {ids.dtype}.")
    if space == "cityscapes_train_id":
        bad_mask = (ids < 0) | ((ids > labels.VOID_ID) & (ids != labels.IGNORE_ID))
    else:
        bad_mask = (ids < 0) | (ids >= len(table))
    bad = np.unique(ids[bad_mask])
    if bad.size:
        raise ValueError(
            f"{source} has ids outside {description} (--segmenter_label_space={space}): "
            f"{bad[:10].tolist()}. Pick the label space the segmenter was trained in.")
    return table[ids]
