"""Figure primitives of the report (matplotlib, Agg backend, no pyplot global state).

Each function returns PNG bytes ready for `verify.render.Figure`. Errors are plotted as
``log10`` values on a linear axis, from their natural logarithms: the exact error of the limit
direction can lie far below float64's smallest number, where a log-scaled axis of the error itself
would show nothing. PNGs carry no timestamp or version metadata, so equal inputs give equal bytes.

Every quantity has one colour and marker in every figure (`STYLE`, the single style table); a
series without a point gets no legend entry (`drawn_labels`, from which captions are written), and
axes span the drawn points, never a shaded band alone.

- `error_figure`: Monte Carlo errors with their Clopper-Pearson intervals (zero observed errors
  drawn as upper ends with a downward marker), exact curves (limit-direction error, Bayes error,
  PRIOR bounds) and shaded bands (the fitted constant band), against psi or ||mu||;
- `convergence_figure`: ``1 - cos(W(t), W_hat)`` against ``t`` on log-log axes;
- `phase_diagram_figure`: errors over a 2-D grid (``||mu||`` against ``d`` or ``n``) as colour
  maps, with theory curves drawn as contours;
- `phase_transition_figure`: an exponent proxy against ``||mu||`` on log-log axes with the hinge
  fit, its knee and the signal at which ``r = 1``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

LOG10_E = 1.0 / math.log(10.0)


def new_figure(width: float = 6.4, height: float = 4.2) -> tuple[Figure, object]:
    """A figure with one axes, on its own Agg canvas (thread- and process-safe, no pyplot)."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


# More legend entries than this go outside the axes, to the right, so they never hide data.
LEGEND_INSIDE_MAX = 5


def _legend(figure: Figure, axes) -> None:
    handles, labels = axes.get_legend_handles_labels()
    if not handles:
        return
    if len(handles) <= LEGEND_INSIDE_MAX:
        axes.legend(fontsize="small")
    else:
        figure.set_figwidth(figure.get_figwidth() + 3.2)
        axes.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def to_png(figure: Figure, dpi: int = 110) -> bytes:
    """PNG bytes without metadata (no software version or date: reruns give equal bytes)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


@dataclass(frozen=True)
class Style:
    """How one quantity is drawn in every figure: colour, marker ('' for none), line ('none' for none)."""

    colour: str
    marker: str = ""
    line: str = "none"


# One colour and marker per quantity across all figures of a report (the report's single style table).
STYLE: dict[str, Style] = {
    "network": Style("#d62728", "o"),            # trained network, Monte Carlo with its CP interval
    "linear": Style("#7f7f7f", "D"),             # sign <w_bar, x>, Monte Carlo with its CP interval
    "limit": Style("#1f77b4", "s"),              # exact Gaussian error of the limit direction w_bar
    "bayes": Style("#ff7f0e", "_"),              # Bayes error
    "bound": Style("#2ca02c", "^"),              # best conditional bound of w_bar
    "prior:CL21": Style("#9467bd", "x"),         # PRIOR bounds, constants 1
    "prior:CGB21": Style("#8c564b", "+"),
    "prior:F22/23": Style("#e377c2", "1"),
    "band": Style("#1f77b4"),                    # fitted constant band (shaded)
    "fit": Style("#17becf", "", "-"),            # a fitted curve (two-segment fit)
    "knee": Style("#17becf", "", ":"),           # the fitted knee
    "r_one": Style("#000000", "", "--"),         # r = 1
    "reference": Style("#000000", "", "-."),     # a reference rate (e.g. 0.06 / log^2 t)
    "benign": Style("#ffffff", "", "-"),         # psi = 1, the benign / harmful boundary (on a colour map)
    "case1": Style("#d62728", "", "-."),         # where Case 1 holds on half the draws
    "case2": Style("#9467bd", "", ":"),          # where Case 2 holds on half the draws
    "bayes_contour": Style("#ff7f0e", "", "--"), # where err(w_bar) is twice the Bayes error
}
FALLBACK = Style("#555555", "o")


def style(quantity: str) -> Style:
    """The style of `quantity` (`STYLE`; other quantities get a neutral grey)."""
    return STYLE.get(quantity, FALLBACK)


@dataclass(frozen=True)
class ErrorSeries:
    """Monte Carlo errors: natural logs of the point estimates and of the interval ends."""

    label: str
    x: Sequence[float]
    log_point: Sequence[float]
    log_lower: Sequence[float]
    log_upper: Sequence[float]
    quantity: str = "network"


@dataclass(frozen=True)
class Curve:
    """An exact curve (natural log of a probability or bound) against x; `quantity` keys `STYLE`."""

    label: str
    x: Sequence[float]
    log_value: Sequence[float]
    quantity: str = "limit"


@dataclass(frozen=True)
class Shade:
    """A shaded band between two curves of natural logs (e.g. C exp(-c_hi psi) .. C exp(-c_lo psi))."""

    label: str
    x: Sequence[float]
    log_low: Sequence[float]
    log_high: Sequence[float]
    quantity: str = "band"


def _finite(values: Sequence[float]) -> np.ndarray:
    values = np.asarray(values, float)
    return values[np.isfinite(values)]


def drawn_labels(series: Sequence[ErrorSeries] = (), curves: Sequence[Curve] = (),
                 shades: Sequence[Shade] = ()) -> list[str]:
    """The labels `error_figure` draws (and lists in its legend): only those with a point to show."""
    labels = [shade.label for shade in shades if len(_finite(shade.log_low)) and len(_finite(shade.log_high))]
    labels += [curve.label for curve in curves if len(_finite(curve.log_value))]
    for s in series:
        seen = np.isfinite(np.asarray(s.log_point, float))
        if seen.any():
            labels.append(s.label)
        if (~seen & np.isfinite(np.asarray(s.log_upper, float))).any():
            labels.append(f"{s.label}: 0 errors (upper end)")
    return labels


def _data_limits(values: list[np.ndarray]) -> tuple[float, float] | None:
    """y limits enclosing every drawn point with a 5% margin (bands never stretch the axis)."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    if finite.size == 0:
        return None
    low, high = float(finite.min()), float(finite.max())
    pad = 0.05 * (high - low) if high > low else 0.5
    return low - pad, high + pad


