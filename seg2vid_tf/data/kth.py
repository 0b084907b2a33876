"""KTH human actions: grayscale videos of people, no label maps.

Official KTH ships one ``.avi`` per (person, action, scenario), e.g.
``walking/person01_walking_d1_uncomp.avi``. Accepted layouts::

    ROOT/<action>/<video_name>/<frame images>      (pre-extracted, preferred)
    ROOT/<action>/<video_name>.avi                 (decoded with imageio)

e.g. ``ROOT/walking/person01_walking_d1/image-0001.png``. Frames are PNG or
JPEG files sorted by name (natural order, so ``img2`` < ``img10``). The
actions are boxing, handclapping, handwaving, jogging, running and walking,
but any subfolder names are accepted. ``.avi`` files need an imageio video
backend (imageio-ffmpeg or PyAV); their frames are extracted once into
``video_cache_dir`` as PNGs. Without a backend a clear error asks to extract
the frames or install imageio-ffmpeg.

Split (the video-prediction standard): persons 1-16 train, persons 17-25
test (``split="train"`` / ``"test"``), the person id parsed from the
``personNN_`` prefix; videos whose name has no such prefix all go to train.
A ``split_file`` (one video name per line, with or without ``_uncomp`` and
``.avi``) overrides the rule: the split is then exactly the listed videos.

Elements of :func:`make_dataset` (batched, channels-last)::

    video:    float32 [B, T, H, W, 1] in [0, 1]
    clip_id:  string  [B], "<video_name>/<start frame stem>"
"""

import re

from seg2vid_tf.data import datasets, videos
from seg2vid_tf.data.clips import Clip

__all__ = [
    "ACTIONS", "Clip", "TEST_PERSONS", "TRAIN_PERSONS", "find_clips", "make_dataset", "split_of",
]

ACTIONS = ("boxing", "handclapping", "handwaving", "jogging", "running", "walking")
TRAIN_PERSONS = tuple(range(1, 17))
TEST_PERSONS = tuple(range(17, 26))
SPLITS = ("train", "test")

_PERSON_RE = re.compile(r"^person(\d+)_", re.IGNORECASE)


def split_of(video_name):
    """"train" or "test" for a video name by the person-id rule."""
    return videos.numbered_split(video_name, _PERSON_RE, TEST_PERSONS)


def _base_name(name):
    """Video name without KTH's ``_uncomp`` file suffix."""
    return name[: -len("_uncomp")] if name.endswith("_uncomp") else name


RULES = videos.VideoSplitRules(
    description="KTH", grayscale=True, split_of=split_of, splits=SPLITS,
    split_help="persons 1-16 / 17-25",
    split_rule="persons 1-16 train, 17-25 test (personNN_ prefix)", name_key=_base_name)


def make_dataset(clips, *, height, width, batch_size, **options):
    """The batched KTH dataset (grayscale) of :func:`find_clips`' clips: the arguments of
    :func:`seg2vid_tf.data.datasets.make_frames_dataset` with ``channels=1``; elements as in
    the module docstring."""
    return datasets.make_frames_dataset(clips, channels=1, height=height, width=width,
                                        batch_size=batch_size, description="KTH clip", **options)


def find_clips(data_dir, split, num_frames=5, frame_stride=1, *, actions=None, **options):
    """Every clip of a KTH split: :func:`seg2vid_tf.data.videos.find_video_clips`
    with the KTH rules.

    ``split`` is "train" (persons 1-16) or "test" (persons 17-25); ``actions``
    optionally keeps some action folders (all by default); a ``split_file`` in
    ``options`` lists the videos with or without ``_uncomp`` and ``.avi``. The
    other arguments, the result (clips sorted by action, video and start frame)
    and the errors are those of ``find_video_clips``.
    """
    return videos.find_video_clips(data_dir, split, num_frames, frame_stride, rules=RULES,
                                   categories=actions, **options)
