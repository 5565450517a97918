"""The report's pictures (grader.report.plots): one PNG per part, decoded and looked at.

The images are decoded with Pillow (matplotlib depends on it) and their pixels checked where it
matters: the student's blue is there or not, a regions grid's first row is at the bottom, the
texts stamped in are numbers and the panels' code titles, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.report import plots
from grader.result import Figure

Image = pytest.importorskip("PIL.Image")

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "data:image/png;base64,"
BLUE = (0x09, 0x69, 0xDA)  # the student's line
GREY = (0x6E, 0x77, 0x81)  # the reference's
PANEL_PX = (round(plots.PANEL_WIDTH * plots.DPI), round(plots.PANEL_HEIGHT * plots.DPI))


def r5(values: Any) -> list[float | None]:
    """As the grader stores them: 5 significant digits, null for what is not finite."""
    return [None if not math.isfinite(v) else float(f"{v:.5g}") for v in np.asarray(values, dtype=float).tolist()]


def week3() -> list[Figure]:
    """A realistic result's figures: three activations, sigmoid_prime, the loss over 1,000
    steps (250 points), the perceptron's errors per epoch and its regions on a 50 x 50 grid."""
    x = np.linspace(-6, 6, 121)
    sig = 1 / (1 + np.exp(-x))
    steps = np.unique(np.linspace(0, 999, 250).round())
    loss = 0.25 * np.exp(-steps / 200) + 0.01
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal([5.0, 1.4], 0.3, (50, 2)), rng.normal([6.0, 4.3], 0.4, (50, 2))])
    gx, gy = np.meshgrid(np.linspace(4, 7.5, 50), np.linspace(0.5, 5.5, 50))
    grid = "".join("+" if v else "-" for v in (gy.ravel() > 3.0 - 0.2 * (gx.ravel() - 5)))
    return [
        Figure("step_function", "curve", "activations",
               {"function": "step_function", "x": r5(x), "reference": r5(x > 0), "student": r5(x >= 0)}),
        Figure("sigmoid", "curve", "activations",
               {"function": "sigmoid", "x": r5(x), "reference": r5(sig), "student": r5(sig)}),
        Figure("relu", "curve", "activations",
               {"function": "ReLU", "x": r5(x), "reference": r5(np.maximum(0, x)), "student": r5(np.abs(x))}),
        Figure("sigmoid_prime", "curve", "backprop",
               {"function": "sigmoid_prime", "x": r5(x), "reference": r5(sig * (1 - sig)), "student": r5(sig)}),
        Figure("loss", "series", "training",
               {"x": r5(steps), "reference": r5(loss), "student": r5(loss * 1.3), "log": True}),
        Figure("errors", "series", "perceptron",
               {"x": list(range(1, 11)), "reference": [2, 2, 3, 2, 1, 0, 0, 0, 0, 0],
                "student": [2, 2, 3, 2, 1, 1, 0, 0, 0, 0], "log": False}),
        Figure("regions", "regions", "perceptron",
               {"xlim": [4, 7.5], "ylim": [0.5, 5.5], "n": 50, "grid": grid, "points": [r5(p) for p in points],
                "labels": [-1] * 50 + [1] * 50, "features": 4, "refit": True}),
    ]


