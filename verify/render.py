"""The report as data, rendered to a self-contained ``index.html`` and an equivalent ``report.md``.

A `Report` is a title and a list of `Section`s; a section holds blocks: `Paragraph`, `Table`,
`Figure` (PNG bytes), `VerdictTable` (check results) and nested `Section`s. `write_report` writes

- ``index.html``: inline CSS, every figure embedded as a base64 PNG ``data:`` URI, no script, no
  external asset, nothing fetched from the network; a table of contents with an anchor per
  section, then the claims dashboard (`verify.claims`), then the sections, long tables and
  explanations folded in ``<details>``;
- ``report.md``: the same content, figures referenced as ``figures/NAME.png``;
- ``figures/NAME.png``: the figures.

FAIL verdicts are never hidden: every report opens with the claims dashboard (one card per claim
of the paper with its verdict, its settings and runs, its fitted or critical constant and one
sentence of evidence; then, visibly apart, the open questions of the specification in a neutral
colour, the toolkit's self-checks and the BEYOND observations). The headline summarises the
paper's claims only. Verdict tables list FAIL rows first, highlighted.

Contract with ``verify.analysis``: ``analyse(suite, rows)`` returns a list of `Section`s (the
content); ``theorybench report`` adds the title, the run summary and the environment. A verdict
table accepts any object with the attributes of `verify.verdicts.CheckResult` (``verdict``,
``statement``, ``provenance``, ``section``, ``explanation``, ``settings``, ``failing``; and
``to_conclude`` if present). Tiny probabilities are formatted from their logarithm with
`format_log_probability`, never printed as a bare 0.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from verify.claims import VERDICT_ORDER, Card, Dashboard, build_dashboard, first_sentence, result_label
from theorybench.stats import format_log_probability  # noqa: F401  (re-exported: the report's formatter)
from verify.plots import to_png
from theorybench.safeio import atomic_write_bytes, atomic_write_text

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def format_value(value: Any) -> str:
    """A table cell: 4 significant digits for floats, explicit NaN and infinities, yes/no for bools."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:.4g}"
    return str(value)


@dataclass(frozen=True)
class Paragraph:
    """Text in a small Markdown subset: blank-line paragraphs, ``#`` headings, ``- `` list items,
    inline ``code``, ``**bold**`` and ``*italic*``. Written as is in Markdown; in HTML everything is
    escaped first and only that subset becomes markup (no links, no raw HTML)."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table of values (cells formatted by `format_value` unless already strings)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "rows", tuple(tuple(row) for row in self.rows))
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table row {row!r} has {len(row)} cells for {len(self.columns)} columns")


@dataclass(frozen=True)
class Figure:
    """A PNG figure; `name` is its file stem (letters, digits, ``_ . -``), unique in a report."""

    name: str
    png: bytes
    caption: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"figure name {self.name!r} must be letters, digits, '_', '.', '-'")
        if not self.png.startswith(b"\x89PNG"):
            raise ValueError(f"figure {self.name!r} is not PNG data")


@dataclass(frozen=True)
class VerdictTable:
    """Check results (FAIL first); ``caption`` says what they judge."""

    results: tuple[Any, ...]
    caption: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(self.results))

    def ordered(self) -> list[Any]:
        """Results sorted FAIL, INCONCLUSIVE, PASS, NOT APPLICABLE (stable within each)."""
        return sorted(self.results, key=lambda r: VERDICT_ORDER.index(r.verdict))


Block = Union[Paragraph, Table, Figure, VerdictTable, "Section"]


@dataclass(frozen=True)
class Section:
    """A titled section of blocks (sections nest)."""

    title: str
    blocks: tuple[Block, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))


@dataclass(frozen=True)
class Report:
    """A titled report; `regimes` (setting name -> suite regime) and `claim_figures` (claim key ->
    figure name) let the claims dashboard split regime cards and show each claim's key figure."""

    title: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    checks: tuple[Any, ...] = ()
    regimes: Mapping[str, str] = field(default_factory=dict)
    claim_figures: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))
        object.__setattr__(self, "checks", tuple(self.checks))

    def dashboard(self) -> Dashboard:
        """The claims dashboard of `verify.claims` over every judged statement."""
        return build_dashboard(self.results(), self.regimes, self.claim_figures)

    def walk(self) -> list[Block]:
        """Every block, depth first, in document order."""
        out: list[Block] = []

        def visit(blocks: Sequence[Block]) -> None:
            for block in blocks:
                out.append(block)
                if isinstance(block, Section):
                    visit(block.blocks)

        visit(self.sections)
        return out

    def figures(self) -> list[Figure]:
        figures = [block for block in self.walk() if isinstance(block, Figure)]
        names = [figure.name for figure in figures]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"figure names must be unique in a report; repeated: {repeated}")
        return figures

    def results(self) -> list[Any]:
        """Every judged statement: `checks`, then those of verdict tables not already there."""
        out = list(self.checks)
        seen = {id(result) for result in out}
        for block in self.walk():
            if isinstance(block, VerdictTable):
                out += [result for result in block.results if id(result) not in seen]
                seen.update(id(result) for result in block.results)
        return out


