"""The JSON nesting measured before decoding: strings and escapes skipped, across chunks."""

import pytest

from seg2vid_tf.serving.json_parsing import json_depth


@pytest.mark.parametrize("text, depth", [
    (b"1", 0), (b"[]", 1), (b'{"a": [[1]]}', 3), (b'"[[[["', 0),
    (b'["\\\\", ["\\"["]]', 2),  # an escaped backslash, then a quote escaped inside a string
    (b'{"a": "}}}", "b": [{"c": "[\\\\"}]}', 3), (b"[" * 100 + b"]" * 100, 100),
])
def test_json_depth_skips_strings_and_escapes(text, depth):
    assert json_depth(text) == depth
    assert json_depth(text, chunk_bytes=3) == depth  # across chunk borders