def error_figure(series: Sequence[ErrorSeries] = (), curves: Sequence[Curve] = (),
                 shades: Sequence[Shade] = (), *, xlabel: str = "ψ", title: str = "",
                 log_x: bool = False) -> bytes:
    """Test error (log10) against `xlabel`, with intervals, exact curves and bands.

    Each quantity is drawn in its `STYLE`; a series without a finite point gets no legend entry;
    the y axis spans the drawn points (and interval ends), not the shaded bands.
    """
    figure, axes = new_figure()
    points: list[np.ndarray] = []
    for shade in shades:
        order = np.argsort(shade.x)
        axes.fill_between(np.asarray(shade.x, float)[order], np.asarray(shade.log_low, float)[order] * LOG10_E,
                          np.asarray(shade.log_high, float)[order] * LOG10_E, alpha=0.2,
                          color=style(shade.quantity).colour, label=shade.label)
    for curve in curves:
        order = np.argsort(curve.x)
        values = np.asarray(curve.log_value, float)[order] * LOG10_E
        if not np.isfinite(values).any():
            continue
        look = style(curve.quantity)
        axes.plot(np.asarray(curve.x, float)[order], values, color=look.colour, marker=look.marker or None,
                  linestyle=look.line, label=curve.label)
        points.append(values)
    for s in series:
        x, point, lower, upper = (np.asarray(a, float) for a in (s.x, s.log_point, s.log_lower, s.log_upper))
        seen = np.isfinite(point)
        look = style(s.quantity)
        if seen.any():
            axes.errorbar(x[seen], point[seen] * LOG10_E,
                          yerr=[(point[seen] - lower[seen]) * LOG10_E, (upper[seen] - point[seen]) * LOG10_E],
                          fmt=look.marker or "o", color=look.colour, capsize=3, label=s.label)
            points += [point[seen] * LOG10_E, lower[seen] * LOG10_E, upper[seen] * LOG10_E]
        unseen = ~seen & np.isfinite(upper)
        if unseen.any():
            # No error observed: only the interval's upper end is known.
            axes.plot(x[unseen], upper[unseen] * LOG10_E, "v", color=look.colour, alpha=0.6,
                      label=f"{s.label}: 0 errors (upper end)")
            points.append(upper[unseen] * LOG10_E)
    limits = _data_limits(points)
    if limits is not None:
        axes.set_ylim(*limits)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("log10 test error")
    if log_x:
        axes.set_xscale("log")
    if title:
        axes.set_title(title)
    _legend(figure, axes)
    axes.grid(alpha=0.3)
    return to_png(figure)


