"""The report's pictures: a result's figures (``grader.result.Figure``) drawn as PNG images.

One image per part of the assignment (:func:`render_task`): the part's figures side by side, in
their order, as a ``data:image/png;base64,...`` URI the HTML report embeds; :func:`render_all`
does every part that has figures. The kinds (their data's form is in ``grader.result``):

- ``curve``: one function over x, the reference's (grey, dashed) under the student's (blue);
- ``series``: a value per step (the loss, on a log axis when ``data["log"]``) or per epoch
  (``errors``: integer steps, with markers), in the same two styles;
- ``regions``: the student's perceptron's predictions over a grid (class 1 light blue, class -1
  light orange, anything else light grey) with the points on top (class 1 ``o``, class -1 ``x``).

A figure whose student's side is missing (``problem``) shows the reference alone; one with nothing
to draw (no line, a regions grid that does not fit its size) gets no panel (:func:`drawable` says
which), and a part with no panel gets no image (None). The images hold no words: numbers on the
axes and each panel's title as code (:func:`title`: ``sigmoid(x)``, ``mean((A−Y)²)``); the HTML
says the rest, in the reader's language. The text is in matplotlib's own DejaVu fonts (by file,
not by name), so an image is drawn the same everywhere, and the same figures give the same bytes
(no date or version in the PNG).

Speed: this runs for every graded notebook (about 0.05 s of CPU for the week-3 figures, once
matplotlib is imported). Drawn on matplotlib's Agg canvas directly (no pyplot: no global figure
manager, safe in threads), imported when the first image is drawn, not with this module. An
Axes with its ticks costs more than everything else in a panel, and a Text artist nearly a
millisecond, so there are neither: a panel's lines are the figure's own artists placed by
transforms (:class:`_Panel`), its frame, grid and ticks a few more lines, and the numbers and
titles are set with FreeType once per text (cached) and stamped into the pixels. The PNG has
a 64-colour palette: a third of the bytes of RGB, and quicker to write.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from matplotlib.figure import Figure as MplFigure

    from grader.result import Figure

    Array = npt.NDArray[np.float64]

__all__ = ["drawable", "render_all", "render_task", "title"]

REFERENCE: dict[str, Any] = {"color": "#6e7781", "linestyle": "--", "linewidth": 2.0, "zorder": 2}
STUDENT: dict[str, Any] = {"color": "#0969da", "linestyle": "-", "linewidth": 1.8, "zorder": 3}
MARKERS: dict[str, Any] = {"marker": "o", "markersize": 2.8}  # on the errors per epoch
REGION_COLOURS = {"+": (0xDD, 0xF4, 0xFF), "-": (0xFF, 0xE6, 0xCC), "?": (0xEA, 0xEE, 0xF2)}
POINTS: tuple[tuple[float, dict[str, Any]], ...] = (
    (1.0, {"color": "#0969da", "marker": "o", "markersize": 3.5, "markerfacecolor": "none", "markeredgewidth": 1.0}),
    (-1.0, {"color": "#bc4c00", "marker": "x", "markersize": 3.5, "markeredgewidth": 1.0}),
)
POINT_OTHER: dict[str, Any] = {"color": "#57606a", "marker": "s", "markersize": 2.5, "markeredgewidth": 0.6}
FRAME, GRID = "#8c959f", "#d8dee4"
INK_RGB = (0x24, 0x29, 0x2F)  # the numbers and titles

PANEL_WIDTH, PANEL_HEIGHT = 3.0, 2.4  # inches, each panel with its margins
DPI = 100
# margins inside a panel, inches: room for the y numbers, the x numbers and the title
LEFT, RIGHT, BOTTOM, TOP = 0.50, 0.12, 0.28, 0.26
TICK = 2.5 / 72  # tick length, inches
NUMBER_SIZE, TITLE_SIZE = 7.0, 9.0
NUMBER_FONT, TITLE_FONT = "DejaVuSans.ttf", "DejaVuSansMono.ttf"  # in matplotlib's mpl-data/fonts/ttf
MARGIN = 0.05  # of the data's span, around it
LIMIT = 1e12  # values beyond this (an overflow, inf) are drawn at it: off the chart, not a crash
MAX_GRID = 400  # a regions grid with more cells a side is not drawn (the grader makes 50)
MAX_POINTS = 5000

TITLES = {"loss": "mean((A−Y)²)", "errors": "errors", "regions": "X[:, 0:2]"}
MINUS = "\u2212"
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


# -- reading the data -------------------------------------------------------------------------
def _array(value: Any, ndim: int) -> Array | None:
    """``value`` as an array of floats of ``ndim`` (1 or 2) dimensions, or None when it is not a
    non-empty list of numbers. ``null`` (a value that was not finite) is nan: a gap; beyond ±LIMIT
    (an overflow) is drawn at ±LIMIT."""
    import numpy as np

    if not isinstance(value, (list, tuple)) or not value:
        return None
    items = [_null(v) for v in value] if ndim == 1 else [
        [_null(v) for v in row] if isinstance(row, (list, tuple)) else row for row in value]
    try:
        arr = np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    if arr.ndim != ndim:
        return None
    return np.clip(arr, -LIMIT, LIMIT)


def _null(value: Any) -> Any:
    return math.nan if value is None else value


def _lines(data: Mapping[str, Any]) -> list[tuple[Array, Array, dict[str, Any]]]:
    """(x, y, style) of the reference's and then the student's line, those with a point to draw."""
    import numpy as np

    x = _array(data.get("x"), 1)
    if x is None:
        return []
    out = []
    for key, style in (("reference", REFERENCE), ("student", STUDENT)):
        y = _array(data.get(key), 1)
        if y is None:
            continue
        n = min(len(x), len(y))
        if np.isfinite(x[:n] + y[:n]).any():
            out.append((x[:n], y[:n], style))
    return out


def _limits(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    try:
        lo, hi = float(value[0]), float(value[1])
    except (TypeError, ValueError, OverflowError):
        return None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and hi - lo < 2 * LIMIT):
        return None
    return lo, hi


def _grid(data: Mapping[str, Any]) -> tuple[str, int, tuple[float, float], tuple[float, float]] | None:
    """The regions' grid, its cells a side and its x and y limits, when they fit together."""
    n, grid = data.get("n"), data.get("grid")
    xlim, ylim = _limits(data.get("xlim")), _limits(data.get("ylim"))
    if (not isinstance(n, int) or isinstance(n, bool) or not 0 < n <= MAX_GRID or not isinstance(grid, str)
            or len(grid) != n * n or xlim is None or ylim is None):
        return None
    return grid, n, xlim, ylim


