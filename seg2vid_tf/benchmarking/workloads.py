"""The measured workloads, each run in the process that measures it (`run_workload`).

Inference four ways (eager Keras, `tf.function`, XLA, the exported SavedModel),
a training step through the trainer users run (on a cached batch, and on the
real input pipeline alternately with cached steps), and mixed_bfloat16
inference with its PSNR against float32. TensorFlow and the models are
imported inside the functions, so that importing this module stays cheap.
"""

import os

import numpy as np

from seg2vid_tf.benchmarking.flops import graph_gflop
from seg2vid_tf.benchmarking.machine import cpu_has_native_bfloat16
from seg2vid_tf.benchmarking.settings import INFERENCE_PATHS, WORKLOADS
from seg2vid_tf.benchmarking.timing import median_seconds, paired_median_seconds, peak_rss_mb


def frames_psnr(reference, other):
    """PSNR in dB of `other` against `reference`, frames in [0, 1] (inf when identical)."""
    mse = float(np.mean((np.asarray(reference, np.float64) - np.asarray(other, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(1.0 / mse))


def _model_config(settings):
    from seg2vid_tf.models.config import Img2VidConfig  # pylint: disable=import-outside-toplevel

    return Img2VidConfig(height=settings.height, width=settings.width,
                         width_multiplier=settings.width_multiplier,
                         num_predicted_frames=settings.num_predicted_frames)


def _inference_inputs(config, batch, seed=0):
    """Deterministic inputs of one inference call: a start frame, a label map, z, noise."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from seg2vid_tf.models import config as config_lib  # pylint: disable=import-outside-toplevel

    return {
        "video": tf.random.stateless_uniform([batch, 1, config.height, config.width, 3],
                                             seed=[seed, 1]),
        "label_map": tf.random.stateless_uniform([batch, config.height, config.width],
                                                 seed=[seed, 2], maxval=config_lib.NUM_CLASSES,
                                                 dtype=tf.int32),
        "z": tf.random.stateless_normal([batch, config.latent_rows, config_lib.LATENT_ROW],
                                        seed=[seed, 3]),
        "noise": tf.random.stateless_normal([batch, config.height, config.width, 3],
                                            seed=[seed, 4]),
    }


def _input_signature(inputs):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return [{key: tf.TensorSpec(value.shape, value.dtype, name=key)
             for key, value in inputs.items()}]


def _build_model(config, seed=0):
    from seg2vid_tf.models.img2vid import Img2Vid  # pylint: disable=import-outside-toplevel

    return Img2Vid(config, seed=seed).build_for_size()


def _inference_workload(path, batch, settings, workdir):
    """(callable, GFLOP per call) of one inference path."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    config = _model_config(settings)
    model = _build_model(config)
    inputs = _inference_inputs(config, batch)

    def forward(values):
        return model(values, training=False)["frames"]

    counted = tf.function(forward, input_signature=_input_signature(inputs))
    gflop = graph_gflop(counted.get_concrete_function())
    if path == "eager":
        return (lambda: forward(inputs).numpy()), gflop
    if path in ("function", "xla"):
        compiled = tf.function(forward, input_signature=_input_signature(inputs),
                               jit_compile=path == "xla")
        return (lambda: compiled(inputs).numpy()), gflop
    if path == "savedmodel":
        from seg2vid_tf.models.seg2vid import Seg2Vid  # pylint: disable=import-outside-toplevel
        from seg2vid_tf.serving import export  # pylint: disable=import-outside-toplevel

        version = export.export_saved_model(Seg2Vid(model), os.path.join(workdir, "export"),
                                            config.num_predicted_frames)
        loaded = tf.saved_model.load(version)
        signature = loaded.signatures["img2vid"]
        frame = tf.cast(inputs["video"][:, 0] * 255.0, tf.uint8)
        seeds = tf.range(batch, dtype=tf.int64)

        def call():
            return signature(first_frame=frame, label_map=inputs["label_map"],
                             seed=seeds)["frames"].numpy()
        return call, gflop
    raise ValueError(f"Unknown inference path {path!r}; known: {sorted(INFERENCE_PATHS)}.")


def _write_vgg19(path):
    """A VGG19 with random weights (the FLOPs of the real one; nothing downloaded)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from seg2vid_tf.conversion import vgg  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models.vgg19 import VGG19Features  # pylint: disable=import-outside-toplevel

    network = VGG19Features()
    network(tf.zeros([1, 32, 32, 3]))
    return vgg.save_vgg19(network, path)


def _train_workload(settings, workdir):
    """One training step through `trainer.Trainer`, on real and on cached data.

    Returns:
        (step on the real input pipeline, step on one cached batch, GFLOP per
        step): two callables stepping the same trainer, the first reading clips
        from disk through `trainer.train_dataset`, the second repeating one batch
        of it from memory.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from seg2vid_tf import losses  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.data import synthetic  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import trainer as trainer_lib  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training.config import TrainConfig  # pylint: disable=import-outside-toplevel

    data_dir = os.path.join(workdir, "data")
    synthetic.generate_dataset(data_dir, 3, settings.num_predicted_frames + 2, settings.height,
                               settings.width, seed=0, val_fraction=0.34, num_workers=1)
    config = TrainConfig(
        model=_model_config(settings), dataset="synthetic", data_dir=data_dir,
        batch_size=settings.train_batch, train_steps=10 ** 6,
        loss_weights=tuple(sorted(losses.DEFAULT_WEIGHTS.items())),
        vgg19_weights=_write_vgg19(os.path.join(workdir, "vgg19.npz")))
    trainer = trainer_lib.Trainer(config, os.path.join(workdir, "model"))
    real_iterator = trainer.iterator
    cached = trainer_lib.train_dataset(config).take(1).cache().repeat()
    cached_iterator = iter(trainer.strategy.experimental_distribute_dataset(cached))

    def step_on(iterator):
        trainer.iterator = iterator
        terms, finite = trainer.train_step()
        if not finite:
            raise RuntimeError(f"The benchmark's training step was not finite: {terms}")

    batch = next(iter(trainer_lib.train_dataset(config)))

    def objective_and_gradients(values):
        with tf.GradientTape() as tape:
            objective, _, _ = trainer._replica_objective(values)  # pylint: disable=protected-access
        return tape.gradient(objective, trainer.model.trainable_variables)

    signature = [{key: tf.TensorSpec(value.shape, value.dtype) for key, value in batch.items()}]
    counted = tf.function(objective_and_gradients, input_signature=signature)
    # The optimizer's update (a few FLOPs per weight) is left out of the count.
    return (lambda: step_on(real_iterator), lambda: step_on(cached_iterator),
            graph_gflop(counted.get_concrete_function()))


def _bf16_workload(settings, batch):
    """(callable, GFLOP, extra fields) of mixed_bfloat16 inference, with its PSNR."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from seg2vid_tf.models import precision  # pylint: disable=import-outside-toplevel

    config = _model_config(settings)
    reference = _build_model(config)
    inputs = _inference_inputs(config, batch)
    frames_fp32 = reference(inputs, training=False)["frames"].numpy()
    with precision.policy_scope("mixed_bfloat16"):
        model = _build_model(config)
    for target, source in zip(model.weights, reference.weights):
        target.assign(source)

    def forward(values):
        return tf.cast(model(values, training=False)["frames"], tf.float32)

    compiled = tf.function(forward, input_signature=_input_signature(inputs))
    frames_bf16 = compiled(inputs).numpy()
    extra = {
        "psnr_db_vs_fp32": frames_psnr(np.clip(frames_fp32, 0, 1), np.clip(frames_bf16, 0, 1)),
        "native_bfloat16": cpu_has_native_bfloat16(),
    }
    return (lambda: compiled(inputs).numpy()), graph_gflop(compiled.get_concrete_function()), extra


def run_workload(name, settings, workdir):
    """Measures one workload in this process; returns its result entry (no fraction yet)."""
    extra = {}
    measured = None
    if name.startswith("inference_fp32_"):
        path, kind = name[len("inference_fp32_"):].rsplit("_", 1)
        batch = settings.latency_batch if kind == "latency" else settings.throughput_batch
        function, gflop = _inference_workload(path, batch, settings, workdir)
        how = f"{INFERENCE_PATHS[path]}; batch {batch} ({kind})"
    elif name in ("train_step_fp32", "train_step_fp32_input_pipeline"):
        real = name.endswith("input_pipeline")
        batch = settings.train_batch
        real_step, cached_step, gflop = _train_workload(settings, workdir)
        how = (f"Trainer.train_step, batch {batch}, all nine losses (VGG19 perceptual, random "
               "weights), Adam; " + ("the tf.data pipeline decoding PNG clips from disk, "
                                     "alternating with steps on a cached batch"
                                     if real else "one cached batch"))
        if real:
            median, cached_median, times, cached_times = paired_median_seconds(
                real_step, cached_step, settings.repeats, settings.warmup)
            measured = median, times
            # Each real-data step against the cached step right after it: the machine's
            # slow phases (minutes long on a shared host) cancel in each pair.
            ratios = [real_time / cached_time for real_time, cached_time in zip(times, cached_times)]
            extra = {"cached_median_s": cached_median, "cached_times_s": cached_times,
                     "overhead_vs_cached": float(np.median(ratios)) - 1.0}
        else:
            function = cached_step
    elif name == "inference_bf16":
        batch = settings.throughput_batch
        function, gflop, extra = _bf16_workload(settings, batch)
        how = (f"tf.function under keras mixed_bfloat16 (bfloat16 compute, float32 weights), "
               f"batch {batch}; "
               + ("native bfloat16 on this CPU" if extra["native_bfloat16"] else
                  "this CPU has no native bfloat16 (no AVX512_BF16/AMX): oneDNN emulates it"))
    else:
        raise ValueError(f"Unknown workload {name!r}; known: {', '.join(WORKLOADS)}.")
    median, times = measured or median_seconds(function, settings.repeats, settings.warmup)
    return dict({
        "gflop": gflop,
        "gflop_per_clip": gflop / batch,
        "batch": batch,
        "median_s": median,
        "times_s": times,
        "clips_per_second": batch / median,
        "peak_rss_mb": peak_rss_mb(),
        "how": how,
    }, **extra)