def _counts(verdicts: Sequence[str]) -> str:
    return ", ".join(f"{verdicts.count(v)} {v}" for v in VERDICT_ORDER if verdicts.count(v))


def headline(dashboard: Dashboard) -> str:
    """The one-line verdict over the paper's claims (open questions, self-checks and BEYOND apart)."""
    if not dashboard.cards:
        return "No claim of the paper was judged by this suite."
    verdicts = [card.verdict for card in dashboard.cards]
    return (f"The paper's claims: {dashboard.headline} — {len(verdicts)} claim(s) judged: {_counts(verdicts)}.")


def _runs(card: Card) -> str:
    settings = f"{len(card.settings)} setting{'s' if len(card.settings) != 1 else ''}"
    return settings + (f", {card.runs} run{'s' if card.runs != 1 else ''}" if card.runs is not None else "")


def _provenances(results: Sequence[Any]) -> str:
    return "/".join(dict.fromkeys(r.provenance for r in results))


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:76rem;margin:0 auto;
padding:.6rem 1rem 2rem;color:#1b1b1b;line-height:1.4}
h1{font-size:1.45rem;margin:.3rem 0}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem}
h1,h2,h3,h4{line-height:1.2}
nav.toc{font-size:.85rem;margin:.2rem 0 .5rem;padding:.3rem .5rem;background:#f4f4f4;border-radius:4px}
nav.toc a{margin-right:.7rem;white-space:nowrap}
.tw{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem;max-width:100%}
table.fixed{table-layout:fixed;width:100%}
th,td{border:1px solid #c8c8c8;padding:.2rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f0f0f0}
caption{caption-side:top;text-align:left;font-style:italic;padding:.2rem 0}
tr.fail td{background:#fde2e1}
.verdict{font-weight:bold}
.v-FAIL{color:#b00000}.v-PASS{color:#136f1b}.v-INCONCLUSIVE{color:#8a5a00}.v-NOT-APPLICABLE{color:#555}
.chip{display:inline-block;font-size:.75rem;font-weight:bold;padding:0 .35rem;border-radius:3px;border:1px solid;
white-space:nowrap}
.chip.v-FAIL{background:#fde2e1}.chip.v-PASS{background:#e3f4e4}.chip.v-INCONCLUSIVE{background:#fff1d6}
.chip.v-NOT-APPLICABLE{background:#eee}.chip.neutral{color:#3d4a5c;background:#e8edf3;border-color:#8a99ad}
p.headline{font-size:1.05rem;font-weight:bold;margin:.3rem 0 .5rem;padding:.35rem .6rem;border-left:6px solid}
p.headline.v-FAIL{background:#fde2e1}p.headline.v-PASS{background:#e3f4e4}
p.headline.v-INCONCLUSIVE{background:#fff1d6}p.headline.v-NOT-APPLICABLE{background:#eee}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(17rem,1fr));gap:.5rem}
.card{border:1px solid #c8c8c8;border-radius:5px;padding:.35rem .5rem;font-size:.8rem;overflow:hidden}
.card h3{font-size:.88rem;margin:.15rem 0}
.card p{margin:.1rem 0}.card .meta{color:#555}
.card .ev{display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden}
.card img.thumb{float:right;width:96px;height:auto;margin:0 0 .2rem .4rem;border:1px solid #ddd}
.groups{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:.5rem;margin-top:.5rem}
.group{border:1px dashed #8a99ad;border-radius:5px;padding:.3rem .5rem;font-size:.8rem;background:#fafbfc}
.group h3{font-size:.85rem;margin:.1rem 0}.group ul{margin:.1rem 0;padding-left:1rem}
details{margin:.4rem 0}summary{cursor:pointer;color:#1a4b8c}
figure{margin:1rem 0}figure img{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#333}
"""


def _esc(text: Any) -> str:
    return html.escape(text if isinstance(text, str) else format_value(text))


_INLINE = (
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])"), r"<em>\1</em>"),
)


def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    for pattern, replacement in _INLINE:
        out = pattern.sub(replacement, out)
    return out


def _markdown_html(text: str, level: int) -> str:
    """HTML of the Markdown subset of `Paragraph`; `level` is the heading level its section's blocks
    would use, and no heading inside the text goes above it."""
    parts = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = chunk.splitlines()
        heading = re.match(r"^(#{1,6})\s+(.*)$", chunk)
        if heading and len(lines) == 1:
            depth = min(max(len(heading.group(1)), level), 6)
            parts.append(f"<h{depth}>{_inline(heading.group(2))}</h{depth}>")
        elif all(line.lstrip().startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline(line.lstrip()[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return "".join(parts)


SETTINGS_SHOWN = 6
# Tables with more rows than this are folded in <details> (the summary says what they hold).
ROWS_OPEN = 8
# Explanations longer than this show their first sentence and fold the rest.
EXPLANATION_OPEN = 200


def _settings_cell(result: Any) -> str:
    """The settings at fault (FAIL, INCONCLUSIVE) or used (otherwise); all of them for a FAIL, the
    first few for the other verdicts."""
    names = list(result.failing) if result.verdict in ("FAIL", "INCONCLUSIVE") and result.failing \
        else list(result.settings)
    if result.verdict == "FAIL":
        return ", ".join(names)
    more = len(names) - SETTINGS_SHOWN
    return ", ".join(names[:SETTINGS_SHOWN]) + (f" (and {more} more)" if more > 0 else "")


def _folded_cell(text: str, limit: int) -> str:
    """A cell whose long text shows its first sentence and folds the whole."""
    if len(text) <= limit:
        return _esc(text)
    return f"<details><summary>{_esc(first_sentence(text, 120))}</summary>{_esc(text)}</details>"


def _details(summary: str, inner: str) -> str:
    return f"<details><summary>{_esc(summary)}</summary>{inner}</details>"


# Column widths of a verdict table (percent): the statement and the explanation get the room.
_VERDICT_COLUMNS = (("Verdict", 9), ("Statement", 24), ("Provenance", 10), ("docs/theory.md", 8),
                    ("Settings", 14), ("Explanation", 25), ("To conclude", 10))


def _html_verdicts(table: VerdictTable) -> str:
    cols = "".join(f'<col style="width:{width}%">' for _, width in _VERDICT_COLUMNS)
    head = "<tr>" + "".join(f"<th>{name}</th>" for name, _ in _VERDICT_COLUMNS) + "</tr>"
    rows = []
    for r in table.ordered():
        css = "fail" if r.verdict == "FAIL" else ""
        rows.append(
            f'<tr class="{css}"><td class="verdict v-{r.verdict.replace(" ", "-")}">{_esc(r.verdict)}</td>'
            f"<td>{_esc(r.statement)}</td><td>{_esc(r.provenance)}</td><td>{_esc(r.section)}</td>"
            f"<td>{_folded_cell(_settings_cell(r), 120)}</td><td>{_folded_cell(r.explanation, EXPLANATION_OPEN)}</td>"
            f"<td>{_folded_cell(getattr(r, 'to_conclude', '') or '', EXPLANATION_OPEN)}</td></tr>")
    caption = f"<caption>{_esc(table.caption)}</caption>" if table.caption else ""
    inner = f'<div class="tw"><table class="fixed">{caption}<colgroup>{cols}</colgroup>{head}{"".join(rows)}</table></div>'
    verdicts = [r.verdict for r in table.results]
    return _details(f"{table.caption or 'Verdicts'} — {len(verdicts)} statements: {_counts(verdicts)}", inner)


def _slug(title: str, used: set[str]) -> str:
    base = "s-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section")
    slug, k = base, 2
    while slug in used:
        slug, k = f"{base}-{k}", k + 1
    used.add(slug)
    return slug


def _html_block(block: Block, level: int, ids: dict[int, str]) -> str:
    if isinstance(block, Section):
        inner = "".join(_html_block(b, level + 1, ids) for b in block.blocks)
        tag = f"h{min(level, 6)}"
        return f'<section id="{ids[id(block)]}"><{tag}>{_esc(block.title)}</{tag}>{inner}</section>'
    if isinstance(block, Paragraph):
        return _markdown_html(block.text, level)
    if isinstance(block, Table):
        caption = f"<caption>{_esc(block.caption)}</caption>" if block.caption else ""
        head = "".join(f"<th>{_esc(c)}</th>" for c in block.columns)
        body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        table = f'<div class="tw"><table>{caption}<tr>{head}</tr>{body}</table></div>'
        if len(block.rows) <= ROWS_OPEN:
            return table
        return _details(f"Table: {first_sentence(block.caption, 100) if block.caption else ', '.join(block.columns[:4])} "
                        f"({len(block.rows)} rows)", table)
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return (f'<figure id="fig-{block.name}"><img alt="{_esc(block.caption or block.name)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{_esc(block.caption)}</figcaption></figure>')
    if isinstance(block, VerdictTable):
        return _html_verdicts(block)
    raise TypeError(f"cannot render a block of type {type(block).__name__}")


def _chip(verdict: str, neutral: bool = False) -> str:
    css = "neutral" if neutral else f"v-{verdict.replace(' ', '-')}"
    return f'<span class="chip {css}">{_esc(verdict)}</span>'


def _html_card(card: Card, figures: Mapping[str, Figure]) -> str:
    figure = figures.get(card.figure)
    thumb = ""
    if figure is not None:
        data = base64.b64encode(figure.png).decode("ascii")
        thumb = (f'<a href="#fig-{figure.name}"><img class="thumb" alt="key figure: {_esc(figure.name)}" '
                 f'src="data:image/png;base64,{data}"></a>')
    number = f'<p class="num">{_esc(card.number)}</p>' if card.number else ""
    claim = card.claim
    return (f'<article class="card" id="claim-{_esc(claim.key)}" title="{_esc(claim.claim)}">{thumb}'
            f"<h3>{_chip(card.verdict)} {_esc(claim.title)}</h3>"
            f'<p class="meta">{_esc(_provenances(card.results))} · docs/theory.md {_esc(claim.section)} · '
            f"{_esc(_runs(card))}</p>{number}<p class=\"ev\">{_esc(card.evidence)}</p></article>")


def _html_group(title: str, note: str, items: Sequence[str]) -> str:
    body = "".join(f"<li>{item}</li>" for item in items) or "<li>none in this suite</li>"
    return f'<div class="group"><h3>{_esc(title)}</h3><p>{_esc(note)}</p><ul>{body}</ul></div>'


def _open_item(result: Any) -> str:
    """An open question in one line: which candidate, and the first sentence of why."""
    return f"{result_label(result)}: {first_sentence(result.explanation, 110)}"


def _html_dashboard(report: Report) -> str:
    dashboard = report.dashboard()
    figures = {figure.name: figure for figure in report.figures()}
    css = dashboard.headline.replace(" ", "-") if dashboard.cards else "NOT-APPLICABLE"
    cards = "".join(_html_card(card, figures) for card in dashboard.cards)
    groups = "".join((
        _html_group("Open questions of the specification",
                    "Not claims of the paper: candidate answers to questions docs/theory.md §4 leaves open "
                    "(e.g. the exponent for anisotropic Σ, each candidate judged by its own constant band).",
                    [f"{_chip(r.verdict, neutral=True)} {_esc(_open_item(r))}" for r in dashboard.open_questions]),
        _html_group("Self-checks of the toolkit",
                    "Exact identities the computation must satisfy (a FAIL is a bug, not a finding about the paper).",
                    [f"{_chip(r.verdict)} {_esc(r.statement)}" for r in dashboard.self_checks]),
        _html_group("Beyond the paper (BEYOND)", "Simulated outside every hypothesis (docs/theory.md §8); never judged.",
                    [f"{_esc(r.statement)} ({len(r.settings)} settings)" for r in dashboard.beyond]),
    ))
    return (f'<section id="claims"><p class="headline v-{css}">{_esc(headline(dashboard))}</p>'
            f'<div class="cards">{cards}</div><div class="groups">{groups}</div></section>')


def section_ids(report: Report) -> dict[int, str]:
    """A unique anchor for every section of the report, in document order."""
    used: set[str] = {"claims"}
    return {id(block): _slug(block.title, used) for block in report.walk() if isinstance(block, Section)}


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document (inline CSS, embedded figures, no scripts):
    the title, a table of contents, the claims dashboard, then the sections (details folded)."""
    ids = section_ids(report)
    toc = " ".join(f'<a href="#{ids[id(section)]}">{_esc(section.title)}</a>' for section in report.sections)
    body = "".join(_html_block(section, 2, ids) for section in report.sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_esc(report.title)}</title><style>{_CSS}</style></head>"
            f"<body><h1>{_esc(report.title)}</h1>"
            f'<nav class="toc" aria-label="Contents"><strong>Contents:</strong> <a href="#claims">Claims</a> {toc}</nav>'
            f"{_html_dashboard(report)}{body}</body></html>\n")


# ---------------------------------------------------------------------------------------------
# Markdown

def _md_cell(value: Any) -> str:
    text = value if isinstance(value, str) else format_value(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], caption: str) -> str:
    lines = [f"*{caption}*", ""] if caption else []
    lines.append("| " + " | ".join(_md_cell(c) for c in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    lines.extend("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


def _md_block(block: Block, level: int, figure_folder: str) -> str:
    if isinstance(block, Section):
        inner = "\n\n".join(_md_block(b, level + 1, figure_folder) for b in block.blocks)
        return f"{'#' * min(level, 6)} {block.title}" + (f"\n\n{inner}" if inner else "")
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Table):
        return _md_table(block.columns, block.rows, block.caption)
    if isinstance(block, Figure):
        alt = (block.caption or block.name).replace("]", ")").replace("[", "(").replace("\n", " ")
        return f"![{alt}]({figure_folder}/{block.name}.png)" + (f"\n\n*{block.caption}*" if block.caption else "")
    if isinstance(block, VerdictTable):
        rows = []
        for r in block.ordered():
            settings = _settings_cell(r)
            verdict = f"**{r.verdict}**" if r.verdict == "FAIL" else r.verdict
            rows.append((verdict, r.statement, r.provenance, r.section, settings, r.explanation,
                         getattr(r, "to_conclude", "") or ""))
        return _md_table(tuple(name for name, _ in _VERDICT_COLUMNS), rows, block.caption)
    raise TypeError(f"cannot render a block of type {type(block).__name__}")


def _md_dashboard(report: Report) -> str:
    dashboard = report.dashboard()
    parts = ["## Claims of the paper", f"**{headline(dashboard)}**"]
    if dashboard.cards:
        parts.append(_md_table(
            ("Claim", "Verdict", "Evidence from", "Constant", "Evidence"),
            tuple((card.claim.title, f"**{card.verdict}**" if card.verdict == "FAIL" else card.verdict,
                   f"{_provenances(card.results)}, docs/theory.md {card.claim.section}, {_runs(card)}",
                   card.number or "—", card.evidence) for card in dashboard.cards), ""))
    for title, items in (
            ("Open questions of the specification (not claims of the paper)",
             [f"{r.verdict}: {_open_item(r)}" for r in dashboard.open_questions]),
            ("Self-checks of the toolkit (exact identities)", [f"{r.verdict}: {r.statement}" for r in dashboard.self_checks]),
            ("Beyond the paper (BEYOND, never judged)", [f"{r.statement} ({len(r.settings)} settings)"
                                                         for r in dashboard.beyond])):
        parts.append(f"### {title}\n\n" + ("\n".join(f"- {item}" for item in items) or "- none in this suite"))
    return "\n\n".join(parts)


def render_markdown(report: Report, figure_folder: str = "figures") -> str:
    """The report as Markdown with the same content; figures link to ``figure_folder/NAME.png``."""
    parts = [f"# {report.title}", _md_dashboard(report)]
    parts.extend(_md_block(section, 2, figure_folder) for section in report.sections)
    return "\n\n".join(parts) + "\n"


def write_report(report: Report, folder: str | Path) -> list[Path]:
    """Write ``index.html``, ``report.md`` and ``figures/*.png`` into `folder`; the paths written."""
    folder = Path(folder)
    figures = report.figures()
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    names = {f"{figure.name}.png" for figure in figures}
    for stale in (folder / "figures").glob("*.png"):
        if stale.name not in names:  # a rerun with --resume must not leave an earlier layout's figures
            stale.unlink()
    written = []
    for figure in figures:
        path = folder / "figures" / f"{figure.name}.png"
        atomic_write_bytes(path, figure.png)
        written.append(path)
    atomic_write_text(folder / "index.html", render_html(report))
    atomic_write_text(folder / "report.md", render_markdown(report))
    return [folder / "index.html", folder / "report.md", *written]


def as_report(content: Any, title: str = "theorybench report") -> Report:
    """A `Report` from `content`: a `Report`, a sequence of sections, or any object with
    ``sections`` (and optionally ``title`` and ``checks``) whose blocks have the attributes of
    this module's blocks: ``title``/``blocks`` (section), ``markdown`` or ``text`` (paragraph),
    ``columns``/``rows`` (table), ``name`` with ``png`` bytes or a matplotlib ``figure``
    (figure), ``results`` (verdict table). Lets ``verify.analysis`` keep its own block types.
    """
    if isinstance(content, Report):
        return content
    sections = getattr(content, "sections", content)
    return Report(getattr(content, "title", title), tuple(_as_block(s) for s in sections),
                  tuple(getattr(content, "checks", ())))


def _as_block(block: Any) -> Block:
    if isinstance(block, (Paragraph, Table, Figure, VerdictTable)):
        return block
    if hasattr(block, "blocks") and hasattr(block, "title"):
        return Section(block.title, tuple(_as_block(b) for b in block.blocks))
    if hasattr(block, "results"):
        return VerdictTable(tuple(block.results), getattr(block, "caption", ""))
    if hasattr(block, "columns") and hasattr(block, "rows"):
        return Table(tuple(block.columns), tuple(block.rows), getattr(block, "caption", ""))
    if hasattr(block, "name") and (hasattr(block, "png") or hasattr(block, "figure")):
        data = block.png if hasattr(block, "png") else to_png(block.figure)
        return Figure(block.name, data, getattr(block, "caption", ""))
    if hasattr(block, "markdown") or hasattr(block, "text"):
        return Paragraph(getattr(block, "markdown", None) or block.text)
    raise TypeError(f"cannot turn a {type(block).__name__} into a report block")