def convergence_figure(curves: dict[str, tuple[Sequence[float], Sequence[float]]], *, title: str = "",
                       reference: float | None = None, groups: dict[str, str] | None = None) -> bytes:
    """``1 - cos(W(t), W_hat)`` against ``t`` (log-log), one line per run.

    Points with ``t < 1`` or a gap ``<= 0`` (exact alignment, or rounding) cannot be drawn on log
    axes and are left out. `groups` maps a curve's label to a group (e.g. its regime): curves are
    then coloured by group with one legend entry per group, which keeps the legend readable for
    many runs. `reference`, if given, draws ``reference / log(t)^2`` (docs/theory.md §2.5: plain GD
    converges in direction at about ``0.06 / log^2 t``).
    """
    figure, axes = new_figure()
    colours = {group: f"C{i % 10}" for i, group in enumerate(dict.fromkeys((groups or {}).values()))}
    labelled: set[str] = set()
    last = 1.0
    for label, (steps, gaps) in curves.items():
        steps, gaps = np.asarray(steps, float), np.asarray(gaps, float)
        keep = (steps >= 1) & (gaps > 0) & np.isfinite(gaps)
        if groups is None:
            # Beyond a dozen runs a per-run legend hides the figure; pass `groups` to label them.
            axes.plot(steps[keep], gaps[keep], marker=".", label=label if len(curves) <= 12 else None)
        else:
            group = groups[label]
            axes.plot(steps[keep], gaps[keep], color=colours[group], lw=0.9, alpha=0.8,
                      label=None if group in labelled else group)
            labelled.add(group)
        if keep.any():
            last = max(last, float(steps[keep].max()))
    if reference is not None and last > 2:
        t = np.logspace(math.log10(2.0), math.log10(last), 100)
        look = style("reference")
        axes.plot(t, reference / np.log(t) ** 2, color=look.colour, linestyle=look.line,
                  label=f"{reference:g} / log² t")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("gradient-descent step t")
    axes.set_ylabel("1 − cos(W(t), Ŵ)")
    if title:
        axes.set_title(title)
    _legend(figure, axes)
    axes.grid(alpha=0.3, which="both")
    return to_png(figure)


def phase_transition_figure(signal: Sequence[float], proxy: Sequence[float], *, knee: float | None = None,
                            slopes: tuple[float, float] | None = None, intercept: float | None = None,
                            r_one_signal: float | None = None, ylabel: str = "(Φ⁻¹(err))²",
                            title: str = "") -> bytes:
    """The exponent proxy against ``||mu||`` (log-log) with the two-segment fit.

    `knee` (natural log of ``||mu||``), `slopes` and `intercept` are those of
    `verify.verdicts.HingeFit`: ``log proxy = intercept + slope (log ||mu|| - knee)`` on each side.
    """
    figure, axes = new_figure()
    signal, proxy = np.asarray(signal, float), np.asarray(proxy, float)
    keep = (signal > 0) & (proxy > 0)
    measured = style("limit")  # the proxy comes from the exact error of the limit direction
    axes.plot(signal[keep], proxy[keep], measured.marker, color=measured.colour, label="from exact err(w_bar)")
    if knee is not None and slopes is not None and intercept is not None and keep.any():
        u = np.linspace(np.log(signal[keep]).min(), np.log(signal[keep]).max(), 200)
        fitted = intercept + np.where(u <= knee, slopes[0], slopes[1]) * (u - knee)
        fit, knee_style = style("fit"), style("knee")
        axes.plot(np.exp(u), np.exp(fitted), color=fit.colour, linestyle=fit.line,
                  label=f"two-segment fit: slopes {slopes[0]:.2f}, {slopes[1]:.2f}")
        axes.axvline(math.exp(knee), color=knee_style.colour, linestyle=knee_style.line,
                     label=f"knee ||μ|| = {math.exp(knee):.3g}")
    if r_one_signal is not None:
        r_one = style("r_one")
        axes.axvline(r_one_signal, color=r_one.colour, linestyle=r_one.line, label=f"r = 1 at ||μ|| = {r_one_signal:.3g}")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("||μ||")
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    _legend(figure, axes)
    axes.grid(alpha=0.3, which="both")
    return to_png(figure)


