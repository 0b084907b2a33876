"""The demo's animations: videos from label maps, several futures of one map, a long video."""

import numpy as np

from seg2vid_tf import labels, visualization


NUM_FUTURES = 4  # prior samples of one label map shown side by side (futures.gif)
LONG_FRAMES = 24  # the long video (long_video.gif) of one held-out label map


def label_map_video_frames(videos):
    """Animation frames of `evaluate_videos_from_label_maps(..., keep=n)["_videos"]`.

    One row per video: label map colours | generated | ground truth | forward flow
    (colour wheel, one scale for all; white on frame 0, which has no flow).

    Returns:
        uint8 `[T + 1, n * H, 4 * W, 3]`.
    """
    generated, real, maps, flow = (videos[key] for key in ("generated", "real", "label_maps",
                                                           "flow"))
    largest = visualization.robust_flow_scale(flow)
    white = np.full(real.shape[2:4] + (3,), 255, np.uint8)
    animation = []
    for t in range(generated.shape[1]):
        rows = []
        for index in range(generated.shape[0]):
            flow_panel = (white if t == 0 else
                          visualization.flow_to_color(flow[index, t - 1], largest))
            rows.append(np.concatenate([
                labels.colorize(maps[index, 0]), visualization.to_uint8(generated[index, t]),
                visualization.to_uint8(real[index, t]), flow_panel], axis=1))
        animation.append(np.concatenate(rows, axis=0))
    return np.stack(animation)


def futures_frames(pipeline, videos, num_futures=NUM_FUTURES):
    """Animation frames of one held-out label map's futures, one per prior sample.

    Args:
        pipeline: The `Seg2Vid` pipeline.
        videos: `evaluate_videos_from_label_maps(..., keep=n)["_videos"]`; its first label map
            and true video are used.
        num_futures: Prior samples, with seeds 0 .. num_futures - 1.

    Returns:
        uint8 `[T + 1, H, (num_futures + 2) * W, 3]`: label map colours | ground truth | one
        generated video per seed.
    """
    label_map, real = videos["label_maps"][0, 0], videos["real"][0]
    futures = pipeline.generate(real.shape[0] - 1, list(range(num_futures)),
                                label_map=np.repeat(label_map[None], num_futures, axis=0))["video"]
    colours = labels.colorize(label_map)
    return np.stack([
        np.concatenate([colours, visualization.to_uint8(real[t])]
                       + [visualization.to_uint8(future[t]) for future in futures], axis=1)
        for t in range(real.shape[0])])


def long_video_frames(pipeline, videos, num_frames=LONG_FRAMES):
    """Animation frames of one held-out label map's long video (from the map, seed 0).

    Returns:
        uint8 `[num_frames + 1, H, 3 * W, 3]`: label map colours | generated video | the label
        map carried along.
    """
    label_map = videos["label_maps"][:1, 0]
    result = pipeline.generate(num_frames, 0, label_map=label_map)
    colours = labels.colorize(label_map[0])
    return np.stack([
        np.concatenate([colours, visualization.to_uint8(result["video"][0, t]),
                        labels.colorize(result["label_maps"][0, t])], axis=1)
        for t in range(num_frames + 1)])
