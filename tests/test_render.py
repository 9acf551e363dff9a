"""Report rendering and figure primitives (verify.render, verify.plots)."""

from __future__ import annotations

import base64
import math
from html.parser import HTMLParser

import mpmath
import numpy as np
import pytest

from verify.plots import Curve, ErrorSeries, Shade, convergence_figure, error_figure, phase_transition_figure
from verify.render import (
    Figure,
    Paragraph,
    Report,
    Section,
    Table,
    VerdictTable,
    format_log_probability,
    format_value,
    render_html,
    render_markdown,
    write_report,
)
from verify.verdicts import CheckResult


class Assets(HTMLParser):
    """Collects every attribute that could load something: src, href, and the tags used."""

    def __init__(self):
        super().__init__()
        self.sources, self.tags = [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.sources += [value for name, value in attrs if name in ("src", "href")]


def result(verdict, statement, settings=("a",), failing=()):
    return CheckResult(key=statement, statement=statement, provenance="EXACT", section="§2.4",
                       verdict=verdict, explanation=f"why {statement}", settings=settings, failing=failing)


def png(seed: int = 0) -> bytes:
    return error_figure([ErrorSeries("mc", [1.0, 2.0], [-1.0, -2.0], [-1.2, -2.5], [-0.9, -1.8])],
                        title=f"figure {seed}")


def sample_report() -> Report:
    verdicts = VerdictTable((result("PASS", "ok-statement"), result("NOT APPLICABLE", "na-statement"),
                             result("FAIL", "broken-statement", failing=("s7",)),
                             result("INCONCLUSIVE", "open-statement")), caption="EXACT checks")
    return Report("Test report", (
        Section("Errors", (Paragraph("Errors <script>alert(1)</script> & bounds."),
                           Table(("setting", "error", "pipe|cell"), (("weak", 0.123456, True), ("strong", math.inf, None))),
                           Figure("errors", png(), "Error against psi"),
                           Section("Verdicts", (verdicts,)))),
    ))


def test_format_log_probability_below_float64():
    # exp(-5000) underflows float64; mpmath at 50 digits gives the reference mantissa and exponent.
    reference = mpmath.nstr(mpmath.exp(mpmath.mpf(-5000)), 3, min_fixed=1, max_fixed=0)
    mantissa, exponent = reference.split("e")
    assert format_log_probability(-5000.0) == f"{mantissa}e{int(exponent):+d}"
    assert format_log_probability(math.log(9.9996e-5)) == "1.00e-4"  # the rounding carries
    assert format_log_probability(math.log(0.25)) == "2.50e-1"
    # An exact zero (e.g. the Bayes error of noise orthogonal to mu), said as such.
    assert format_log_probability(-math.inf) == "0 exactly (log = -inf)"
    assert format_value(math.nan) == "NaN" and format_value(-math.inf) == "−∞" and format_value(None) == "—"


def test_html_is_self_contained_and_escaped():
    page = render_html(sample_report())
    parser = Assets()
    parser.feed(page)
    assert parser.sources and all(source.startswith("data:image/png;base64,") for source in parser.sources)
    assert not parser.tags & {"script", "link", "iframe", "object", "embed"}
    assert "http://" not in page and "https://" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; bounds." in page
    (source,) = parser.sources
    assert base64.b64decode(source.split(",", 1)[1]) == png()


def test_fail_is_prominent_in_html_and_markdown():
    report = sample_report()
    page, text = render_html(report), render_markdown(report)
    assert '<p class="summary-fail"><strong>1 FAIL</strong>' in page
    assert text.startswith("# Test report\n\n> **1 FAIL**")
    assert "4 statements judged: 1 FAIL, 1 INCONCLUSIVE, 1 PASS, 1 NOT APPLICABLE." in text
    # Summary first, then the verdict table, where FAIL is the first row and names its setting.
    assert text.index("Verdict summary") < text.index("## Errors")
    table = text[text.index("*EXACT checks*"):]
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[0] for row in rows] == ["| **FAIL**", "| INCONCLUSIVE", "| PASS", "| NOT APPLICABLE"]
    assert "| s7 |" in rows[0]
    assert page.index("broken-statement") < page.index("ok-statement")
    assert '<tr class="fail"><td class="verdict v-FAIL">FAIL</td><td>broken-statement' in page


def test_markdown_has_the_same_content():
    report = sample_report()
    text = render_markdown(report)
    assert "Errors <script>alert(1)</script> & bounds." in text
    assert "| setting | error | pipe\\|cell |" in text and "| weak | 0.1235 | yes |" in text
    assert "| strong | ∞ | — |" in text
    assert "![Error against psi](figures/errors.png)" in text
    assert "## Errors" in text and "### Verdicts" in text  # nested: one level deeper


