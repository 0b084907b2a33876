"""Fixtures of the TF Serving rules tests."""

import pytest

from seg2vid_tf.testing.tf_serving_rules import serving


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """`(rest_url, grpc_channel)` of a local server of two versions."""
    with serving(tmp_path_factory.mktemp("half_plus_two")) as urls:
        yield urls
