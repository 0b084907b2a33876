"""The bytes that identify the image files the project reads (no TensorFlow needed).

Defined once here for the dataset readers, the label-map reader of `seg2vid_tf.generation.inputs`,
the serving signatures and the test helpers that write or break files.
"""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # The first 8 bytes of every PNG file.
PNG_IEND = b"IEND\xaeB`\x82"  # The last 8 bytes of a complete PNG: IEND and its CRC.
JPEG_SOI = b"\xff\xd8\xff"  # The start of every JPEG file.