def _data(figure: Figure) -> Mapping[str, Any]:
    return figure.data if isinstance(figure.data, Mapping) else {}


def drawable(figure: Figure) -> bool:
    """Whether ``figure`` gets a panel: a curve or series with a line to draw (the reference's at
    least), a regions figure whose grid fits its size and limits."""
    if figure.kind in ("curve", "series"):
        return bool(_lines(_data(figure)))
    if figure.kind == "regions":
        return _grid(_data(figure)) is not None
    return False


def title(figure: Figure) -> str:
    """The panel's title, as code: ``sigmoid(x)``, ``mean((A−Y)²)``, ``errors``, ``X[:, 0:2]``."""
    if figure.kind == "curve":
        function = _data(figure).get("function")
        name = function if isinstance(function, str) and function else figure.name
        return f"{name[:40]}(x)"
    return TITLES.get(figure.name, figure.name[:40])


# -- axes: limits, ticks and their numbers ----------------------------------------------------
def _span(values: Sequence[Array], log: bool) -> tuple[float, float]:
    """The view's limits around the finite ``values`` (positive ones on a log axis), with margins."""
    import numpy as np

    finite = [v[np.isfinite(v) & (v > 0)] if log else v[np.isfinite(v)] for v in values]
    finite = [f for f in finite if f.size]
    if not finite:
        return (0.1, 10.0) if log else (0.0, 1.0)
    lo, hi = min(float(f.min()) for f in finite), max(float(f.max()) for f in finite)
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    if hi - lo <= 1e-12 * max(abs(lo), abs(hi), 1.0):
        half = 0.5 if log else max(abs(lo) * 0.1, 0.5)
        lo, hi = lo - half, hi + half
    pad = (hi - lo) * MARGIN
    lo, hi = lo - pad, hi + pad
    return (10.0 ** lo, 10.0 ** hi) if log else (lo, hi)


