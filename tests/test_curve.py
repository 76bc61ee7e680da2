"""The Pillow line chart behind curve.png: decoded by a PNG reader written here (zlib + struct, not Pillow) and
checked for what a reader of the plot needs: lines where the data are, in their styles, axes and labels."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np
import pytest

from underact.agents.curve import COLORS, SIZE, line_chart_png, nice_ticks


def decode_png(data: bytes) -> np.ndarray:
    """An 8-bit RGB or RGBA non-interlaced PNG as a [height, width, channels] uint8 array (every chunk's CRC
    checked); the five row filters of the PNG specification, section 9."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and color in (2, 6) and interlace == 0
    ch = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * ch
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        for i in range(stride):
            a = cur[i - ch] if i >= ch else 0
            b, c = prev[i], (prev[i - ch] if i >= ch else 0)
            if ftype == 0:
                pred = 0
            elif ftype == 1:
                pred = a
            elif ftype == 2:
                pred = b
            elif ftype == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[i] = (line[i] + pred) & 0xFF
        out[y], prev = cur, cur
    return out.reshape(height, width, ch)[:, :, :3].astype(np.uint8)


def _near(image: np.ndarray, color: str) -> np.ndarray:
    """Pixels of `color` blended with white (anti-aliasing): clearly not white, and off white in its direction."""
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    off, ref = 255.0 - image.astype(float), 255.0 - rgb
    norm = np.linalg.norm(off, axis=-1)
    cosine = off @ ref / (np.maximum(norm, 1e-9) * np.linalg.norm(ref))
    return (norm > 0.35 * np.linalg.norm(ref)) & (cosine > 0.97)


@pytest.fixture(scope="module")
def chart() -> np.ndarray:
    x = np.arange(40)
    series = [("rising", 10.0 * x), ("flat", np.full(40, 200.0)), ("falling", 390.0 - 10.0 * x)]
    png = line_chart_png(x, series, "a title", "generation", "episode return")
    image = decode_png(png)
    from PIL import Image

    with Image.open(__import__("io").BytesIO(png)) as pil:  # Pillow reads the same pixels
        np.testing.assert_array_equal(np.asarray(pil.convert("RGB")), image)
    return image


def test_png_is_the_figure_size(chart):
    assert chart.shape == (SIZE[1], SIZE[0], 3)


def test_rising_and_falling_lines_go_where_the_data_go(chart):
    for color, sign in ((COLORS[0], -1), (COLORS[2], 1)):  # pixel rows grow downwards
        mask = _near(chart, color)
        cols = [c for c in range(chart.shape[1]) if mask[:, c].any()]
        assert cols[-1] - cols[0] > 450 and len(cols) > 150  # the line spans the axes (dotted: 40 % inked)
        single = [c for c in cols if np.ptp(np.nonzero(mask[:, c])[0]) < 8]  # not the legend's sample columns
        assert len(single) > 0.8 * len(cols)
        cols, rows = single, [np.nonzero(mask[:, c])[0].mean() for c in single]
        r = np.corrcoef(cols, rows)[0, 1]
        assert sign * r > 0.95, r


def test_flat_line_is_dashed_and_level(chart):
    mask = _near(chart, COLORS[1])
    band = np.nonzero(mask.sum(axis=1) > 50)[0]
    assert len(band) and np.ptp(band) <= 4  # one level
    row = mask[band.min() : band.max() + 1].any(axis=0)
    cols = np.nonzero(row)[0]
    covered = row[cols.min() : cols.max() + 1].mean()
    assert 0.5 < covered < 0.9  # dashes 3.7 on, 1.6 off
    runs = np.diff(np.nonzero(np.diff(row.astype(int)))[0])
    assert len(runs) > 20  # many dashes, not one line


def test_axes_ticks_and_labels_are_drawn(chart):
    dark = chart.max(axis=-1) < 80
    long_rows = np.nonzero(dark.sum(axis=1) > 400)[0]  # the axes box: top and bottom edges
    long_cols = np.nonzero(dark.sum(axis=0) > 200)[0]  # its left and right edges
    assert len(long_rows) >= 2 and len(long_cols) >= 2
    left, bottom = long_cols.min(), long_rows.max()
    assert dark[bottom + 3 :, left:].sum() > 200  # x tick labels and the x label below the box
    assert dark[:, : left - 3].sum() > 200  # y tick labels and the y label left of it
    assert dark[: long_rows.min(), :].sum() > 50  # the title above it


@pytest.mark.parametrize(
    "x, y",
    [([0], [5.0]), ([0, 1, 2], [3.0, 3.0, 3.0]), ([0, 1, 2, 3], [1.0, math.nan, math.inf, 2.0]), ([], [])],
)
def test_degenerate_data_still_draw(x, y):
    image = decode_png(line_chart_png(x, [("y", y)], "t", "generation", "return"))
    assert image.shape == (SIZE[1], SIZE[0], 3)
    if np.isfinite(y).any():
        assert _near(image, COLORS[0]).sum() > 10


def test_nice_ticks():
    np.testing.assert_allclose(nice_ticks(0, 500), [0, 100, 200, 300, 400, 500])
    np.testing.assert_allclose(nice_ticks(-0.55, 11.55), [0, 2, 4, 6, 8, 10])
    np.testing.assert_allclose(nice_ticks(0.3, 0.31), [0.3, 0.302, 0.304, 0.306, 0.308, 0.31])
    np.testing.assert_allclose(nice_ticks(-1, 1), [-1, -0.5, 0, 0.5, 1])
    rng = np.random.default_rng(0)
    for _ in range(500):
        lo = rng.normal() * 10.0 ** rng.integers(-3, 6)
        hi = lo + abs(rng.normal()) * 10.0 ** rng.integers(-3, 6) + 1e-9
        ticks = nice_ticks(lo, hi)
        assert 3 <= len(ticks) <= 12 and ticks.min() >= lo - 1e-9 * abs(lo) and ticks.max() <= hi + 1e-9 * abs(hi)
        step = np.diff(ticks).mean()
        mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
        assert any(abs(mantissa - m) < 1e-6 for m in (1, 2, 2.5, 5)), (lo, hi, ticks)
