"""The label vocabulary against the official one (`cityscapesscripts.helpers.labels`)."""

import pathlib
import re

import numpy as np
import pytest
from cityscapesscripts.helpers import labels as official

from seg2vid_tf import labels

# Official classes that are scored (trainId 0..18); the rest (255, -1) are void here.
SCORED = sorted((label for label in official.labels if label.trainId not in (255, -1)),
                key=lambda label: label.trainId)


def test_train_ids_are_the_official_scored_classes_in_order():
    assert [label.trainId for label in SCORED] == list(range(len(labels.TRAIN_ID_NAMES)))
    assert labels.TRAIN_ID_NAMES == tuple(label.name for label in SCORED)
    assert labels.VOID_ID == len(SCORED) == 19
    assert labels.NUM_LABELS == labels.VOID_ID + 1
    assert labels.LABEL_NAMES == labels.TRAIN_ID_NAMES + ("void",)


def test_colours_are_the_official_palette_and_void_is_unlabeled_black():
    for label in SCORED:
        assert tuple(labels.LABEL_COLORS[label.trainId]) == label.color, label.name
    void_label = official.id2label[labels.TRAIN_ID_TO_CITYSCAPES_ID[labels.VOID_ID]]
    assert void_label.name == "unlabeled"
    assert tuple(labels.LABEL_COLORS[labels.VOID_ID]) == void_label.color == (0, 0, 0)
    assert labels.LABEL_COLORS.shape == (labels.NUM_LABELS, 3)
    assert labels.LABEL_COLORS.dtype == np.uint8


def test_each_train_id_stands_for_its_official_label_id():
    for label in SCORED:
        assert labels.TRAIN_ID_TO_CITYSCAPES_ID[label.trainId] == label.id, label.name
        assert labels.CITYSCAPES_ID_TO_TRAIN_ID[label.id] == label.trainId, label.name
    np.testing.assert_array_equal(
        labels.train_ids_to_cityscapes_ids(np.arange(labels.NUM_LABELS)),
        [label.id for label in SCORED] + [0])


def test_every_label_id_maps_like_cityscapesscripts_with_ignored_ids_void():
    stored = [label for label in official.labels if label.id >= 0]  # license plate (-1) never is
    assert labels.NUM_CITYSCAPES_IDS == max(label.id for label in stored) + 1 == 34
    assert labels.IGNORE_ID == 255
    for label in stored:
        ignored = label.trainId in (255, -1)
        assert ignored == label.ignoreInEval, label.name
        assert labels.CITYSCAPES_ID_TO_TRAIN_ID[label.id] == (
            labels.IGNORE_ID if ignored else label.trainId), label.name
        assert labels.CITYSCAPES_ID_TABLE[label.id] == (
            labels.VOID_ID if ignored else label.trainId), label.name
    ids = np.array([label.id for label in stored])
    np.testing.assert_array_equal(labels.cityscapes_ids_to_train_ids(ids),
                                  labels.CITYSCAPES_ID_TABLE[ids])


def test_void_is_255_in_train_id_pngs_and_ids_outside_the_table_are_errors():
    np.testing.assert_array_equal(labels.train_id_png_values([0, 18, labels.VOID_ID]),
                                  [0, 18, 255])
    with pytest.raises(ValueError, match=r"frame\.png: .*0\.\.33.*\[-1, 34\]"):
        labels.cityscapes_ids_to_train_ids(np.array([7, 34, -1]), source="frame.png")


def test_cityscapes_ids_round_trip_through_train_ids():
    train_ids = np.arange(labels.NUM_LABELS)
    back = labels.cityscapes_ids_to_train_ids(labels.train_ids_to_cityscapes_ids(train_ids))
    np.testing.assert_array_equal(back, train_ids)


def test_foreground_is_the_official_humans_and_vehicles():
    # docs/method.md, "img2vid forward pass": background ids 0..10, foreground 11..18, and the
    # foreground motion encoder's one-hot also covers void (11..19).
    foreground = [label.trainId for label in SCORED if label.hasInstances]
    assert labels.FOREGROUND_IDS == tuple(foreground) == tuple(range(11, 19))
    assert {label.category for label in SCORED if label.hasInstances} == {"human", "vehicle"}
    assert labels.BACKGROUND_IDS == tuple(label.trainId for label in SCORED
                                          if not label.hasInstances) == tuple(range(11))
    assert {label.category for label in SCORED if not label.hasInstances} == {
        "flat", "construction", "object", "nature", "sky"}
    assert labels.NUM_BACKGROUND_LABELS == len(labels.BACKGROUND_IDS)


def test_colorize_paints_void_and_out_of_range_ids_black():
    maps = np.array([[[0, 13], [labels.VOID_ID, 255]]])
    colours = labels.colorize(maps)
    assert colours.shape == (1, 2, 2, 3) and colours.dtype == np.uint8
    np.testing.assert_array_equal(colours[0, 0], labels.LABEL_COLORS[[0, 13]])
    np.testing.assert_array_equal(colours[0, 1], np.zeros((2, 3), np.uint8))


def test_other_modules_take_the_vocabulary_from_labels():
    from seg2vid_tf.data import decoding  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models import config, seg2vid  # pylint: disable=import-outside-toplevel

    assert config.NUM_CLASSES == decoding.NUM_CLASSES == seg2vid.NUM_TRAIN_IDS == labels.NUM_LABELS
    assert config.NUM_BACKGROUND_CLASSES == labels.NUM_BACKGROUND_LABELS
    assert decoding.VOID_ID == labels.VOID_ID
    # No module restates the vocabulary: no class-count literal, colour table or name list.
    package = pathlib.Path(labels.__file__).parent
    count = re.compile(r"^\s*\w*(NUM_CLASSES|NUM_LABELS|NUM_TRAIN_IDS|VOID|BACKGROUND)\w*"
                       r"\s*=\s*\d", re.MULTILINE)
    for path in sorted(package.rglob("*.py")):
        if path.name == "labels.py" or path.name.endswith("_test.py"):
            continue
        text = path.read_text(encoding="utf-8")
        assert not count.search(text), f"{path}: {count.search(text).group(0).strip()}"
        assert "(128, 64, 128)" not in text, f"{path} has its own colour table"
        assert not re.search(r"""["']road["'],\s*["']sidewalk["']""", text), (
            f"{path} has its own class names")
