"""TF Serving's tensor -> JSON rules, row by row, against the codec (`json_encoding`).

Every row names the tensorflow/serving source or test it mirrors; expected texts are TF
Serving's, never this code's output.
"""

import re

import numpy as np
import pytest

from seg2vid_tf.serving.json_encoding import make_json
from seg2vid_tf.serving.json_errors import RequestError
from seg2vid_tf.testing.tf_serving_rules import JT, JTT


ENCODE_RULES = [  # (rule, source, outputs, row_format, expected JSON text or error fragment)
    ("int-tensor-row", f"{JTT} FromJsonSingleTensor",
     {"int_tensor": np.int32([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]])}, True,
     '{"predictions": [[[1,2],[3,4],[5,6]],[[7,8],[9,0],[1,2]]]}'),
    ("int-tensor-columnar", f"{JTT} FromJsonSingleTensor",
     {"int_tensor": np.int32([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]])}, False,
     '{"outputs": [[[1,2],[3,4],[5,6]],[[7,8],[9,0],[1,2]]]}'),
    ("scalar-rows", f"{JTT} FromJsonSingleScalarTensor", {"int_tensor": np.int32([1, 2, 3, 4, 5])},
     True, '{"predictions": [1,2,3,4,5]}'),
    ("bytes-suffix-b64", f"{JTT} FromJsonSingleBytesTensor",
     {"str_tensor_bytes": np.array([[b"hello", b"world"], [b"tf", b"serving"]], object)}, True,
     '{"predictions": [[{"b64":"aGVsbG8="},{"b64":"d29ybGQ="}],[{"b64":"dGY="},'
     '{"b64":"c2VydmluZw=="}]]}'),
    ("float-six-digits", f"{JTT} FromJsonSingleFloatTensorSixDigitPrecision",
     {"float_tensor": np.float32([[9000000, 999999, 0.5], [.0003, .00003, 555557.5]])}, True,
     '{"predictions": [[9e+06,999999.0,0.5],[0.0003,3e-05,555557.5]]}'),
    ("float-non-finite", f"{JTT} FromJsonSingleFloatTensorNonFinite",
     {"float_tensor": np.float32([[np.nan, np.inf], [3, -np.inf]])}, True,
     '{"predictions": [[NaN,Infinity],[3.0,-Infinity]]}'),
    ("float-max-digits10", f"{JT} WriteDecimal (%.*g max_digits10)",
     {"y": np.float32([1 / 3, 0.1])}, False, '{"outputs": [0.333333343,0.1]}'),
    ("double-max-digits10", f"{JT} WriteDecimal<double>", {"y": np.float64([1 / 3, 8.0])}, False,
     '{"outputs": [0.33333333333333331,8.0]}'),
    ("multiple-named-rows", f"{JTT} FromJsonMultipleNamedTensors",
     {"double_scalar_tensor": np.float64([8, 9]), "float_tensor": np.float32([[1], [2]]),
      "str_tensor": np.array([[b"foo", b"bar"], [b"baz", b"bat"]], object)}, True,
     '{"predictions": [{"double_scalar_tensor":8.0,"float_tensor":[1.0],'
     '"str_tensor":["foo","bar"]},'
     '{"double_scalar_tensor":9.0,"float_tensor":[2.0],"str_tensor":["baz","bat"]}]}'),
    ("multiple-named-columnar", f"{JTT} FromJsonMultipleNamedTensors",
     {"double_scalar_tensor": np.float64([8, 9]), "float_tensor": np.float32([[1], [2]])}, False,
     '{"outputs": {"double_scalar_tensor":[8.0,9.0],"float_tensor":[[1.0],[2.0]]}}'),
    ("bool-and-uint8", f"{JT} AddSingleValueAndAdvance",
     {"flag": np.array([True, False]), "level": np.uint8([0, 255])}, False,
     '{"outputs": {"flag":[true,false],"level":[0,255]}}'),
    ("empty-tensor-map", f"{JTT} FromJsonSingleTensorErrors", {}, True,
     "Cannot convert empty tensor map to JSON"),
    ("complex-unwritable", f"{JTT} FromJsonSingleTensorErrors",
     {"tensor": np.complex64([1, 2])}, True,
     "Failed to write JSON value for tensor type: complex64"),
    ("row-needs-shape", f"{JTT} FromJsonSingleTensorErrors", {"tensor": np.int32(1)}, True,
     "Tensor name: tensor has no shape information"),
    ("row-inconsistent-batch", f"{JTT} FromJsonMultipleNamedTensorsErrors",
     {"int_tensor": np.zeros((2, 3), np.int32),
      "str_tensor": np.array([[b"a", b"b", b"c"]], object)},
     True, "inconsistent batch size: 1 expecting: 2"),
]


@pytest.mark.parametrize("rule, source, outputs, row_format, expected", ENCODE_RULES,
                         ids=[row[0] for row in ENCODE_RULES])
def test_tensors_to_json(rule, source, outputs, row_format, expected):
    del rule, source
    if not expected.startswith("{"):
        with pytest.raises(RequestError, match=re.escape(expected)):
            make_json(outputs, row_format)
        return
    assert re.sub(r"\s", "", make_json(outputs, row_format)) == \
        re.sub(r"\s", "", expected)
