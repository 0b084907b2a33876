"""Generating videos from label maps, first frames or photos (`seg2vid_tf.generate`)."""
