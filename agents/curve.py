"""Line charts as PNG with Pillow alone, for a run's learning curve (`curve.png`).

matplotlib draws the same chart, but importing its figure and Agg canvas costs about 0.4 s and drawing another
0.3 s, a third of a default `underact train` run; Pillow (already a dependency) loads in 0.03 s. The chart has
what the matplotlib one had: a title, axes with "nice" ticks (steps of 1, 2, 2.5 or 5 times a power of ten),
a light grid, axis labels, one line per series (solid, dashed, dotted, in matplotlib's first colours) and a
legend in the emptiest corner. It is drawn at twice its size and reduced with a box filter, so lines and text
are anti-aliased. Text uses DejaVu Sans from matplotlib's installation when it is there (found without
importing matplotlib), else Pillow's own font.
"""

from __future__ import annotations

import importlib.util
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SIZE = (600, 350)  # pixels, as the former 6 × 3.5 inch figure at 100 dpi
SCALE = 2  # drawn at SCALE × SIZE, then reduced: anti-aliasing
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")  # matplotlib's first four
STYLES = ("solid", "dashed", "dotted")
MARGIN = 0.05  # of the data range on each side of the axes, as matplotlib's default
_DASHES = {"solid": None, "dashed": (3.7, 1.6), "dotted": (1.0, 1.65)}  # on, off in line widths (matplotlib's)


def nice_ticks(lo: float, hi: float, target: int = 7, integer: bool = False) -> np.ndarray:
    """At most about `target` + 1 ticks within [lo, hi], at multiples of the smallest step of 1, 2, 2.5 or 5 × 10^k
    not below (hi − lo) / target (so at least target / 2 of them); `integer`: whole-number steps only."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return np.array([lo]) if math.isfinite(lo) else np.array([])
    raw = (hi - lo) / target
    power = 10.0 ** math.floor(math.log10(raw))
    steps = [m * power for m in (1, 2, 2.5, 5, 10)]
    if integer:
        steps = [max(1.0, st) for st in steps if st >= 1 and float(st).is_integer()] or [1.0]
    step = next((st for st in steps if st >= raw * (1 - 1e-9)), steps[-1])
    first = math.ceil(lo / step - 1e-9)
    ticks = (first + np.arange(int(math.floor(hi / step + 1e-9)) - first + 1)) * step
    return np.where(np.abs(ticks) < step * 1e-9, 0.0, ticks)


def _label(value: float) -> str:
    """A tick label: integers without a decimal point, else at most 4 significant digits."""
    return f"{value:.0f}" if float(value).is_integer() and abs(value) < 1e7 else f"{value:.4g}"


def _font(size: float):
    from PIL import ImageFont

    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if path.is_file():
            return ImageFont.truetype(str(path), round(size))
    try:
        return ImageFont.load_default(size=round(size))
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _text_size(font, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text)
    return right - left, bottom - top


def _polyline(draw, points: np.ndarray, color: str, width: int, style: str) -> None:
    """A line through points [n, 2] (pixels), solid or with the style's dashes; one point draws a dot."""
    if len(points) == 1:
        (x, y), r = points[0], width
        draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
        return
    dashes = _DASHES[style]
    if dashes is None:
        draw.line([tuple(p) for p in points], fill=color, width=width, joint="curve")
        return
    on, off = dashes[0] * width, dashes[1] * width
    phase = 0.0  # position within the current on + off period
    for a, b in zip(points[:-1], points[1:], strict=True):
        length = float(np.hypot(*(b - a)))
        t = 0.0
        while t < length:
            if phase < on:  # inside a dash: draw to its end or the segment's
                run = min(on - phase, length - t)
                p, q = a + (b - a) * (t / length), a + (b - a) * ((t + run) / length)
                draw.line([tuple(p), tuple(q)], fill=color, width=width)
            else:
                run = min(on + off - phase, length - t)
            t += run
            phase = (phase + run) % (on + off)


