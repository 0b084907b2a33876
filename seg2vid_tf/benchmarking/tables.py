"""A benchmark report as a Markdown table and as an SVG bar chart (what the README shows)."""


def chart_svg(report):
    """The fraction of the matmul peak of each workload as an SVG bar chart (README picture).

    `inference_fp32_best` is left out (it repeats an entry); failed workloads get a
    label and no bar. Dashed lines mark the peak and issue 8's targets; bars are blue
    for float32 inference, green for training and orange for bfloat16.
    """
    from seg2vid_tf import report as report_lib  # pylint: disable=import-outside-toplevel

    bars = {name: entry.get("fraction_of_peak", float("nan"))
            for name, entry in report["workloads"].items() if name != "inference_fp32_best"}
    settings = report["settings"]
    title = (f"{settings['height']}x{settings['width']}, width x{settings['width_multiplier']:g}: "
             f"GFLOP/s over the float32 matmul peak ({report['matmul_gflops']:.0f} GFLOP/s)")
    colors = {name: ("#ff7f0e" if "bf16" in name else "#2ca02c" if name.startswith("train")
                     else "#1f77b4") for name in bars}
    return report_lib.bar_chart_svg(
        bars, title, "fraction of the measured float32 matmul peak",
        marks={"training target 0.6": 0.6, "inference target 0.75": 0.75, "peak": 1.0},
        colors=colors)


def format_table(report):
    """The results as a Markdown table (what the README shows)."""
    lines = [f"float32 matmul peak: {report['matmul_gflops']:.1f} GFLOP/s "
             f"({report['matmul']['size']}^3, median of the runs before and after)", "",
             "| workload | batch | GFLOP | median s | clips/s | GFLOP/s | of peak | peak RSS MiB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, entry in report["workloads"].items():
        if "error" in entry:
            lines.append(f"| {name} | | | {entry['error']} | | | | |")
            continue
        lines.append(f"| {name} | {entry['batch']} | {entry['gflop']:.1f} | "
                     f"{entry['median_s']:.3f} | {entry['clips_per_second']:.2f} | "
                     f"{entry['gflops']:.1f} | {100 * entry['fraction_of_peak']:.0f}% | "
                     f"{entry['peak_rss_mb']:.0f} |")
    bf16 = report["workloads"].get("inference_bf16", {})
    if "speedup_vs_fp32" in bf16:
        lines.append(f"\nbfloat16 inference: {bf16['speedup_vs_fp32']:.2f}x the float32 "
                     f"{bf16['fp32_reference']}, {bf16['psnr_db_vs_fp32']:.1f} dB PSNR against "
                     "its frames")
    if "input_pipeline_overhead" in report:
        lines.append(f"\ninput pipeline overhead: {100 * report['input_pipeline_overhead']:+.1f}%")
    return "\n".join(lines)
