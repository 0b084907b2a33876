"""The original PyTorch checkpoints in the Keras networks (behind `seg2vid_tf.convert`),
and every network as a checkpoint directory (`checkpoints`)."""