def decode(uri: str | None) -> Any:
    """The image of a data URI, as an RGB array; checks it is a PNG on the way."""
    assert uri is not None and uri.startswith(PREFIX)
    raw = base64.b64decode(uri[len(PREFIX):], validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(raw)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def near(rgb: Any, colour: tuple[int, int, int], tolerance: int = 24) -> int:
    """How many pixels are within ``tolerance`` of ``colour`` (the palette moves colours a little)."""
    return int((np.abs(rgb.astype(int) - np.array(colour)).max(axis=-1) <= tolerance).sum())


# -- one image per part -------------------------------------------------------------------
def test_one_image_per_part_in_order_of_first_appearance_sized_by_its_panels() -> None:
    images = plots.render_all(week3())
    assert list(images) == ["activations", "backprop", "training", "perceptron"]
    panels = {"activations": 3, "backprop": 1, "training": 1, "perceptron": 2}
    for task, uri in images.items():
        rgb = decode(uri)
        assert rgb.shape == (PANEL_PX[1], PANEL_PX[0] * panels[task], 3), task
        assert near(rgb, BLUE) > 50 and near(rgb, GREY, 12) > 20, f"{task}: both lines drawn"
    assert sum(len(uri) for uri in images.values()) < 120_000, "the images are small"


def test_figures_of_one_part_are_gathered_in_their_order_wherever_they_come() -> None:
    f = week3()
    images = plots.render_all([f[3], f[0], f[4], f[1]])
    assert list(images) == ["backprop", "activations", "training"]
    assert decode(images["activations"]).shape[1] == 2 * PANEL_PX[0]
    # in the given order: the first figure's panel on the left, as it is drawn alone
    one = decode(plots.render_task([f[0], f[2]]))
    other = decode(plots.render_task([f[2], f[0]]))
    assert not np.array_equal(one, other)
    assert np.array_equal(one[:, :PANEL_PX[0]], decode(plots.render_task([f[0]])))


def test_nothing_to_draw_is_no_image() -> None:
    assert plots.render_task([]) is None
    assert plots.render_all([]) == {}
    nothing = [
        Figure("sigmoid", "curve", "activations", {}),  # no data at all
        Figure("sigmoid", "curve", "activations", {"function": "sigmoid", "x": "1 2 3", "reference": [1, 2, 3]}),
        Figure("loss", "series", "training", {"x": [1, 2], "reference": [None, None], "log": True}),
        Figure("regions", "regions", "perceptron", {"xlim": [0, 1], "ylim": [0, 1], "n": 2, "points": [[0.5, 0.5]],
                                                     "labels": [1], "features": 2, "refit": False},
               "Perceptron could not be called: TypeError: x"),  # no student side: no grid
        Figure("surface", "surface", "forward", {"x": [1], "reference": [1]}),  # a kind not drawn
    ]
    assert not any(plots.drawable(f) for f in nothing)
    assert plots.render_all(nothing) == {}


def test_a_function_that_could_not_be_called_still_shows_the_reference() -> None:
    curve = week3()[1]
    alone = Figure(curve.name, curve.kind, curve.task,
                   {k: v for k, v in curve.data.items() if k != "student"},
                   "sigmoid could not be called: TypeError: '>' not supported")
    assert plots.drawable(alone)
    rgb = decode(plots.render_task([alone]))
    assert near(rgb, GREY, 12) > 50 and near(rgb, BLUE) == 0
    both = decode(plots.render_task([curve]))
    assert near(both, BLUE) > 50


# -- regions --------------------------------------------------------------------------------
def regions(grid: str, n: int, changes: dict[str, Any] | None = None, **more: Any) -> Figure:
    data = {"xlim": [0.0, 1.0], "ylim": [0.0, 2.0], "n": n, "grid": grid, "points": [], "labels": [], "features": 2,
            "refit": False}
    return Figure("regions", "regions", "perceptron", {**data, **(changes or {}), **more})


def test_the_regions_first_row_is_at_the_bottom_and_the_classes_have_their_colours() -> None:
    n = 10
    grid = "+" * (n * n // 2) + "-" * (n * n // 2)  # lower half class 1, upper half class -1
    rgb = decode(plots.render_task([regions(grid, n)]))
    left, right = round(plots.LEFT * plots.DPI), round((plots.PANEL_WIDTH - plots.RIGHT) * plots.DPI)
    top, bottom = round(plots.TOP * plots.DPI), round((plots.PANEL_HEIGHT - plots.BOTTOM) * plots.DPI)
    middle = (left + right) // 2
    low, high = rgb[bottom - (bottom - top) // 4, middle], rgb[top + (bottom - top) // 4, middle]
    assert tuple(int(v) for v in low) == pytest.approx(plots.REGION_COLOURS["+"], abs=6)
    assert tuple(int(v) for v in high) == pytest.approx(plots.REGION_COLOURS["-"], abs=6)
    unknown = decode(plots.render_task([regions("?" * (n * n), n)]))
    assert tuple(int(v) for v in unknown[(top + bottom) // 2, middle]) == pytest.approx(plots.REGION_COLOURS["?"],
                                                                                         abs=6)


def test_the_points_are_drawn_by_label() -> None:
    points = [[0.2, 0.5], [0.8, 1.5], [0.5, 1.0]]
    rgb = decode(plots.render_task([regions("?" * 4, 2, points=points, labels=[1, -1, None])]))
    assert near(rgb, BLUE) > 5 and near(rgb, (0xBC, 0x4C, 0x00)) > 5
    none = decode(plots.render_task([regions("?" * 4, 2)]))
    assert near(none, BLUE) == 0


@pytest.mark.parametrize("change", [
    {"grid": "+-+"}, {"grid": "+" * 101}, {"n": 0}, {"n": True}, {"n": "10"}, {"grid": None},
    {"xlim": [1, 0]}, {"ylim": [0, math.inf]}, {"xlim": [0]}, {"ylim": "0 1"}, {"n": 10_000, "grid": ""},
])
def test_a_regions_figure_that_does_not_fit_is_no_panel_and_no_crash(change: dict[str, Any]) -> None:
    bad = regions("+" * 100, 10, change)
    assert plots.drawable(regions("+" * 100, 10))
    assert not plots.drawable(bad)
    assert plots.render_task([bad]) is None
    errors = week3()[5]
    rgb = decode(plots.render_task([errors, bad]))
    assert rgb.shape[1] == PANEL_PX[0], "the errors alone"


def test_a_grid_of_unexpected_characters_is_drawn_as_unknown() -> None:
    rgb = decode(plots.render_task([regions("é" * 4, 2)]))
    assert near(rgb, plots.REGION_COLOURS["?"], 3) > 1000


# -- strange values -------------------------------------------------------------------------
@pytest.mark.parametrize("student", [
    [None] * 5, [math.inf, -math.inf, 1e308, -1e308, 0], [1e12, 2e12, 3e12, 4e12, 5e12], [0, 0, 0, 0, 0],
    [1, 2], [1, 2, 3, 4, 5, 6, 7], ["a", "b", "c", "d", "e"], [[1], [2], [3], [4], [5]], [True, False, True, 1, 0],
    [1e-9, 2e-9, 3e-9, 4e-9, 5e-9],
])
@pytest.mark.parametrize("log", [False, True])
def test_strange_values_are_drawn_or_left_out_never_a_crash(student: list[Any], log: bool) -> None:
    figure = Figure("loss", "series", "training",
                    {"x": [0, 1, 2, 3, 4], "reference": [0.3, 0.2, 0.0, -1, None], "student": student, "log": log})
    decode(plots.render_task([figure]))  # the reference at least


def test_a_log_axis_with_nothing_positive_falls_back_to_a_linear_one() -> None:
    figure = Figure("loss", "series", "training", {"x": [0, 1, 2], "reference": [0, -1, -2], "log": True})
    decode(plots.render_task([figure]))


# -- words: none ----------------------------------------------------------------------------
NUMBER = re.compile(r"^\u2212?(\d+(\.\d+)?|(\d+(\.\d+)?×)?10[⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)$")


def test_the_images_hold_only_numbers_and_code_titles(monkeypatch: pytest.MonkeyPatch) -> None:
    stamped: list[str] = []
    stamp = plots._stamp
    monkeypatch.setattr(plots, "_stamp", lambda rgb, label: (stamped.append(label[0]), stamp(rgb, label)))
    huge = {"function": "ReLU", "x": [0, 1, 2], "reference": [0, 1, 2], "student": [0, 5e9, 1e-7]}
    figures = [*week3(), Figure("relu", "curve", "activations", huge)]
    plots.render_all(figures)
    titles = {"step_function(x)", "sigmoid(x)", "ReLU(x)", "sigmoid_prime(x)", "mean((A−Y)²)", "errors", "X[:, 0:2]"}
    assert titles <= set(stamped)
    words = [text for text in stamped if text not in titles and not NUMBER.match(text)]
    assert not words, f"words in an image: {words}"
    assert [plots.title(f) for f in week3()] == ["step_function(x)", "sigmoid(x)", "ReLU(x)", "sigmoid_prime(x)",
                                                 "mean((A−Y)²)", "errors", "X[:, 0:2]"]


def test_tick_numbers() -> None:
    assert plots._numbers([0, 0.25, 0.5, 0.75, 1.0]) == ["0.00", "0.25", "0.50", "0.75", "1.00"]
    assert plots._numbers([-5.0, -2.5, 0.0, 2.5, 5.0]) == ["−5.0", "−2.5", "0.0", "2.5", "5.0"]
    assert plots._numbers([1, 2, 3]) == ["1", "2", "3"]
    assert plots._numbers([0.01, 0.02, 0.05, 0.1], log=True) == ["0.01", "0.02", "0.05", "0.1"]
    assert plots._numbers([1e-6, 1e-4, 1e-2], log=True) == ["10⁻⁶", "10⁻⁴", "10⁻²"]
    assert plots._numbers([0, 1.5e9, 3e9]) == ["0", "1.5×10⁹", "3×10⁹"]
    assert plots._numbers([-2e-5, 0, 2e-5]) == ["−2×10⁻⁵", "0", "2×10⁻⁵"]
    assert plots._ticks(0.01, 0.3, log=True) == pytest.approx([0.01, 0.02, 0.05, 0.1, 0.2])
    assert plots._ticks(1e-6, 0.5, log=True) == pytest.approx([1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
    assert plots._ticks(0.55, 10.45, integer=True) == [2, 4, 6, 8, 10]


# -- reproducible, no global state ----------------------------------------------------------
def test_the_same_figures_give_the_same_bytes_here_in_threads_and_in_another_process() -> None:
    figures = week3()
    first = plots.render_all(figures)
    assert plots.render_all(figures) == first
    found: list[dict[str, str]] = []
    threads = [threading.Thread(target=lambda: found.append(plots.render_all(figures))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == [first] * 3
    script = (
        "import hashlib, json, sys\n"
        "from grader.report import plots\n"
        "from grader.result import Figure\n"
        "loaded = 'matplotlib' in sys.modules\n"
        "figures = [Figure.from_dict(f) for f in json.load(sys.stdin)]\n"
        "out = {k: hashlib.sha256(v.encode()).hexdigest() for k, v in plots.render_all(figures).items()}\n"
        "print(json.dumps({'loaded': loaded, 'images': out}))\n"
    )
    done = subprocess.run(  # noqa: S603 - our interpreter running a fixed script
        [sys.executable, "-c", script], input=json.dumps([f.to_dict() for f in figures]), capture_output=True,
        text=True, cwd=ROOT, timeout=120, check=True)
    other = json.loads(done.stdout)
    assert other["images"] == {k: hashlib.sha256(v.encode()).hexdigest() for k, v in first.items()}
    assert other["loaded"] is False, "importing grader.report.plots does not import matplotlib"


def test_no_pyplot_figure_is_left_behind() -> None:
    pyplot = pytest.importorskip("matplotlib.pyplot")
    before = pyplot.get_fignums()  # other tests run notebook cells that plot in this process
    plots.render_all(week3())
    assert pyplot.get_fignums() == before


def test_the_png_carries_no_date_or_version() -> None:
    uri = plots.render_task(week3()[:1])
    assert uri is not None
    raw = base64.b64decode(uri[len(PREFIX):])
    chunks = []
    at = 8
    while at < len(raw):
        length = int.from_bytes(raw[at:at + 4], "big")
        chunks.append(raw[at + 4:at + 8].decode("ascii"))
        at += 12 + length
    assert set(chunks) <= {"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "pHYs"}, chunks
    assert b"matplotlib" not in raw and b"Software" not in raw
