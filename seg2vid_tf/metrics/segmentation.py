"""Segmentation scores: confusion matrices and mean intersection over union.

The FCN-score protocol used here (pix2pix / pix2pixHD's, on train ids):
pixels whose true label is void (train id 19) are left out; per class,
IoU = TP / (TP + FP + FN) summed over every image of the set; the mean is
over the classes that occur in the ground truth of the set, so a class that
never appears neither helps nor hurts (a prediction of an absent class still
costs the present classes their pixels).
"""

import numpy as np

from seg2vid_tf.models import config as model_config

NUM_SCORED_CLASSES = model_config.NUM_CLASSES - 1  # void (19) is not scored


def confusion_matrix(truth, predicted, num_classes=NUM_SCORED_CLASSES):
    """Counts `[true class, predicted class]` over non-void pixels.

    Args:
        truth: Integer array of train ids; ids >= `num_classes` (void) are ignored.
        predicted: Integer array of the same shape.
        num_classes: Scored classes.

    Returns:
        int64 `[num_classes, num_classes]`.

    Raises:
        ValueError: Shapes differ.
    """
    truth = np.asarray(truth)
    predicted = np.asarray(predicted)
    if truth.shape != predicted.shape:
        raise ValueError(f"Label maps of different shapes: truth {truth.shape}, "
                         f"prediction {predicted.shape}.")
    keep = (truth >= 0) & (truth < num_classes)
    predicted = np.clip(predicted[keep].astype(np.int64), 0, num_classes - 1)
    index = truth[keep].astype(np.int64) * num_classes + predicted
    return np.bincount(index, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def iou_per_class(confusion):
    """IoU of each class (NaN where the class is absent from the ground truth)."""
    confusion = np.asarray(confusion, np.float64)
    true_positive = np.diag(confusion)
    present = confusion.sum(axis=1)
    union = present + confusion.sum(axis=0) - true_positive
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = true_positive / union
    return np.where(present > 0, iou, np.nan)


def mean_iou(confusion):
    """The mean IoU over the classes present in the ground truth (NaN if none is)."""
    iou = iou_per_class(confusion)
    if np.all(np.isnan(iou)):
        return float("nan")
    return float(np.nanmean(iou))


def pixel_accuracy(confusion):
    """Fraction of non-void pixels predicted right."""
    confusion = np.asarray(confusion, np.float64)
    total = confusion.sum()
    return float(np.trace(confusion) / total) if total else float("nan")
