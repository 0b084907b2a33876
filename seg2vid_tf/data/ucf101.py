"""UCF101 action videos: RGB, no label maps.

Official UCF101 ships ``ROOT/<ClassName>/v_<ClassName>_gXX_cYY.avi`` (group
XX = 01..25, clip YY). Accepted layouts::

    ROOT/<ClassName>/<video_name>/<frame images>   (pre-extracted, preferred)
    ROOT/<ClassName>/v_<ClassName>_gXX_cYY.avi     (decoded with imageio)

Frames are PNG or JPEG files sorted by name (natural order). ``.avi`` files
need an imageio video backend (imageio-ffmpeg or PyAV); their frames are
extracted once into ``video_cache_dir``. Without a backend a clear error asks
to extract the frames or install imageio-ffmpeg.

Split: the official ``trainlist01.txt`` / ``testlist01.txt`` when given as
``split_file`` (lines like ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``),
else the official split-1 rule by group: groups 1-7 test, 8-25 train
(``split="train"`` / ``"test"``); names without ``_gXX_`` go to train.
``classes=`` keeps some classes only (the authors trained one model per
category).

Elements of :func:`make_dataset` (batched, channels-last)::

    video:    float32 [B, T, H, W, 3] in [0, 1]
    clip_id:  string  [B], "<video_name>/<start frame stem>"
"""

import re

from seg2vid_tf.data import datasets, videos
from seg2vid_tf.data.clips import Clip

__all__ = ["Clip", "TEST_GROUPS", "find_clips", "make_dataset", "split_of"]

TEST_GROUPS = tuple(range(1, 8))
SPLITS = ("train", "test")

_GROUP_RE = re.compile(r"_g(\d+)_c(\d+)$", re.IGNORECASE)


def split_of(video_name):
    """"train" or "test" for a video name by the split-1 group rule."""
    return videos.numbered_split(video_name, _GROUP_RE, TEST_GROUPS)


RULES = videos.VideoSplitRules(
    description="UCF101", grayscale=False, split_of=split_of, splits=SPLITS,
    split_help="groups 8-25 / 1-7",
    split_rule="groups 1-7 test, 8-25 train (_gXX_ in the name)")


def find_clips(data_dir, split, num_frames=5, frame_stride=1, *, classes=None, **options):
    """Every clip of a UCF101 split: :func:`seg2vid_tf.data.videos.find_video_clips`
    with the UCF101 rules.

    ``split`` is "train" (groups 8-25) or "test" (groups 1-7); ``classes``
    optionally keeps some class folders (a name or a list); a ``split_file`` in
    ``options`` is an official list such as ``trainlist01.txt``. The other
    arguments, the result (clips sorted by class, video and start frame) and the
    errors are those of ``find_video_clips``.
    """
    if isinstance(classes, str):
        classes = [classes]
    return videos.find_video_clips(data_dir, split, num_frames, frame_stride, rules=RULES,
                                   categories=classes, **options)


def make_dataset(clips, *, height, width, batch_size, **options):
    """The batched UCF101 dataset (RGB) of :func:`find_clips`' clips: the arguments of
    :func:`seg2vid_tf.data.datasets.make_frames_dataset` with ``channels=3``; elements as in
    the module docstring."""
    return datasets.make_frames_dataset(clips, channels=3, height=height, width=width,
                                        batch_size=batch_size, description="UCF101 clip", **options)