def _ticks(lo: float, hi: float, *, log: bool = False, integer: bool = False) -> list[float]:
    """Round values between ``lo`` and ``hi`` to mark: 4 to 7 of them, decades on a log axis."""
    from matplotlib.ticker import MaxNLocator

    if log:
        first, last = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
        decades = [10.0 ** k for k in range(first, last + 1)]
        if len(decades) >= 3:
            return decades[:: math.ceil(len(decades) / 6)]
        subs = [m * 10.0 ** k for k in range(first - 1, last + 1) for m in (1.0, 2.0, 5.0)]
        inside = [v for v in subs if lo <= v <= hi]
        if 2 <= len(inside) <= 7:
            return inside
        if len(decades) == 2:
            return decades
    values = MaxNLocator(nbins=5, integer=integer, min_n_ticks=2).tick_values(lo, hi)
    eps = (hi - lo) * 1e-9
    return [float(v) for v in values if lo - eps <= v <= hi + eps]


def _numbers(values: Sequence[float], *, log: bool = False) -> list[str]:
    """The ticks' numbers as text: a common number of decimals (``0.25``, ``0.50``), ``0.01`` on
    a log axis, powers of ten for the very large or small (``10⁻⁵``, ``4.5×10⁹``); the minus
    sign is U+2212."""
    if not values:
        return []
    big = max(abs(v) for v in values)
    step = min((abs(b - a) for a, b in zip(values, values[1:], strict=False) if b != a), default=big or 1.0)
    if log:
        return [f"{v:g}" for v in values] if min(values) >= 1e-3 and big < 1e4 else [_power(v) for v in values]
    if big >= 1e6 or step < 1e-4:
        return [_power(v) for v in values]
    decimals = next(d for d in range(9) if d == 8 or all(abs(v - round(v, d)) <= step * 1e-6 for v in values))
    out = []
    for v in values:
        text = f"{v:.{decimals}f}"
        out.append(text.lstrip("-") if float(text) == 0 else text.replace("-", MINUS))
    return out


def _power(value: float) -> str:
    """``value`` as a power of ten, times what it takes: ``10⁻²``, ``4.5×10⁹``, ``−10³``, ``0``."""
    if abs(value) < 1e-300:
        return "0"
    exponent = math.floor(math.log10(abs(value)) + 1e-9)
    mantissa = round(abs(value) / 10.0 ** exponent, 3)
    power = "10" + str(exponent).translate(SUPERSCRIPT)
    text = power if mantissa == 1 else f"{mantissa:g}×{power}"
    return MINUS + text if value < 0 else text


# -- text: stamped into the pixels ------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def _glyphs(text: str, font: str, size: float) -> tuple[npt.NDArray[np.uint8], int]:
    """``text`` set in matplotlib's own copy of the DejaVu ``font`` (by file: a system's DejaVu
    may be another version) at ``size`` points: its coverage (0-255, cropped to the ink) and its
    baseline's row in it. Cached: a report's numbers are mostly the same few (``0.25``, ``−5.0``)."""
    from pathlib import Path

    import matplotlib
    import numpy as np
    from matplotlib.font_manager import get_font

    face = get_font(str(Path(matplotlib.get_data_path(), "fonts", "ttf", font)))  # one per thread
    face.clear()
    face.set_size(size, DPI)
    face.set_text(text, 0.0)
    face.draw_glyphs_to_bitmap(antialiased=True)
    image = np.asarray(face.get_image(), dtype=np.uint8)
    descent = round(face.get_descent() / 64)
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    if not rows.size:
        return np.zeros((1, 1), dtype=np.uint8), 1
    ink = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy()
    ink.flags.writeable = False  # shared by every caller
    return ink, ink.shape[0] - descent


