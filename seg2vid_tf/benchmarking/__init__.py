"""How fast img2vid runs against the measured matmul peak (behind `seg2vid_tf.benchmark`)."""
