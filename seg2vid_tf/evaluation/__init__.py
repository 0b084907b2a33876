"""Evaluation beyond the frame metrics: the label-map stages (FCN-score, videos from label maps)."""
