"""Label spaces: the maps of other datasets' ids to train ids (the tables: labels_test.py)."""

import numpy as np
import pytest

from seg2vid_tf.segmentation import label_spaces


def test_each_space_maps_its_street_classes():
    # Independent of the tables: ids read off each dataset's own class list.
    cases = {
        "cityscapes_train_id": ([0, 13, 18, 19, 255], [0, 13, 18, 19, 19]),
        "cityscapes_id": ([7, 26, 23, 0, 33], [0, 13, 10, 19, 18]),
        # ADE20K objectInfo150: 7 road, 21 car, 3 sky, 13 person, 137 traffic light, 0 other,
        # 8 bed (indoor: void).
        "ade20k": ([7, 21, 3, 13, 137, 0, 8], [0, 13, 10, 11, 6, 19, 19]),
        # PASCAL VOC: 7 car, 15 person, 6 bus, 0 background, 9 chair (void).
        "pascal_voc": ([7, 15, 6, 0, 9], [13, 11, 15, 19, 19]),
    }
    for space, (ids, expected) in cases.items():
        np.testing.assert_array_equal(label_spaces.to_train_ids(np.array(ids), space), expected,
                                      err_msg=space)


@pytest.mark.parametrize("space, bad", [("cityscapes_train_id", 20), ("cityscapes_id", 34),
                                        ("ade20k", 151), ("pascal_voc", 21),
                                        ("ade20k", -1)])
def test_ids_outside_the_space_are_an_error_naming_source_and_space(space, bad):
    with pytest.raises(ValueError, match=rf"frame_7\.png.*--segmenter_label_space={space}.*"
                                         rf"\[{bad}\]"):
        label_spaces.to_train_ids(np.array([[0, bad]]), space, source="frame_7.png")


def test_unknown_space_and_float_ids_are_errors():
    with pytest.raises(ValueError, match="--segmenter_label_space must be one of"):
        label_spaces.to_train_ids(np.array([0]), "coco")
    with pytest.raises(ValueError, match="integer class ids"):
        label_spaces.to_train_ids(np.array([0.5]), "ade20k")