def line_chart(
    x: Sequence[float],
    series: Sequence[tuple[str, Sequence[float]]],
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    size: tuple[int, int] = SIZE,
):
    """A Pillow RGB image of `series` (label, y values) against x, in the styles and colours above, in turn.

    Non-finite values are left out of the lines and of the axis ranges.
    """
    from PIL import Image, ImageDraw

    s = SCALE
    width, height = size[0] * s, size[1] * s
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    pt = s * 100 / 72  # pixels per point at 100 dpi
    tick_font, label_font, title_font, legend_font = _font(9 * pt), _font(10 * pt), _font(9 * pt), _font(8 * pt)

    xs = np.asarray(x, dtype=np.float64)
    ys = [np.asarray(v, dtype=np.float64) for _, v in series]
    finite_x = xs[np.isfinite(xs)]
    finite_y = np.concatenate([v[np.isfinite(v)] for v in ys]) if ys else np.array([])
    (x0, x1), (y0, y1) = (_limits(finite_x), _limits(finite_y))
    whole = len(finite_x) > 0 and bool(np.all(finite_x == np.round(finite_x)))  # generations
    xticks, yticks = nice_ticks(x0, x1, integer=whole), nice_ticks(y0, y1)

    pad = 6 * s
    title_h = _text_size(title_font, title)[1] if title else 0
    label_h = _text_size(label_font, "generation")[1]
    tick_w = max((_text_size(tick_font, _label(t))[0] for t in yticks), default=0)
    tick_h = _text_size(tick_font, "0123456789")[1]
    left = pad + (label_h + pad if ylabel else 0) + tick_w + pad
    top = pad + (title_h + pad if title else 0)
    right, bottom = width - 3 * pad, height - pad - (label_h + pad if xlabel else 0) - tick_h - pad
    left, top, right, bottom = (s * (v // s) for v in (left, top, right, bottom))  # whole pixels once reduced

    def px(xv: np.ndarray, yv: np.ndarray) -> np.ndarray:
        """Data to pixel coordinates, [n, 2]."""
        u = left + (xv - x0) / (x1 - x0) * (right - left)
        return np.stack([u, bottom - (yv - y0) / (y1 - y0) * (bottom - top)], -1)

    grid, axis = (235, 235, 235), (0, 0, 0)
    for t in xticks:
        gx = float(px(np.array([t]), np.array([y0]))[0, 0])
        draw.line([(gx, top), (gx, bottom)], fill=grid, width=s)
        draw.line([(gx, bottom), (gx, bottom + 3 * s)], fill=axis, width=s)
        draw.text((gx, bottom + 5 * s), _label(t), fill=axis, font=tick_font, anchor="mt")
    for t in yticks:
        gy = float(px(np.array([x0]), np.array([t]))[0, 1])
        draw.line([(left, gy), (right, gy)], fill=grid, width=s)
        draw.line([(left - 3 * s, gy), (left, gy)], fill=axis, width=s)
        draw.text((left - 5 * s, gy), _label(t), fill=axis, font=tick_font, anchor="rm")

    points = []
    for k, v in enumerate(ys):
        ok = np.isfinite(v) & np.isfinite(xs)
        pts = px(xs[ok], v[ok])
        points.append(pts)
        if len(pts):
            _polyline(draw, pts, COLORS[k % len(COLORS)], round(1.5 * s), STYLES[k % len(STYLES)])
    draw.rectangle((left, top, right + s - 1, bottom + s - 1), outline=axis, width=s)  # edges on whole pixels

    if title:
        draw.text(((left + right) / 2, pad), title, fill=axis, font=title_font, anchor="mt")
    if xlabel:
        draw.text(((left + right) / 2, height - pad), xlabel, fill=axis, font=label_font, anchor="md")
    if ylabel:
        w, _ = _text_size(label_font, ylabel)
        text = Image.new("L", (w + 2 * s, label_h + 2 * s), 0)
        ImageDraw.Draw(text).text((s, s), ylabel, fill=255, font=label_font, anchor="lt")
        text = text.rotate(90, expand=True)
        image.paste(Image.new("RGB", text.size, axis), (pad, round((top + bottom) / 2 - text.size[1] / 2)), text)
    if series:
        _legend(draw, [label for label, _ in series], points, (left, top, right, bottom), legend_font, s)
    return image.reduce(s)


def _limits(values: np.ndarray) -> tuple[float, float]:
    """The axis range of `values`: their range with MARGIN on each side (±1 around a single value, [0, 1] for
    none)."""
    if len(values) == 0:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    if hi - lo <= 1e-12 * max(1.0, abs(lo)):
        return lo - max(1.0, abs(lo) * 0.05), hi + max(1.0, abs(hi) * 0.05)
    return lo - MARGIN * (hi - lo), hi + MARGIN * (hi - lo)


def _legend(draw, labels: list[str], points: list[np.ndarray], box: tuple, font, s: int) -> None:
    """The legend (a short line in each series' style, then its label) where it covers the fewest points of the
    lines, of nine places in `box` (its corners, the middles of its sides and its centre, as matplotlib's
    "best"), the upper left first."""
    left, top, right, bottom = box
    line_len, gap, pad = 22 * s, 5 * s, 4 * s
    row_h = max(_text_size(font, label)[1] for label in labels) + 4 * s
    w = pad + line_len + gap + max(_text_size(font, label)[0] for label in labels) + pad
    h = pad + row_h * len(labels) + pad
    inset = 6 * s
    xs = (left + inset, (left + right - w) / 2, right - inset - w)
    ys = (top + inset, (top + bottom - h) / 2, bottom - inset - h)
    places = [(x, y) for y in ys for x in xs]
    every = np.concatenate([_densify(p, 2 * s) for p in points]) if points else np.empty((0, 2))

    def covered(place: tuple[float, float]) -> int:
        cx, cy = place
        inside = (every[:, 0] >= cx) & (every[:, 0] <= cx + w) & (every[:, 1] >= cy) & (every[:, 1] <= cy + h)
        return int(np.count_nonzero(inside))

    cx, cy = min(places, key=covered)
    draw.rounded_rectangle((cx, cy, cx + w, cy + h), radius=3 * s, fill="white", outline=(204, 204, 204), width=s)
    for k, label in enumerate(labels):
        y = cy + pad + row_h * (k + 0.5)
        segment = np.array([[cx + pad, y], [cx + pad + line_len, y]])
        _polyline(draw, segment, COLORS[k % len(COLORS)], round(1.5 * s), STYLES[k % len(STYLES)])
        draw.text((cx + pad + line_len + gap, y), label, fill=(0, 0, 0), font=font, anchor="lm")


def _densify(points: np.ndarray, spacing: float) -> np.ndarray:
    """Points along the polyline through `points` [n, 2], at most `spacing` apart."""
    if len(points) < 2:
        return points
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        n = max(1, int(np.hypot(*(b - a)) // spacing))
        out.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.concatenate(out)


def line_chart_png(*args, **kwargs) -> bytes:
    """`line_chart` encoded as PNG bytes."""
    buf = io.BytesIO()
    line_chart(*args, **kwargs).save(buf, format="PNG")
    return buf.getvalue()