def _stamp(rgb: npt.NDArray[np.uint8], label: _Label) -> None:
    """Draw ``label`` into ``rgb`` (rows from the top), clipped to it."""
    import numpy as np

    text, font, size, x, y, anchor = label
    alpha, baseline = _glyphs(text, font, size)
    h, w = alpha.shape
    left = round(x - w / 2) if anchor in ("top", "baseline") else round(x - w)
    top = {"top": round(y), "middle": round(y - h / 2), "baseline": round(y - baseline)}[anchor]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + w, rgb.shape[1]), min(top + h, rgb.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    a = alpha[y0 - top:y1 - top, x0 - left:x1 - left, None].astype(np.float32) / 255
    region = rgb[y0:y1, x0:x1]
    region[...] = (region * (1 - a) + np.asarray(INK_RGB, dtype=np.float32) * a + 0.5).astype(np.uint8)


# (text, font file, size in points, x, y in pixels from the top left, anchor: "top" (x is the
# middle, y the top), "middle" (x is the right end, y the middle), "baseline" (x is the middle))
_Label = tuple[str, str, float, float, float, str]


class _Panel:
    """One panel of an image: a box on the figure (inches from its lower left corner) showing
    data between ``xlim`` and ``ylim`` (the y limits in log10 units on a log axis). Its lines are
    the figure's own artists, placed by transforms: no matplotlib Axes (an Axes and its ticks
    cost more than all of a panel's lines), so the frame, grid and ticks are drawn here, and the
    numbers and the title are stamped into the pixels afterwards (``labels``)."""

    def __init__(self, fig: MplFigure, box: tuple[float, float, float, float], xlim: tuple[float, float],
                 ylim: tuple[float, float], *, log: bool = False) -> None:
        from matplotlib.transforms import Bbox, BboxTransform, BboxTransformTo, TransformedBbox
        from matplotlib.transforms import blended_transform_factory as blend

        self.fig, self.box, self.log = fig, box, log
        self.display = TransformedBbox(Bbox.from_bounds(*box), fig.dpi_scale_trans)
        self.data = BboxTransform(Bbox([[xlim[0], ylim[0]], [xlim[1], ylim[1]]]), self.display)
        self.axes = BboxTransformTo(self.display)  # (0, 0) lower left, (1, 1) upper right
        self.xs = blend(self.data, self.axes)  # x: data, y: the box
        self.ys = blend(self.axes, self.data)  # x: the box, y: data
        self.labels: list[_Label] = []

    def y(self, values: Array) -> Array:
        """Data values as the panel places them (their log10 on a log axis; nan where not positive)."""
        import numpy as np

        if not self.log:
            return values
        positive = values > 0
        return np.where(positive, np.log10(np.where(positive, values, 1.0)), np.nan)

    def line(self, x: Array, y: Array, **style: Any) -> None:
        from matplotlib.lines import Line2D

        artist = Line2D(x, self.y(y), transform=self.data, **style)
        artist.set_clip_box(self.display)
        self.fig.add_artist(artist)

    def image(self, rgb: npt.NDArray[np.uint8]) -> None:
        """An image filling the box, its first row at the bottom."""
        from matplotlib.image import BboxImage

        artist = BboxImage(self.display, interpolation="nearest", origin="lower", zorder=0)
        artist.set_data(rgb)
        self.fig.add_artist(artist)

    def decorate(self, text: str, xticks: list[float], yticks: list[float]) -> None:
        """The frame (left and bottom), light grid lines, outward ticks with their numbers, the title."""
        import numpy as np
        from matplotlib.lines import Line2D

        nan = math.nan
        ypos = [float(v) for v in self.y(np.asarray(yticks, dtype=np.float64))]
        x, y, width, height = self.box
        tx, ty = TICK / height, TICK / width  # a tick's length in units of the box
        grid_x = [c for v in xticks for c in (v, v, nan)]
        grid_y = [c for v in ypos for c in (v, v, nan)]
        for xdata, ydata, transform, colour, zorder in (
            (grid_x, [0.0, 1.0, nan] * len(xticks), self.xs, GRID, 0.5),
            ([0.0, 1.0, nan] * len(ypos), grid_y, self.ys, GRID, 0.5),
            (grid_x, [0.0, -tx, nan] * len(xticks), self.xs, FRAME, 4),
            ([0.0, -ty, nan] * len(ypos), grid_y, self.ys, FRAME, 4),
            ([0.0, 0.0, 1.0], [1.0, 0.0, 0.0], self.axes, FRAME, 4),
        ):
            self.fig.add_artist(Line2D(xdata, ydata, transform=transform, color=colour, zorder=zorder,
                                       linewidth=0.5 if colour == GRID else 0.8, solid_capstyle="butt"))
        # pixels from the top left of the image
        top = self.fig.get_figheight() * DPI
        gap = (TICK + 2.5 / 72) * DPI
        below = top - y * DPI + gap
        for v, label in zip(xticks, _numbers(xticks), strict=True):
            px = float(self.xs.transform((v, 0.0))[0])
            self.labels.append((label, NUMBER_FONT, NUMBER_SIZE, px, below, "top"))
        for v, label in zip(ypos, _numbers(yticks, log=self.log), strict=True):
            py = top - float(self.ys.transform((0.0, v))[1])
            self.labels.append((label, NUMBER_FONT, NUMBER_SIZE, x * DPI - gap, py, "middle"))
        self.labels.append((text, TITLE_FONT, TITLE_SIZE, (x + width / 2) * DPI, top - (y + height) * DPI - 5,
                            "baseline"))


# -- the panels -------------------------------------------------------------------------------
def _draw_lines(fig: MplFigure, box: tuple[float, float, float, float], figure: Figure) -> _Panel:
    """A curve or a series: the reference's line, then the student's over it."""
    data = _data(figure)
    lines = _lines(data)
    log = figure.kind == "series" and data.get("log") is True
    if log and not any(bool((y > 0).any()) for _, y, _ in lines):
        log = False  # nothing positive to put on a log axis
    errors = figure.kind == "series" and figure.name == "errors"
    xlim = _span([x for x, _, _ in lines], False)
    ylim = _span([y for _, y, _ in lines], log)
    panel = _Panel(fig, box, xlim, (math.log10(ylim[0]), math.log10(ylim[1])) if log else ylim, log=log)
    for x, y, style in lines:
        panel.line(x, y, **style, **(MARKERS if errors else {}))
    panel.decorate(title(figure), _ticks(*xlim, integer=errors), _ticks(*ylim, log=log, integer=errors))
    return panel


def _draw_regions(fig: MplFigure, box: tuple[float, float, float, float], figure: Figure) -> _Panel:
    """The predicted classes over the grid, the points over them."""
    import numpy as np

    data = _data(figure)
    found = _grid(data)
    assert found is not None  # noqa: S101 - drawable() chose the panels
    grid, n, xlim, ylim = found
    panel = _Panel(fig, box, xlim, ylim)
    lookup = np.empty((128, 3), dtype=np.uint8)
    lookup[:] = REGION_COLOURS["?"]
    for char, colour in REGION_COLOURS.items():
        lookup[ord(char)] = colour
    codes = np.frombuffer(grid.encode("ascii", errors="replace"), dtype=np.uint8)
    if codes.size != n * n:  # a character beyond ASCII: one cell still
        codes = np.frombuffer("".join(c if c in "+-" else "?" for c in grid).encode("ascii"), dtype=np.uint8)
    panel.image(lookup[codes].reshape(n, n, 3))
    points = _array(data.get("points"), 2)
    if points is not None and points.shape[1] == 2:
        points = points[:MAX_POINTS]
        labels = _array(data.get("labels"), 1)
        if labels is None or labels.size != len(points):
            labels = np.zeros(len(points))
        known = np.zeros(len(points), dtype=bool)
        for value, style in POINTS:
            mine = labels == value
            known |= mine
            if mine.any():
                panel.line(points[mine, 0], points[mine, 1], linestyle="none", zorder=3, **style)
        if not known.all():
            panel.line(points[~known, 0], points[~known, 1], linestyle="none", zorder=3, **POINT_OTHER)
    panel.decorate(title(figure), _ticks(*xlim), _ticks(*ylim))
    return panel


def _rgb(colour: str | tuple[int, int, int]) -> tuple[int, int, int]:
    if isinstance(colour, tuple):
        return colour
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@functools.lru_cache(maxsize=1)
def _palette() -> tuple[int, ...]:
    """The PNG's palette: the colours drawn, and 7 steps between each that is drawn on and each
    drawn over it (the edges of lines and letters), blue over grey too. Every image has the same
    one, so a colour is the same in every image, white is white, and quantizing is quick."""
    grounds = [(255, 255, 255), *REGION_COLOURS.values(), _rgb(GRID)]
    inks = [INK_RGB, *(_rgb(s["color"]) for s in (STUDENT, REFERENCE, POINT_OTHER, *(s for _, s in POINTS))),
            _rgb(FRAME)]
    pairs = [(g, i) for g in grounds for i in inks] + [(_rgb(REFERENCE["color"]), _rgb(STUDENT["color"]))]
    colours = dict.fromkeys([*grounds, *inks])
    for a, b in pairs:
        for k in range(1, 8):
            r, g, bl = (round(a[c] + (b[c] - a[c]) * k / 8) for c in range(3))
            colours[(r, g, bl)] = None
    flat = [c for colour in list(colours)[:256] for c in colour]
    return tuple(flat + [0] * (768 - len(flat)))


def render_task(figures: Sequence[Figure]) -> str | None:
    """One part's figures as one PNG image, side by side in their order, as a
    ``data:image/png;base64,...`` URI; None when none of them has anything to draw."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure
    from PIL import Image

    chosen = [f for f in figures if drawable(f)]
    if not chosen:
        return None
    fig = MplFigure(figsize=(PANEL_WIDTH * len(chosen), PANEL_HEIGHT), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    w, h = PANEL_WIDTH - LEFT - RIGHT, PANEL_HEIGHT - BOTTOM - TOP
    panels = [(_draw_regions if f.kind == "regions" else _draw_lines)(fig, (i * PANEL_WIDTH + LEFT, BOTTOM, w, h), f)
              for i, f in enumerate(chosen)]
    fig.canvas.draw()
    rgb = np.array(canvas.renderer.buffer_rgba(), dtype=np.uint8)[..., :3]
    for panel in panels:
        for label in panel.labels:
            _stamp(rgb, label)
    palette = Image.new("P", (1, 1))
    palette.putpalette(_palette())
    image = Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="png")  # no metadata: no date, no version
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def render_all(figures: Sequence[Figure]) -> dict[str, str]:
    """{task: its image's data URI} for every task with a figure to draw, in the order the tasks
    first appear among ``figures``."""
    tasks: dict[str, list[Figure]] = {}
    for figure in figures:
        tasks.setdefault(figure.task, []).append(figure)
    out = {}
    for task, group in tasks.items():
        uri = render_task(group)
        if uri is not None:
            out[task] = uri
    return out
