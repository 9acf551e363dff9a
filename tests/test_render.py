"""Report rendering and figure primitives (verify.render, verify.plots)."""

from __future__ import annotations

import base64
import math
from html.parser import HTMLParser

import mpmath
import numpy as np
import pytest

from verify.plots import (
    Curve,
    ErrorSeries,
    Shade,
    convergence_figure,
    drawn_labels,
    error_figure,
    phase_transition_figure,
)
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
    images = [source for source in parser.sources if not source.startswith("#")]
    anchors = [source[1:] for source in parser.sources if source.startswith("#")]
    assert images and all(source.startswith("data:image/png;base64,") for source in images)
    # every in-page link (TOC, thumbnails) names an element of the page
    assert anchors and all(f'id="{anchor}"' in page for anchor in anchors)
    assert not parser.tags & {"script", "link", "iframe", "object", "embed"}
    assert "http://" not in page and "https://" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; bounds." in page
    (source,) = images
    assert base64.b64decode(source.split(",", 1)[1]) == png()


def claim_result(key, verdict, provenance="PAPER", settings=("weak[signal=4] (replicate 0)",), numbers=None):
    return CheckResult(key=key, statement=f"statement {key}", provenance=provenance, section="§3", verdict=verdict,
                       explanation=f"Because of {key}. More detail.", settings=settings, numbers=numbers or {})


def test_headline_summarises_the_papers_claims_only():
    # An open question and a self-check FAIL; the paper's claims PASS: the headline says PASS.
    results = (claim_result("paper.theorem_4_8_conclusions", "PASS"),
               claim_result("reconstructed.candidate[psi]", "FAIL", "RECONSTRUCTED"),
               claim_result("exact.gaussian_error", "FAIL", "EXACT"))
    report = Report("r", (Section("v", (VerdictTable(results, "all"),)),))
    page, text = render_html(report), render_markdown(report)
    assert '<p class="headline v-PASS">The paper&#x27;s claims: PASS — 1 claim(s) judged: 1 PASS.</p>' in page
    assert "**The paper's claims: PASS — 1 claim(s) judged: 1 PASS.**" in text
    # the open question is neutral, the self-check FAIL stays red in its own box
    assert '<span class="chip neutral">FAIL</span> psi (all): Because of reconstructed.candidate[psi].' in page
    assert '<span class="chip v-FAIL">FAIL</span> statement exact.gaussian_error' in page
    assert page.index('id="claims"') < page.index("Open questions") < page.index("Self-checks")
    # a FAIL of a claim makes the headline FAIL, first on the page, and the card says why
    failing = Report("r", (Section("v", (VerdictTable(results + (claim_result("exact.pattern_persistence", "FAIL",
                                                                                             "EXACT"),)),)),))
    page = render_html(failing)
    assert '<p class="headline v-FAIL">The paper&#x27;s claims: FAIL — 2 claim(s) judged: 1 FAIL, 1 PASS.</p>' in page
    card = page[page.index('id="claim-4.8-case1"'):]
    assert card.index("v-FAIL") < card.index("Because of exact.pattern_persistence.") < card.index("</article>")


def test_fail_rows_come_first_in_verdict_tables():
    report = sample_report()
    page, text = render_html(report), render_markdown(report)
    table = text[text.index("*EXACT checks*"):]
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[0] for row in rows] == ["| **FAIL**", "| INCONCLUSIVE", "| PASS", "| NOT APPLICABLE"]
    assert "| s7 |" in rows[0]
    assert page.index("broken-statement", page.index("<details>")) < page.index("ok-statement", page.index("<details>"))
    assert '<tr class="fail"><td class="verdict v-FAIL">FAIL</td><td>broken-statement' in page
    # the verdict table is folded, its summary counts the verdicts
    assert "<summary>EXACT checks — 4 statements: 1 FAIL, 1 INCONCLUSIVE, 1 PASS, 1 NOT APPLICABLE</summary>" in page


def test_long_tables_and_explanations_are_folded():
    rows = tuple((f"s{i}", i) for i in range(12))
    long = "First sentence. " + "detail " * 60
    verdict = CheckResult(key="k", statement="s", provenance="EXACT", section="§2", verdict="PASS", explanation=long)
    page = render_html(Report("r", (Section("t", (Table(("setting", "value"), rows[:8], "short"),
                                                  Table(("setting", "value"), rows, "Long table. Rest."),
                                                  VerdictTable((verdict,)))),)))
    assert '<div class="tw"><table><caption>short</caption>' in page  # 8 rows: open
    assert "<details><summary>Table: Long table. (12 rows)</summary>" in page
    assert "<details><summary>First sentence.</summary>First sentence. detail" in page


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
    (tmp_path / "out" / "figures" / "old.png").write_bytes(png(1))
    write_report(sample_report(), tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == ["errors.png"]


def test_report_rejects_inconsistent_content():
    with pytest.raises(ValueError, match="unique"):
        Report("r", (Section("s", (Figure("a", png()), Figure("a", png()))),)).figures()
    with pytest.raises(ValueError, match="3 columns"):
        Table(("a", "b", "c"), (("x",),))
    with pytest.raises(ValueError, match="figure name"):
        Figure("../escape", png())
    with pytest.raises(ValueError, match="PNG"):
        Figure("a", b"GIF89a")


def test_report_without_verdicts_says_so():
    text = render_markdown(Report("r", (Section("only", (Paragraph("x"),)),)))
    assert "No claim of the paper was judged by this suite." in text and "FAIL" not in text


def test_figures_are_deterministic_png():
    assert png() == png() and png().startswith(b"\x89PNG")
    with_zero = error_figure([ErrorSeries("mc", [1.0, 2.0], [-1.0, -math.inf], [-1.2, -math.inf], [-0.9, -3.0])],
                             [Curve("exact", [1.0, 2.0], [-1.1, -4000.0], "limit")],
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


def test_figures_draw_only_what_has_points_and_fit_the_axis_to_them():
    from verify.plots import STYLE, _data_limits

    empty = ErrorSeries("never seen", [1.0], [math.nan], [math.nan], [math.nan])
    zero = ErrorSeries("zero errors", [1.0, 2.0], [-math.inf, -1.0], [-math.inf, -1.5], [-3.0, -0.5], "linear")
    drawn = drawn_labels([empty, zero], [Curve("no finite value", [1.0], [math.nan]), Curve("exact", [1.0], [-2.0])],
                         [Shade("band", [1.0, 2.0], [-200.0, -400.0], [-1.0, -2.0])])
    assert drawn == ["band", "exact", "zero errors", "zero errors: 0 errors (upper end)"]
    # the axis spans the points with a 5% margin: a band reaching -400 does not stretch it
    low, high = _data_limits([np.array([-2.0, -1.0]), np.array([-3.0, np.nan])])
    assert (low, high) == pytest.approx((-3.1, -0.9), rel=1e-12)  # 5% of the span 2 on each side
    # one colour per quantity: no two quantities share both colour and marker
    assert len({(s.colour, s.marker, s.line) for s in STYLE.values()}) == len(STYLE)
