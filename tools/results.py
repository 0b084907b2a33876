"""What the tools under tools/ share: writing their result where `--output_json` says."""

import json


def write_json(result, output_json, indent=2):
    """Writes `result` as JSON to `output_json`; does nothing when it is empty or None."""
    if not output_json:
        return
    with open(output_json, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=indent)
