"""Tests for seg2vid_tf.report's SVG charts."""

import re
import xml.etree.ElementTree as ElementTree

from seg2vid_tf import report

_SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_draws_one_bar_per_finite_value_to_scale():
    svg = report.bar_chart_svg({"fast": 2.0, "slow": 1.0, "failed": float("nan")},
                               "speed", "fraction of peak", marks={"target": 0.5})
    root = ElementTree.fromstring(svg)  # well-formed XML
    bars = root.findall(f"{_SVG}rect")
    assert len(bars) == 2  # no bar for the non-finite value
    widths = [float(bar.get("width")) for bar in bars]
    assert widths[0] == 2 * widths[1] > 0
    texts = [element.text for element in root.iter(f"{_SVG}text")]
    for label in ("fast", "slow", "failed", "target", "speed", "fraction of peak"):
        assert label in texts
    # The axis ends at a round 2.0 here, so the target's dashed line sits at a quarter of
    # the longest bar.
    dashed = [line for line in root.findall(f"{_SVG}line") if line.get("stroke-dasharray")]
    start = float(bars[0].get("x"))
    assert len(dashed) == 1
    assert float(dashed[0].get("x1")) - start == 0.25 * widths[0]


def test_bar_chart_axis_ends_at_a_round_value_past_the_longest_bar():
    root = ElementTree.fromstring(report.bar_chart_svg({"a": 1.76, "b": 0.6}, "t", "x"))
    ticks = [float(element.text) for element in root.iter(f"{_SVG}text")  # under the axis
             if element.get("text-anchor") == "middle" and re.fullmatch(r"[0-9.]+", element.text)]
    assert ticks[0] == 0 and ticks[-1] >= 1.76 and len(ticks) <= 7
    assert all(round(tick / 0.5, 9).is_integer() for tick in ticks)  # steps of 0.5


def test_bar_chart_escapes_names():
    svg = report.bar_chart_svg({"a<b & c": 1.0}, "t", "x")
    assert "a&lt;b &amp; c" in svg and not re.search(r"a<b", svg)
