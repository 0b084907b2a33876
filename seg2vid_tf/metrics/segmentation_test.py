"""Confusion matrices and mean IoU against hand-counted cases and scikit-style definitions."""

import numpy as np
import pytest

from seg2vid_tf.metrics import segmentation


def test_hand_counted_case():
    truth = np.array([[0, 0, 1, 19], [2, 2, 1, 1]])
    predicted = np.array([[0, 1, 1, 5], [2, 0, 1, 1]])
    confusion = segmentation.confusion_matrix(truth, predicted, num_classes=3)
    # Void (19) is left out; rows are the true class.
    np.testing.assert_array_equal(confusion, [[1, 1, 0], [0, 3, 0], [1, 0, 1]])
    # IoU: class 0: 1 / (2 + 2 - 1) = 1/3; class 1: 3 / (3 + 4 - 3) = 3/4; class 2: 1 / 2.
    np.testing.assert_allclose(segmentation.iou_per_class(confusion), [1 / 3, 3 / 4, 1 / 2])
    assert segmentation.mean_iou(confusion) == pytest.approx((1 / 3 + 3 / 4 + 1 / 2) / 3)
    assert segmentation.pixel_accuracy(confusion) == pytest.approx(5 / 7)


def test_classes_absent_from_the_truth_do_not_count_but_their_false_positives_do():
    truth = np.zeros((4, 4), np.int64)
    predicted = truth.copy()
    predicted[0, 0] = 7  # an absent class predicted once
    confusion = segmentation.confusion_matrix(truth, predicted)
    iou = segmentation.iou_per_class(confusion)
    assert np.isnan(iou[7]) and iou[0] == pytest.approx(15 / 16)
    assert segmentation.mean_iou(confusion) == pytest.approx(15 / 16)


def test_perfect_and_random_predictions():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 19, (8, 32, 32))
    assert segmentation.mean_iou(segmentation.confusion_matrix(truth, truth)) == 1.0
    random = rng.integers(0, 19, truth.shape)
    # Uniform guessing over 19 classes: IoU about 1 / (2 * 19 - 1).
    assert segmentation.mean_iou(segmentation.confusion_matrix(truth, random)) == \
        pytest.approx(1 / 37, rel=0.15)


def test_only_void_gives_nan_and_shapes_must_agree():
    void = np.full((3, 3), 19)
    assert np.isnan(segmentation.mean_iou(segmentation.confusion_matrix(void, void)))
    with pytest.raises(ValueError, match="different shapes"):
        segmentation.confusion_matrix(np.zeros((2, 2)), np.zeros((2, 3)))
