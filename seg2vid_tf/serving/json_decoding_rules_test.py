"""TF Serving's JSON -> tensor rules, row by row, against the codec (`json_decoding`).

Every row names the tensorflow/serving source or test it mirrors; expected values are TF
Serving's (its tests' inputs and answers, its messages), never this code's output.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.serving.json_decoding import decode_request
from seg2vid_tf.serving.json_errors import RequestError
from seg2vid_tf.testing.tf_serving_rules import HANDLER, HANDLER_TEST, JT, JTT

INT32, FLOAT, DOUBLE, STRING = tf.int32, tf.float32, tf.float64, tf.string
B64_HELLO, B64_WORLD = {"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}


def ok(row_format, **arrays):
    return ("ok", row_format, arrays)


def err(fragment, code="INVALID_ARGUMENT"):
    return ("error", code, fragment)


DECODE_RULES = [  # (rule, source, input dtypes, body, expected)
    ("row-unnamed-int", f"{JTT} SingleUnnamedTensor", {"default": INT32},
     {"instances": [[1, 2], [3, 4], [5, 6]]}, ok(True, default=np.int32([[1, 2], [3, 4], [5, 6]]))),
    ("row-mixed-float", f"{JTT} MixedInputForFloatTensor", {"default": FLOAT},
     {"instances": [1, 2.0, 3, 4, 5.003, 0.007, 0.0]},
     ok(True, default=np.float32([1, 2, 3, 4, 5.003, 0.007, 0]))),
    ("row-mixed-double", f"{JTT} MixedInputForDoubleTensor", {"default": DOUBLE},
     {"instances": [1.0, 2, 3, 4, 0.662, 0, 0.0]},
     ok(True, default=np.float64([1, 2, 3, 4, 0.662, 0, 0]))),
    ("row-b64-scalars", f"{JTT} SingleUnnamedTensorBase64Scalars", {"default": STRING},
     {"instances": [B64_HELLO, B64_WORLD]}, ok(True, default=np.array([b"hello", b"world"]))),
    ("row-b64-lists", f"{JTT} SingleUnnamedTensorBase64Lists", {"default": STRING},
     {"instances": [[B64_HELLO], [B64_WORLD]]},
     ok(True, default=np.array([[b"hello"], [b"world"]]))),
    ("row-single-named-b64", f"{JTT} SingleNamedTensorBase64", {"default": STRING},
     {"instances": [{"default": [[B64_HELLO], [B64_WORLD]]}]},
     ok(True, default=np.array([[[b"hello"], [b"world"]]]))),
    ("row-multiple-named-nan-inf", f"{JTT} MultipleNamedTensor",
     {"int_tensor": INT32, "str_tensor": STRING, "float_tensor": FLOAT, "dbl_tensor": DOUBLE},
     '{"instances": [{"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"], '
     '"float_tensor": [1.0, NaN], "dbl_tensor": [NaN]}, {"int_tensor": [[7,8],[9,0],[1,2]], '
     '"str_tensor": ["baz", "bat"], "float_tensor": [2.0, Infinity], "dbl_tensor": [2.0]}]}',
     ok(True, int_tensor=np.int32([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]]),
        str_tensor=np.array([[b"foo", b"bar"], [b"baz", b"bat"]]),
        float_tensor=np.float32([[1, np.nan], [2, np.inf]]),
        dbl_tensor=np.float64([[np.nan], [2]]))),
    ("columnar-named", f"{JTT} SingleUnnamedTensorColumnarFormat", {"int_tensor": INT32},
     {"inputs": {"int_tensor": [[[1, 2], [3, 4], [5, 6]]]}},
     ok(False, int_tensor=np.int32([[[1, 2], [3, 4], [5, 6]]]))),
    ("columnar-bare-single-input", f"{JTT} SingleUnnamedTensorColumnarFormat",
     {"int_tensor": INT32}, {"inputs": [[[1, 2], [3, 4], [5, 6]]]},
     ok(False, int_tensor=np.int32([[[1, 2], [3, 4], [5, 6]]]))),
    ("columnar-b64-scalar", f"{JTT} MultipleNamedTensorColumnarFormat",
     {"str_tensor": STRING, "bin_tensor": STRING},
     {"inputs": {"str_tensor": ["foo", "bar"], "bin_tensor": B64_HELLO}},
     ok(False, str_tensor=np.array([b"foo", b"bar"]), bin_tensor=np.array(b"hello"))),
    ("empty-document", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32}, "",
     err("JSON Parse error: The document is empty")),
    ("signature-name-not-string", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"signature_name": 5, "instances": [[1, 2]]},
     err("'signature_name' key must be a string value.")),
    ("instances-and-inputs", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [[1, 2]], "inputs": [[1, 2]]},
     err("Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist")),
    ("row-size-mismatch", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [[1, 2], [3, 4], [5, 6, 7]]},
     err("Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: "
         "Expecting tensor size: 2 but got: 3")),
    ("row-shape-mismatch", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [[1, 2], [3, 4], [[5, 6]]]}, err("Expecting shape [2] but got: [1,2]")),
    ("row-scalar-then-list", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [1, [1]]}, err("Expecting shape [] but got: [1]")),
    ("string-in-int-tensor", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [[1, 2], ["a", "b"]]},
     err('JSON Value: "a" Type: String is not of expected type: int32')),
    ("float-dbl-max-lossy", f"{JTT} SingleUnnamedTensorErrors", {"default": FLOAT},
     '{"instances": [1.7976931348623157e+308]}',
     err("Cannot convert JSON value: 1.7976931348623157e+308 to float without loss of precision.")),
    ("float-int-2^24+1-lossy", f"{JTT} SingleUnnamedTensorErrors", {"default": FLOAT},
     {"instances": [16777217]}, err("Cannot convert JSON value: 16777217 to float without loss")),
    ("double-int-2^53+1-lossy", f"{JTT} SingleUnnamedTensorErrors", {"default": DOUBLE},
     {"instances": [9007199254740993]},
     err("Cannot convert JSON value: 9007199254740993 to double without loss of precision.")),
    ("named-rows-shape-mismatch", f"{JTT} MultipleNamedTensorErrors",
     {"int_tensor": INT32, "str_tensor": STRING},
     {"instances": [{"int_tensor": [[1, 2], [3, 4], [5, 6]], "str_tensor": ["foo", "bar"]},
                    {"int_tensor": [[[7, 8], [9, 0], [1, 2]]], "str_tensor": ["baz", "bat"]}]},
     err("Failed to process element: 1 key: int_tensor of 'instances' list. Error: "
         "INVALID_ARGUMENT: Expecting shape [3,2] but got: [1,3,2]")),
    ("named-rows-size-mismatch", f"{JTT} MultipleNamedTensorErrors",
     {"int_tensor": INT32, "str_tensor": STRING},
     {"instances": [{"int_tensor": [[1, 2], [3, 4], [5, 6], [7, 8]], "str_tensor": ["a", "b"]},
                    {"int_tensor": [[7, 8], [9, 0], [1, 2]], "str_tensor": ["c", "d"]}]},
     err("Expecting tensor size: 8 but got: 6")),
    ("object-row-then-list", f"{JTT} MultipleNamedTensorErrors",
     {"int_tensor": INT32, "str_tensor": STRING},
     {"instances": [{"int_tensor": [1], "str_tensor": ["foo"]}, [1, 20, 30]]},
     err("Expecting object but got list at item 1 of input list")),
    ("list-row-then-object", f"{JTT} MultipleNamedTensorErrors", {"str_tensor": STRING},
     {"instances": [["baz", "bar"], {"str_tensor": ["baz", "bat"]}]},
     err("Expecting value/list but got object at item 1 of input list")),
    ("other-top-level-keys-ignored", f"{JT} FillPredictRequestFromJson reads 3 keys only",
     {"x": FLOAT}, {"parameters": {"k": 1}, "instances": [1.5]}, ok(True, x=np.float32([1.5]))),
    ("columnar-unknown-key-ignored", f"{JT} FillTensorMapFromInputsMap (signature's keys)",
     {"a": INT32, "b": STRING}, {"inputs": {"a": [1], "b": ["x"], "extra": 5}},
     ok(False, a=np.int32([1]), b=np.array([b"x"]))),
    ("columnar-missing-input", f"{JT} FillTensorMapFromInputsMap", {"a": INT32, "seed": INT32},
     {"inputs": {"a": [1]}}, err("Missing named input: seed in 'inputs' object.")),
    ("row-unknown-key", f"{JT} AddInstanceItem", {"a": INT32, "b": STRING},
     {"instances": [{"a": 1, "b": "x", "c": 2}]},
     err("Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: "
         "JSON object: does not have named input: c")),
    ("row-missing-key", f"{JT} FillTensorMapFromInstancesList", {"a": INT32, "b": STRING},
     {"instances": [{"a": 1}]}, err("must only have keys: a,b")),
    ("decimal-in-int-tensor", f"{JT} AddValueToTensor (IsInt)", {"x": INT32},
     {"inputs": [1.0]}, err("JSON Value: 1.0 Type: Number is not of expected type: int32")),
    ("int32-overflow", f"{JT} AddValueToTensor (IsInt)", {"x": INT32}, {"inputs": [2147483648]},
     err("JSON Value: 2147483648 Type: Number is not of expected type: int32")),
    ("int64-overflow", f"{JT} AddValueToTensor (IsInt64)", {"x": tf.int64},
     {"inputs": [9223372036854775808]}, err("is not of expected type: int64")),
    ("uint32-negative", f"{JT} AddValueToTensor (IsUint)", {"x": tf.uint32}, {"inputs": [-1]},
     err("JSON Value: -1 Type: Number is not of expected type: uint32")),
    ("uint64-max", f"{JT} AddValueToTensor (IsUint64)", {"x": tf.uint64},
     {"inputs": [18446744073709551615]}, ok(False, x=np.uint64([18446744073709551615]))),
    ("bool-takes-true-false", f"{JT} AddValueToTensor (IsBool)", {"x": tf.bool},
     {"inputs": [True, False]}, ok(False, x=np.array([True, False]))),
    ("bool-refuses-numbers", f"{JT} AddValueToTensor (IsBool)", {"x": tf.bool}, {"inputs": [1]},
     err("JSON Value: 1 Type: Number is not of expected type: bool")),
    ("string-refuses-numbers", f"{JT} AddValueToTensor (IsString)", {"x": STRING},
     {"inputs": [5]}, err("JSON Value: 5 Type: Number is not of expected type: string")),
    ("object-in-float-tensor", f"{JT} FillTensorProto (object -> TypeError)", {"x": FLOAT},
     {"inputs": [{"b64": "AA=="}]}, err("Type: Object is not of expected type: float")),
    ("b64-object-one-string-key", f"{JT} IsValBase64Object", {"x": STRING},
     {"inputs": [{"b64": "AA==", "extra": 1}]}, err("not formatted correctly for base64 data")),
    ("b64-undecodable", f"{JT} JsonDecodeBase64Object", {"x": STRING},
     {"inputs": [{"b64": "!!!"}]}, err("Unable to base64 decode")),
    ("b64-unpadded-accepted", f"{JT} absl::Base64Unescape (padding optional)", {"x": STRING},
     {"inputs": [{"b64": "d29ybGQ"}]}, ok(False, x=np.array([b"world"]))),
    ("float-int-limit-2^24-1", f"{JT} IsLosslessDecimal<float> kMaxInt", {"x": FLOAT},
     {"inputs": [16777215, -16777215]}, ok(False, x=np.float32([16777215, -16777215]))),
    ("float-int-2^24-lossy", f"{JT} IsLosslessDecimal<float> kMaxInt", {"x": FLOAT},
     {"inputs": [16777216]}, err("16777216 to float without loss of precision")),
    ("float-decimal-range", f"{JT} IsLosslessDecimal<float> (max/lowest)", {"x": FLOAT},
     '{"inputs": [1e38, -1e38, Infinity]}', ok(False, x=np.float32([1e38, -1e38, np.inf]))),
    ("float-decimal-beyond-flt-max", f"{JT} IsLosslessDecimal<float>", {"x": FLOAT},
     '{"inputs": [3.5e38]}', err("Cannot convert JSON value: 3.5e+38 to float without loss")),
    ("nan-in-int-tensor", f"{JT} AddValueToTensor (NaN is a double)", {"x": INT32},
     '{"inputs": [NaN]}', err("JSON Value: NaN Type: Number is not of expected type: int32")),
    ("instances-not-list", f"{JT} FillPredictRequestFromJson", {"x": FLOAT},
     {"instances": 5}, err("Excepting 'instances' to be an list/array")),
    ("instances-empty", f"{JT} FillPredictRequestFromJson", {"x": FLOAT},
     {"instances": []}, err("No values in 'instances' array")),
    ("no-instances-no-inputs", f"{JT} FillPredictRequestFromJson", {"x": FLOAT},
     {"signature_name": "serving_default"}, err("Missing 'inputs' or 'instances' key")),
    ("plain-rows-several-inputs", f"{JT} FillTensorMapFromInstancesList", {"a": INT32, "b": INT32},
     {"instances": [1, 2]}, err("instances is a plain list, but expecting list of objects")),
    ("bare-inputs-several-inputs", f"{JT} FillTensorMapFromInputsMap", {"a": INT32, "b": INT32},
     {"inputs": [1, 2]}, err("inputs is a plain value/list, but expecting an object")),
    ("document-not-object", f"{JT} ParseJson", {"x": FLOAT}, "[1]", err("Is not object")),
    ("bad-json", f"{HANDLER_TEST} PredictRequestErrors", {"x": FLOAT}, "instances = [1, 2]",
     err("JSON Parse error: Invalid value")),
    ("list-below-rank", f"{JT} FillTensorProto", {"x": INT32}, {"inputs": [[1, 2], [3, [4]]]},
     err("Encountered list at unexpected level: 2 expected < 2")),
    ("value-above-rank", f"{JT} FillTensorProto", {"x": INT32}, {"inputs": [[1, 2], 3]},
     err("JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2")),
    ("ragged-list", f"{JT} FillTensorProto", {"x": INT32}, {"inputs": [[1, 2], [3]]},
     err("Encountered list at unexpected size: 1 at level: 1 expected size: 2")),
    ("unsupported-dtype", f"{JT} AddValueToTensor default", {"x": tf.float16}, {"inputs": [1]},
     err("Conversion of JSON Value: 1 to type: half", "UNIMPLEMENTED")),
    ("empty-signature-name-default", f"{HANDLER} GetInfoMap", {"x": FLOAT},
     {"signature_name": "", "inputs": [1]}, ok(False, x=np.float32([1]))),
]


@pytest.mark.parametrize("rule, source, dtypes, body, expected", DECODE_RULES,
                         ids=[row[0] for row in DECODE_RULES])
def test_json_to_tensors(rule, source, dtypes, body, expected):
    del rule, source
    body = body if isinstance(body, str) else json.dumps(body)
    if expected[0] == "error":
        with pytest.raises(RequestError) as caught:
            decode_request(body, dtypes)
        assert caught.value.code == expected[1] and expected[2] in str(caught.value)
        return
    _, inputs, row_format = decode_request(body, dtypes)
    assert row_format == expected[1] and sorted(inputs) == sorted(expected[2])
    for name, want in expected[2].items():
        got = inputs[name]
        assert got.shape == want.shape, name
        if want.dtype.kind == "S":
            assert got.dtype == object and got.tolist() == want.tolist()
        else:
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
