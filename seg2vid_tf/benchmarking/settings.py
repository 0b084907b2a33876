"""What one benchmark run measures: sizes, repetitions and the workload names."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes and repetitions of one benchmark run."""

    height: int = 128
    width: int = 256
    width_multiplier: float = 1.0
    num_predicted_frames: int = 4
    latency_batch: int = 1
    throughput_batch: int = 8
    train_batch: int = 2
    repeats: int = 5
    warmup: int = 2
    matmul_size: int = 2048

    def to_dict(self):
        return dataclasses.asdict(self)


PAPER = Settings()
# The demo's size; throughput at batch 8, as the demo export is served.
QUICK = Settings(height=128, width=128, width_multiplier=0.25, repeats=3, warmup=1)

INFERENCE_PATHS = {
    "eager": "eager Keras: model(inputs, training=False) op by op",
    "function": "tf.function over model(inputs, training=False), one traced graph (Grappler, oneDNN)",
    "xla": "tf.function(jit_compile=True): the graph compiled by XLA",
    "savedmodel": "the exported SavedModel's img2vid signature (tf.saved_model.load), uint8 in "
                  "and out, prior latent from the seed",
}
WORKLOADS = tuple(f"inference_fp32_{path}_{kind}" for path in INFERENCE_PATHS
                  for kind in ("latency", "throughput")) + (
    "train_step_fp32", "train_step_fp32_input_pipeline", "inference_bf16")
