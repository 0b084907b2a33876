"""Video generation metrics: PSNR/SSIM per frame, flow EPE, FID and FVD.

* `frechet`: robust Fréchet distance between Gaussians (NumPy, float64).
* `frames`: per-frame PSNR/SSIM (``[B, T, H, W, C]`` -> ``[B, T]``),
  `finite_mean` for infinite PSNR values, flow end-point error.
* `fvd`: Fréchet Video Distance with a local I3D TF Hub module.
* `fid`: Fréchet Inception Distance of frames with a local InceptionV3 file.
* `standins`: tiny networks with the I3D/InceptionV3 interfaces for tests.

The networks are never downloaded; they are loaded from local paths given by
the ``--i3d_module`` and ``--inception_weights`` flags.
"""

from seg2vid_tf.metrics.fid import (
    FID_PROTOCOL,
    fid,
    inception_features,
    load_inception,
)
from seg2vid_tf.metrics.frames import (
    finite_mean,
    flow_endpoint_error,
    flow_endpoint_error_map,
    psnr_per_frame,
    ssim_per_frame,
)
from seg2vid_tf.metrics.frechet import (
    feature_statistics,
    frechet_distance,
    frechet_distance_from_features,
)
from seg2vid_tf.metrics.fvd import (
    FVD_PROTOCOL,
    I3DModel,
    fvd,
    i3d_features,
    load_i3d,
)
from seg2vid_tf.metrics.standins import save_standin_i3d, save_standin_inception

__all__ = [
    "FID_PROTOCOL",
    "FVD_PROTOCOL",
    "I3DModel",
    "feature_statistics",
    "fid",
    "finite_mean",
    "flow_endpoint_error",
    "flow_endpoint_error_map",
    "frechet_distance",
    "frechet_distance_from_features",
    "fvd",
    "i3d_features",
    "inception_features",
    "load_i3d",
    "load_inception",
    "psnr_per_frame",
    "save_standin_i3d",
    "save_standin_inception",
    "ssim_per_frame",
]