@dataclass(frozen=True)
class Panel:
    """One colour map of a phase diagram: ``log10`` values on the grid (rows: the y values, columns:
    the signals), and the cells whose value is only an upper end (no error observed), marked ▼."""

    title: str
    log10: np.ndarray
    upper_only: np.ndarray


@dataclass(frozen=True)
class Boundary:
    """A theory curve drawn as the contour ``z = level`` of a field on the mesh ``x`` by ``y``."""

    label: str
    quantity: str
    x: Sequence[float]
    y: Sequence[float]
    z: np.ndarray
    level: float

    def drawn(self) -> bool:
        """Whether the contour exists: the finite field takes values on both sides of `level`."""
        z = np.asarray(self.z, float)
        z = z[np.isfinite(z)]
        return z.size > 0 and z.min() < self.level < z.max()


def cell_edges(centres: Sequence[float]) -> np.ndarray:
    """Cell edges on a log axis: geometric midpoints, and the outer cells mirrored."""
    logs = np.log(np.asarray(centres, float))
    mid = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - mid[0]], mid, [2 * logs[-1] - mid[-1]]]))


def phase_diagram_figure(signals: Sequence[float], values: Sequence[float], panels: Sequence[Panel],
                         boundaries: Sequence[Boundary] = (), marks: dict[tuple[int, int], str] | None = None,
                         *, ylabel: str = "d", title: str = "") -> bytes:
    """Colour maps of log10 errors over a grid of ``||mu||`` (x) and `ylabel` (y), log axes.

    Every `Boundary` that exists (`Boundary.drawn`) is drawn on every panel in its `STYLE`, with one
    legend entry; `marks` (``(row, column) -> text``) annotates cells, e.g. which case applies.
    """
    from matplotlib.lines import Line2D

    figure = Figure(figsize=(5.4 * len(panels) + 1.6, 4.6), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(1, len(panels), squeeze=False)[0]
    x_edges, y_edges = cell_edges(signals), cell_edges(values)
    shown = [b for b in boundaries if b.drawn()]
    for axes, panel in zip(grid, panels):
        mesh = axes.pcolormesh(x_edges, y_edges, np.ma.masked_invalid(panel.log10), cmap="viridis", shading="flat")
        figure.colorbar(mesh, ax=axes, label="log10 error")
        for i in range(len(values)):
            for j in range(len(signals)):
                text = (marks or {}).get((i, j), "") + (" ▼" if panel.upper_only[i, j] else "")
                if text.strip():
                    axes.text(signals[j], values[i], text.strip(), ha="center", va="center", fontsize=7,
                              color="white")
        for boundary in shown:
            look = style(boundary.quantity)
            axes.contour(np.asarray(boundary.x, float), np.asarray(boundary.y, float),
                         np.asarray(boundary.z, float), levels=[boundary.level], colors=[look.colour],
                         linestyles=[look.line], linewidths=1.6)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlim(x_edges[0], x_edges[-1])
        axes.set_ylim(y_edges[0], y_edges[-1])
        # ticks at the grid's own values, printed plainly
        axes.set_xticks(list(signals), [f"{v:g}" for v in signals])
        axes.set_yticks(list(values), [f"{v:g}" for v in values])
        axes.minorticks_off()
        axes.set_xlabel("||μ||")
        axes.set_ylabel(ylabel)
        axes.set_title(panel.title, fontsize="medium")
    if shown:
        handles = [Line2D([], [], color=style(b.quantity).colour, linestyle=style(b.quantity).line,
                          path_effects=None) for b in shown]
        figure.legend(handles, [b.label for b in shown], loc="outside lower center", ncols=min(len(shown), 4),
                      fontsize="small", facecolor="#777777", labelcolor="white")
    if title:
        figure.suptitle(title)
    return to_png(figure)