def test_write_report_writes_figures_beside_the_markdown(tmp_path):
    paths = write_report(sample_report(), tmp_path / "out")
    assert [p.name for p in paths] == ["index.html", "report.md", "errors.png"]
    assert (tmp_path / "out" / "figures" / "errors.png").read_bytes() == png()


def test_report_rejects_inconsistent_content():
    with pytest.raises(ValueError, match="unique"):
        Report("r", (Section("s", (Figure("a", png()), Figure("a", png()))),)).figures()
    with pytest.raises(ValueError, match="3 columns"):
        Table(("a", "b", "c"), (("x",),))
    with pytest.raises(ValueError, match="figure name"):
        Figure("../escape", png())
    with pytest.raises(ValueError, match="PNG"):
        Figure("a", b"GIF89a")


def test_report_without_verdicts_has_an_empty_summary():
    text = render_markdown(Report("r", (Section("only", (Paragraph("x"),)),)))
    assert "0 statements judged" in text and "FAIL**" not in text


def test_figures_are_deterministic_png():
    assert png() == png() and png().startswith(b"\x89PNG")
    with_zero = error_figure([ErrorSeries("mc", [1.0, 2.0], [-1.0, -math.inf], [-1.2, -math.inf], [-0.9, -3.0])],
                             [Curve("exact", [1.0, 2.0], [-1.1, -4000.0], "--")],
                             [Shade("band", [1.0, 2.0], [-2.0, -4.0], [-0.5, -1.0])], log_x=True)
    assert with_zero.startswith(b"\x89PNG")
    steps = np.array([0, 1, 10, 100, 1000])
    gaps = np.array([0.5, 0.1, 0.01, 0.003, 0.0])
    first = convergence_figure({"run 0": (steps, gaps)}, reference=0.06)
    assert first == convergence_figure({"run 0": (steps, gaps)}, reference=0.06)
    signal = np.logspace(0, 2, 8)
    figure = phase_transition_figure(signal, signal**3, knee=math.log(10.0), slopes=(4.0, 2.0),
                                     intercept=3.0, r_one_signal=10.0)
    assert figure.startswith(b"\x89PNG")


def test_long_setting_lists_are_shortened_except_for_fail():
    names = tuple(f"s{i}" for i in range(9))
    table = VerdictTable((result("PASS", "many", settings=names), result("FAIL", "bad", settings=names, failing=names)))
    text = render_markdown(Report("r", (Section("v", (table,)),)))
    assert "| s0, s1, s2, s3, s4, s5 (and 3 more) |" in text
    assert "| s0, s1, s2, s3, s4, s5, s6, s7, s8 |" in text  # a FAIL names every setting at fault


def test_markdown_subset_in_html():
    page = render_html(Report("r", (Section("s", (Paragraph("### Group `g`\n\n- **a** item\n- *b* item\n\nplain <b>"),)),)))
    assert "<h3>Group <code>g</code></h3>" in page
    assert "<ul><li><strong>a</strong> item</li><li><em>b</em> item</li></ul>" in page
    assert "<p>plain &lt;b&gt;</p>" in page


def test_as_report_accepts_duck_typed_content():
    from types import SimpleNamespace

    from matplotlib.figure import Figure as MplFigure

    from verify.render import as_report

    figure = MplFigure()
    figure.add_subplot().plot([0, 1], [0, 1])
    content = SimpleNamespace(title="T", checks=(result("FAIL", "x"),), sections=(
        SimpleNamespace(title="S", blocks=(SimpleNamespace(markdown="m"), SimpleNamespace(name="f", figure=figure, caption="c"),
                                           SimpleNamespace(columns=("a",), rows=(("1",),), caption=""))),))
    report = as_report(content)
    assert report.title == "T" and [r.statement for r in report.results()] == ["x"]
    paragraph, fig, table = report.sections[0].blocks
    assert paragraph == Paragraph("m") and fig.png.startswith(b"\x89PNG") and table.rows == (("1",),)
    with pytest.raises(TypeError):
        as_report([SimpleNamespace(title="S", blocks=(object(),))])


def test_convergence_figure_groups_and_many_runs():
    steps = np.array([1, 10, 100])
    curves = {f"run {i}": (steps, np.array([0.1, 0.01, 0.001]) * (i + 1)) for i in range(20)}
    grouped = convergence_figure(curves, groups={label: "weak" if i < 10 else "strong" for i, label in enumerate(curves)})
    assert grouped.startswith(b"\x89PNG") and convergence_figure(curves).startswith(b"\x89PNG")
