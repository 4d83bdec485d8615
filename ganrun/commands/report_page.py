"""The pieces of `ganrun report`'s page: line charts as inline SVG, tables, images as data URIs.

Plain strings, no template engine or plotting library: the page has no external reference at all, so
it can be mailed or attached as one file.
"""

from __future__ import annotations

import base64
import html
import math
from typing import Iterable

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 420, 220, 66, 12, 24, 30

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ccc; }
h3 { font-size: 15px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts svg { border: 1px solid #ddd; background: #fff; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } td.left, th.left { text-align: left; }
.finding { background: #fff4e5; border-left: 4px solid #f0a020; padding: 6px 10px; margin: 6px 0; font-size: 14px; }
.ok { background: #eaf7ea; border-left: 4px solid #3a3; padding: 6px 10px; font-size: 14px; }
.images { display: flex; flex-wrap: wrap; gap: 16px; } .images figure { margin: 0; }
.images img { image-rendering: pixelated; max-width: 520px; border: 1px solid #ddd; }
pre { background: #f7f7f7; padding: 8px; font-size: 12px; max-height: 420px; overflow: auto; }
"""


def escape(text: object) -> str:
    return html.escape(str(text))


def number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def line_chart(title: str, series: dict[str, list[tuple[int, float]]]) -> str:
    """One SVG chart: a polyline per tag against the step, with the value range, the step range and a legend."""
    series = {tag: [(s, v) for s, v in points if math.isfinite(v)] for tag, points in series.items()}
    series = {tag: points for tag, points in series.items() if points}
    if not series:
        return ""
    steps = [s for points in series.values() for s, _ in points]
    values = [v for points in series.values() for _, v in points]
    x0, x1 = min(steps), max(steps)
    y0, y1 = min(values), max(values)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def xy(step: float, value: float) -> str:
        return (f"{PAD_LEFT + (step - x0) / (x1 - x0) * plot_w:.1f},"
                f"{PAD_TOP + (1 - (value - y0) / (y1 - y0)) * plot_h:.1f}")

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="{PAD_LEFT}" y="15" font-size="13" font-weight="bold">{escape(title)}</text>',
             f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>']
    for value, y in ((y1, PAD_TOP), (y0, PAD_TOP + plot_h)):
        parts.append(f'<text x="{PAD_LEFT - 4}" y="{y + 4}" font-size="11" text-anchor="end">{number(value)}</text>')
    for step, anchor, x in ((x0, "start", PAD_LEFT), (max(steps), "end", PAD_LEFT + plot_w)):
        parts.append(f'<text x="{x}" y="{HEIGHT - 14}" font-size="11" text-anchor="{anchor}">{step}</text>')
    parts.append(f'<text x="{PAD_LEFT + plot_w / 2}" y="{HEIGHT - 4}" font-size="11" text-anchor="middle">step</text>')
    for i, (tag, points) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        if len(points) == 1:
            parts.append(f'<circle cx="{xy(*points[0]).split(",")[0]}" cy="{xy(*points[0]).split(",")[1]}" '
                         f'r="3" fill="{colour}"/>')
        else:
            coords = " ".join(xy(s, v) for s, v in points)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}"/>')
        legend_x = PAD_LEFT + 8 + 130 * (i % 3)
        legend_y = PAD_TOP + 12 + 13 * (i // 3)
        parts.append(f'<rect x="{legend_x}" y="{legend_y - 8}" width="10" height="3" fill="{colour}"/>'
                     f'<text x="{legend_x + 14}" y="{legend_y - 3}" font-size="11">{escape(tag)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def table(header: Iterable[str], rows: Iterable[Iterable[object]], left: int = 1) -> str:
    """An HTML table; the first `left` columns left-aligned (names), the rest numbers."""
    def cell(tag: str, i: int, value: object) -> str:
        text = number(value) if isinstance(value, float) else escape(value)
        return f'<{tag}{" class=left" if i < left else ""}>{text}</{tag}>'

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def image(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>\n")
