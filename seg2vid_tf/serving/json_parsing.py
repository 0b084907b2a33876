"""Request bodies to JSON documents, with rapidjson's error words (TF Serving's parser).

`NaN`, `Infinity`, `-Infinity` are numbers; integers beyond int64/uint64 become
doubles and numbers beyond a double are refused, as rapidjson does; the
nesting is measured before decoding (`json_depth`, `MAX_JSON_DEPTH`); the
document must be an object, whose `signature_name` defaults to
`serving_default`.
"""

import json
import math

import numpy as np

from seg2vid_tf.serving.json_errors import invalid, json_value_text

DEFAULT_SIGNATURE = "serving_default"
MAX_JSON_DEPTH = 32  # arrays/objects; a predict request to this model needs at most 6


class _TooBig(ValueError):
    pass


def _parse_float(text):
    value = float(text)
    if math.isinf(value):
        raise _TooBig(text)
    return value


def _parse_int(text):
    value = int(text)
    if -2 ** 63 <= value < 2 ** 64:
        return value
    # rapidjson keeps integers beyond int64/uint64 as doubles.
    try:
        return float(value)
    except OverflowError:
        raise _TooBig(text) from None


_RAPIDJSON_WORDS = {
    "Expecting value": "Invalid value.",
    "Extra data": "The document root must not be followed by other values.",
    "Expecting property name enclosed in double quotes": "Missing a name for object member.",
    "Expecting ':' delimiter": "Missing a colon after a name of object member.",
    "Unterminated string starting at": "Missing a closing quotation mark in string.",
    "Invalid \\escape": "Invalid escape character in string.",
}


def _innermost_bracket(text, end):
    """`{` or `[`: the innermost container still open at `end` (strings skipped)."""
    stack, in_string, escaped = [], False, False
    for char in text[:end]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append(char)
        elif char in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else "["


def json_depth(data, chunk_bytes=1 << 22):
    """The deepest nesting of arrays and objects in JSON text, strings skipped.

    Vectorised (NumPy, chunk by chunk), so that a 64 MiB body is measured in a
    fraction of a second before any recursive decoder sees it.

    Args:
        data: JSON text as bytes.
        chunk_bytes: Bytes per step (bounds the memory used).

    Returns:
        int: 0 for a scalar document, 1 for `[]` or `{}`, and so on.
    """
    # Escaped backslashes first, then escaped quotes: what is left of `"` delimits strings.
    data = bytes(data).replace(b"\\\\", b"").replace(b'\\"', b"")
    parity, depth, deepest = 0, 0, 0
    for start in range(0, len(data), chunk_bytes):
        codes = np.frombuffer(data, np.uint8, count=min(chunk_bytes, len(data) - start),
                              offset=start)
        # uint8 sums wrap at 256, which keeps their parity.
        in_string = (np.cumsum(codes == 34, dtype=np.uint8) + parity) % 2 == 1
        step = (np.isin(codes, (91, 123)).astype(np.int32)
                - np.isin(codes, (93, 125)).astype(np.int32))
        step[in_string] = 0
        levels = depth + np.cumsum(step)
        if levels.size:
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
        parity = int((parity + np.count_nonzero(codes == 34)) % 2)
    return deepest


def parse_json(body):
    """Request body (bytes, str) -> JSON object, with rapidjson's error words.

    The body's nesting is measured first (`json_depth`): a document deeper than
    `MAX_JSON_DEPTH` is refused before decoding (a recursive decoder would run
    out of stack; a predict request to this model needs at most 6 levels).

    Raises:
        RequestError: `INVALID_ARGUMENT`: empty, too deep, not JSON, or not an object.
    """
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogateescape")
    depth = json_depth(body)
    if depth > MAX_JSON_DEPTH:
        raise invalid(f"JSON Parse error: the document nests arrays/objects {depth} levels deep, "
                      f"over the limit of {MAX_JSON_DEPTH} (a predict request to this model "
                      "needs at most 6).")
    body = bytes(body).decode("utf-8", "surrogateescape")
    if not body:
        raise invalid("JSON Parse error: The document is empty")
    try:
        document = json.loads(body, parse_float=_parse_float, parse_int=_parse_int)
    except RecursionError:
        raise invalid("JSON Parse error: the document nests too deeply.") from None
    except _TooBig:
        raise invalid("JSON Parse error: Number too big to be stored in double.") from None
    except json.JSONDecodeError as error:
        words = _RAPIDJSON_WORDS.get(error.msg, error.msg + ".")
        if not body.strip():
            words = "The document is empty."
        elif error.msg == "Expecting ',' delimiter":
            words = ("Missing a comma or '}' after an object member."
                     if _innermost_bracket(body, error.pos) == "{" else
                     "Missing a comma or ']' after an array element.")
        raise invalid(f"JSON Parse error: {words} at offset: {error.pos}") from None
    if not isinstance(document, dict):
        raise invalid(f"JSON Value: {json_value_text(document)} Is not object")
    return document


def signature_of(document):
    """The document's `signature_name` (default: `serving_default`); FillSignature's check."""
    name = document.get("signature_name", "")
    if not isinstance(name, str):
        raise invalid(f"JSON Value: {json_value_text(document)} not formatted correctly. "
                      "'signature_name' key must be a string value.")
    return name or DEFAULT_SIGNATURE
