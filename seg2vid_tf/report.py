"""The evaluation report: a self-contained HTML page with SVG plots and GIF grids.

No plotting library: the per-frame curves are drawn as inline SVG, so the page
opens anywhere (and in offline clusters) with the GIFs beside it.
"""

import html
import json
import math
import os

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")


def line_chart_svg(series, title, y_label, x_label="predicted frame", width=440, height=260,
                   first_x=1):
    """An SVG line chart of `series` (name -> list of y values at x = first_x, first_x + 1, ...).

    Non-finite values (and None) are left out of the line; at most about 12 x labels are
    written. Returns the SVG text.
    """
    left, right, top, bottom = 52, 12, 28, 40
    points = [value for values in series.values() for value in values
              if value is not None and math.isfinite(value)]
    if not points:
        points = [0.0, 1.0]
    low, high = min(points), max(points)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    pad = 0.08 * (high - low)
    low, high = low - pad, high + pad
    length = max((len(values) for values in series.values()), default=1)

    def x_of(index):
        if length == 1:
            return left + (width - left - right) / 2
        return left + (width - left - right) * index / (length - 1)

    def y_of(value):
        return top + (height - top - bottom) * (1 - (value - low) / (high - low))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">'
             f'{html.escape(title)}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
             f'y2="{height - bottom}" stroke="#444"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#444"/>']
    for tick in range(5):
        value = low + (high - low) * tick / 4
        y = y_of(value)
        parts.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.3g}</text>')
    label_every = max(1, math.ceil(length / 12))
    for index in range(0, length, label_every):
        parts.append(f'<text x="{x_of(index):.1f}" y="{height - bottom + 14}" '
                     f'text-anchor="middle">{index + first_x}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 6}" '
                 f'text-anchor="middle">{html.escape(x_label)}</text>')
    parts.append(f'<text x="12" y="{(top + height - bottom) / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {(top + height - bottom) / 2})">'
                 f'{html.escape(y_label)}</text>')
    for number, (name, values) in enumerate(series.items()):
        color = _COLORS[number % len(_COLORS)]
        coordinates = [f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(values)
                       if v is not None and math.isfinite(v)]
        if coordinates:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                         f'points="{" ".join(coordinates)}"/>')
            for coordinate in coordinates:
                x, y = coordinate.split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{color}"/>')
        legend_y = top + 4 + 14 * number
        parts.append(f'<rect x="{width - right - 150}" y="{legend_y - 8}" width="10" height="10" '
                     f'fill="{color}"/>')
        parts.append(f'<text x="{width - right - 136}" y="{legend_y + 1}">'
                     f'{html.escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _nice_step(high, most_ticks=6):
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving at most `most_ticks` ticks."""
    magnitude = 10.0 ** math.floor(math.log10(high / most_ticks))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if high / (factor * magnitude) <= most_ticks:
            return factor * magnitude
    return 10.0 * magnitude


def bar_chart_svg(bars, title, x_label, marks=None, colors=None, width=560, bar_height=18):
    """An SVG chart of horizontal bars (name -> non-negative value), one row per bar.

    Args:
        bars: Ordered dict-like of name -> value; non-finite values get no bar.
        title: Drawn above the chart.
        x_label: Drawn below the axis.
        marks: Optional dict of label -> x value, drawn as dashed vertical lines
            (targets, a peak), each labelled on its own row under the title.
        colors: Optional dict of name -> CSS colour (default: a palette by row).
        width: Total width in pixels; the height follows from the number of bars.
        bar_height: Height of each bar's row in pixels.

    Returns:
        The SVG text.
    """
    marks, colors = dict(marks or {}), dict(colors or {})
    label_width, right, bottom = 250, 50, 40
    top = 30 + 12 * len(marks)
    values = [value for value in bars.values() if value is not None and math.isfinite(value)]
    longest = max(values + list(marks.values()) + [1e-9])
    step = _nice_step(longest)
    high = step * math.ceil(longest / step)
    height = top + bottom + bar_height * len(bars)

    def x_of(value):
        return label_width + (width - label_width - right) * value / high

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">'
             f'{html.escape(title)}</text>',
             f'<line x1="{label_width}" y1="{height - bottom}" x2="{width - right}" '
             f'y2="{height - bottom}" stroke="#444"/>']
    for tick in range(int(round(high / step)) + 1):
        value = step * tick
        parts.append(f'<line x1="{x_of(value):.1f}" y1="{top}" x2="{x_of(value):.1f}" '
                     f'y2="{height - bottom + 3}" stroke="#e4e4e4"/>')
        parts.append(f'<text x="{x_of(value):.1f}" y="{height - bottom + 14}" '
                     f'text-anchor="middle">{value:.3g}</text>')
    parts.append(f'<text x="{(label_width + width - right) / 2}" y="{height - 6}" '
                 f'text-anchor="middle">{html.escape(x_label)}</text>')
    for row, (name, value) in enumerate(bars.items()):
        y = top + bar_height * row
        parts.append(f'<text x="{label_width - 6}" y="{y + bar_height * 0.7:.1f}" '
                     f'text-anchor="end">{html.escape(name)}</text>')
        if value is None or not math.isfinite(value):
            continue
        color = colors.get(name, _COLORS[row % len(_COLORS)])
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{x_of(value) - label_width:.1f}" '
                     f'height="{bar_height - 4}" fill="{color}"/>')
        parts.append(f'<text x="{x_of(value) + 4:.1f}" y="{y + bar_height * 0.7:.1f}">'
                     f'{value:.3g}</text>')
    for number, (label, value) in enumerate(sorted(marks.items(), key=lambda item: item[1])):
        x, label_y = x_of(value), 30 + 12 * number
        parts.append(f'<line x1="{x:.1f}" y1="{label_y + 2}" x2="{x:.1f}" y2="{height - bottom}" '
                     'stroke="#444" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x + 3:.1f}" y="{label_y + 9}" font-size="10">'
                     f'{html.escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


VIDEO_CAPTION = ("Columns: start frame | prediction | ground truth | forward flow (Middlebury "
                 "colour wheel) | forward occlusion mask (white = warped from the start frame).")


def write_report(report_dir, metrics, charts, gifs, legend=None, title="seg2vid evaluation",
                 heading="Videos", caption=VIDEO_CAPTION):
    """Writes `report.html` (and `metrics.json`) in `report_dir`.

    Args:
        report_dir: Output directory (created).
        metrics: The metrics dict (scalars shown in a table, lists as charts' data).
        charts: list of `(title, y_label, {series name: per-frame values})`.
        gifs: list of `(caption, path)`; paths are made relative to `report_dir`.
        legend: Optional path of the flow colour-wheel legend image.
        title: Page title.
        heading, caption: The pictures' section heading and the text above them.

    Returns:
        The path of `report.html`.
    """
    os.makedirs(report_dir, exist_ok=True)
    rows = []

    def add_rows(prefix, values):
        for key, value in values.items():
            if isinstance(value, dict):
                add_rows(f"{prefix}{key}.", value)
            elif not isinstance(value, (list, tuple)):
                rows.append(f"<tr><td>{html.escape(prefix + key)}</td>"
                            f"<td>{_format(value)}</td></tr>")

    add_rows("", metrics)
    body = [f"<h1>{html.escape(title)}</h1>",
            "<table>" + "".join(rows) + "</table>"]
    if charts:
        body.append("<h2>Per frame</h2>")
    body += [line_chart_svg(series, chart_title, y_label)
             for chart_title, y_label, series in charts]
    body.append(f"<h2>{html.escape(heading)}</h2><p>{html.escape(caption)}</p>")
    if legend:
        body.append(f'<p><img src="{html.escape(os.path.relpath(legend, report_dir))}" '
                    'alt="flow colour wheel legend"> flow legend (centre = no motion)</p>')
    for caption, path in gifs:
        body.append(f'<figure><img src="{html.escape(os.path.relpath(path, report_dir))}" '
                    f'alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}'
                    "</figcaption></figure>")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto;}"
            "table{border-collapse:collapse;}td{border:1px solid #ccc;padding:2px 8px;}"
            "svg{margin:4px;}figure{display:inline-block;margin:6px;}"
            "</style></head><body>" + "\n".join(body) + "</body></html>")
    path = os.path.join(report_dir, "report.html")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
    with open(os.path.join(report_dir, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump(metrics, handle, indent=2, sort_keys=True)
    return path
