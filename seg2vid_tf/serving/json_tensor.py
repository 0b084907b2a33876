"""TF Serving's JSON <-> tensor rules (`tensorflow_serving/util/json_tensor.cc`), ported.

What a predict request may hold, how its values convert to the signature's
dtypes and how outputs are written back follow TF Serving's code case for case,
with its error messages (clients match on them):

* Parsing: `JSON Parse error: ...` in rapidjson's words; `NaN`, `Infinity`,
  `-Infinity` are numbers; the document is an object; keys other than
  `signature_name`, `instances` and `inputs` are ignored.
* Numbers keep their JSON kind (`1` integer, `1.0` decimal): integer tensors
  take integers within range; float32 takes integers up to 2^24-1 and decimals
  within +-FLT_MAX, float64 integers up to 2^53-1 (`... without loss of
  precision`); bool takes `true`/`false`; strings take strings or `{"b64": ...}`.
* Shapes come from each list's first element; every other list must match.
* Row format (`instances`): all plain values or all objects (exactly one key
  per input), rows of one shape. Columnar (`inputs`): a bare tensor for a
  one-input signature, else an object naming every input (others ignored).
* Outputs: floats as absl's six-digit `%g` when that reads back to the same
  value, else `%.9g` (float32) / `%.17g` (float64), `.0` added to whole numbers;
  integers as integers; `_bytes` strings as `{"b64": ...}`.

Deliberate differences are marked where they are (`docs/serving.md` lists them).

The codec is one module per role, whose public names this module re-exports:
`json_errors` (`RequestError`, TF Serving's number text), `json_parsing`
(bodies to documents), `json_decoding` (requests to arrays) and
`json_encoding` (outputs to response text).
"""

from seg2vid_tf.serving.json_decoding import decode_b64, decode_request, is_b64_object
from seg2vid_tf.serving.json_decoding import tensor_values, to_array
from seg2vid_tf.serving.json_encoding import BYTES_SUFFIX, make_json
from seg2vid_tf.serving.json_errors import (
    HTTP_STATUS,
    RequestError,
    format_decimal,
    format_decimals,
    invalid,
    json_value_text,
    type_name,
)
from seg2vid_tf.serving.json_parsing import (
    DEFAULT_SIGNATURE,
    MAX_JSON_DEPTH,
    json_depth,
    parse_json,
    signature_of,
)

__all__ = [
    "BYTES_SUFFIX",
    "DEFAULT_SIGNATURE",
    "HTTP_STATUS",
    "MAX_JSON_DEPTH",
    "RequestError",
    "decode_b64",
    "decode_request",
    "format_decimal",
    "format_decimals",
    "invalid",
    "is_b64_object",
    "json_depth",
    "json_value_text",
    "make_json",
    "parse_json",
    "signature_of",
    "tensor_values",
    "to_array",
    "type_name",
]
