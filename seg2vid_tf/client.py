"""Ask a TensorFlow Serving model server for a video.

    python -m seg2vid_tf.client --server=http://localhost:8501 --model=seg2vid \
        --label_map=map.png --seed=1 --output=video.gif
    python -m seg2vid_tf.client --grpc=localhost:8500 --model=seg2vid \
        --label_map=map.png --seed=1 --output=video.gif
    python -m seg2vid_tf.client --server=... --first_frame=frame.png \
        [--label_map=map.png] --output=video.gif     # the img2vid signature

With only a label map it calls the `seg2vid_png` signature (the label map goes
as a PNG, the frames come back as PNGs: small requests and answers); with
`--first_frame` it calls `img2vid`. Over REST it speaks TF Serving's JSON API
(standard library only); over gRPC it uses `tensorflow-serving-api`'s
`PredictionService`. The label map is a train-id PNG as for
`seg2vid_tf.generate` (`--label_ids=cityscapes` for label-id maps); it must have
the exported model's size, which the server checks.

Writes the frames as a GIF (or, for an `--output` without `.gif`, as
`frame_000.png`... in that directory). Unreachable servers, missing models and
signatures (TF Serving's 404 / NOT_FOUND, and 400 / FAILED_PRECONDITION for a
signature) and the server's own error messages are reported in words, with exit
status 1.

    python -m seg2vid_tf.client --grpc=localhost:8500 --info=metadata

prints the model's status or SignatureDefs. The requests are
`seg2vid_tf.serving.model_client`'s (`request_video`, `model_status`,
`model_metadata`, `predict_rest`, `predict_grpc`).
"""

import json
import os
import sys

import numpy as np
from absl import app, flags
from PIL import Image

from seg2vid_tf import cli
from seg2vid_tf.command_flags import define_flag
from seg2vid_tf.serving.model_client import (  # noqa: F401 (the library's names, re-exported)
    ClientError, build_inputs, model_metadata, model_status, predict_grpc, predict_rest,
    request_video, write_frames)


def define_flags():
    """Defines the command's flags (idempotent: `command_flags.define_flag`)."""
    define_flag("string", "server", None, "REST base URL of the model server, e.g. http://localhost:8501.")
    define_flag("string", "grpc", None, "gRPC address host:port of the model server, e.g. localhost:8500.")
    define_flag("string", "model", "seg2vid", "Model name on the server.")
    define_flag("integer", "model_version", None, "Model version; the server's latest when not given.")
    define_flag("string", "label_map", None, "Label map PNG (train ids, or Cityscapes ids with "
                                             "--label_ids=cityscapes).")
    define_flag("enum", "label_ids", "train", ["train", "cityscapes"], "Which ids the label PNG holds.")
    define_flag("string", "first_frame", None, "First frame image; calls the img2vid signature.")
    define_flag("integer", "seed", 0, "Seed of the latent and the fill noise (same seed, same video).")
    define_flag("string", "output", "video.gif", "Output GIF, or a directory for PNG frames.")
    define_flag("float", "timeout", 120.0, "Seconds to wait for the server.")
    define_flag("float", "fps", 8.0, "GIF frame rate.")
    define_flag("enum", "info", None, ["status", "metadata"], "Print the model's version status "
                "or its SignatureDefs (REST's JSON, over either transport) and exit.")


def main(argv):
    cli.check_usage(argv)
    values = flags.FLAGS
    if bool(values.server) == bool(values.grpc):
        raise app.UsageError("Give exactly one of --server=http://HOST:8501 (REST) and "
                             "--grpc=HOST:8500.")
    if values.info:
        ask = model_status if values.info == "status" else model_metadata
        try:
            print(json.dumps(ask(values.model, values.server, values.grpc, values.model_version,
                                 values.timeout), indent=1))
        except ClientError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    if not values.label_map and not values.first_frame:
        raise app.UsageError("Give --label_map (and/or --first_frame), or --info.")
    from seg2vid_tf.generation import inputs as reading  # pylint: disable=import-outside-toplevel
    label_map = first_frame = None
    try:
        if values.label_map:
            label_map, _ = reading.read_label_map(values.label_map, values.label_ids)
        if values.first_frame:
            reading.check_file(values.first_frame, "first_frame")
            try:
                with Image.open(values.first_frame) as image:
                    first_frame = np.asarray(image.convert("RGB"), np.uint8)
            except (OSError, SyntaxError) as error:
                raise ValueError(f"{values.first_frame} (--first_frame) is not a readable image: "
                                 f"{error}") from None
        frames = request_video(label_map, first_frame, values.seed, values.server, values.grpc,
                               values.model, values.model_version, values.timeout)
    except ClientError as error:  # The other errors are the boundary's (seg2vid_tf.cli).
        print(f"error: {error}", file=sys.stderr)
        return 1
    paths = write_frames(frames, values.output, values.fps)
    print(f"Wrote {len(frames)} frames ({frames.shape[1]}x{frames.shape[2]}) to "
          f"{values.output if len(paths) == 1 else os.path.dirname(paths[0])}")
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
