"""The rule that drew the stand-in weights of the reference parity fixtures.

The PyTorch originals were run with weights drawn, entry by entry in manifest
order, from one `np.random.default_rng(seed)`:

* `*.num_batches_tracked`: zeros (int64), draws nothing;
* `*.running_mean`: normal(0, 0.1); `*.running_var`: uniform(0.5, 1.5);
* 1-D `*.weight` (norm gamma): uniform(0.8, 1.2); 1-D `*.bias`: normal(0, 0.05);
* anything else: normal(0, sqrt(2 / prod(shape[1:]))).

Rebuilding them from a manifest gives the exact state_dict the fixtures were
computed with, without PyTorch.
"""

import json
import math
import os

import numpy as np


def reference_weights(manifest, seed):
    """Draws the state_dict described by `manifest` (list of `[name, shape]`).

    Returns:
        dict from name to array in PyTorch layout (float32; int64 counters).
    """
    generator = np.random.default_rng(seed)
    state_dict = {}
    for name, shape in manifest:
        shape = tuple(shape)
        if name.endswith("num_batches_tracked"):
            state_dict[name] = np.zeros(shape, np.int64)
            continue
        if name.endswith("running_mean"):
            values = generator.normal(0.0, 0.1, shape)
        elif name.endswith("running_var"):
            values = generator.uniform(0.5, 1.5, shape)
        elif len(shape) == 1 and name.endswith("weight"):
            values = generator.uniform(0.8, 1.2, shape)
        elif len(shape) == 1 and name.endswith("bias"):
            values = generator.normal(0.0, 0.05, shape)
        else:
            values = generator.normal(0.0, math.sqrt(2.0 / float(np.prod(shape[1:]))), shape)
        state_dict[name] = values.astype(np.float32)
    return state_dict


def load_manifest(path):
    """The `[name, shape]` list of a fixture manifest JSON file."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["state_dict"]


# The manifest of the two-path img2vid fixture (`tests/data/img2vid_manifest.json`).
IMG2VID_MANIFEST = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "tests", "data", "img2vid_manifest.json")
# The seed the converter tests draw the img2vid stand-in weights with.
IMG2VID_TEST_SEED = 7


def img2vid_test_weights():
    """The two-path img2vid state_dict of the converter tests (`IMG2VID_MANIFEST`, seed 7)."""
    return reference_weights(load_manifest(IMG2VID_MANIFEST), IMG2VID_TEST_SEED)
