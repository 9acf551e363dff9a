"""The report as data, rendered to a self-contained ``index.html`` and an equivalent ``report.md``.

A `Report` is a title and a list of `Section`s; a section holds blocks: `Paragraph`, `Table`,
`Figure` (PNG bytes), `VerdictTable` (check results) and nested `Section`s. `write_report` writes

- ``index.html``: inline CSS, every figure embedded as a base64 PNG ``data:`` URI, no script, no
  external asset, nothing fetched from the network;
- ``report.md``: the same content, figures referenced as ``figures/NAME.png``;
- ``figures/NAME.png``: the figures.

FAIL verdicts are never hidden: every report opens with a verdict summary that lists each FAIL
(statement, settings, explanation), and verdict tables list FAIL rows first, highlighted.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from verify.plots import to_png
from verify.storage import atomic_write_text

VERDICT_ORDER = ("FAIL", "INCONCLUSIVE", "PASS", "NOT APPLICABLE")
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


def format_log_probability(log_p: float, digits: int = 3) -> str:
    """``p = exp(log_p)`` in scientific notation computed from the logarithm, so that probabilities
    below float64's smallest number print correctly (``exp(-5000)`` is ``2.9e-2172``).

    ``log_p = -inf`` is an exact zero (a Bayes error with mu outside the range of Sigma, an exact
    error of a direction that sees no noise), never an unobserved rate (Monte Carlo counts print as
    k/n), and prints as ``"0 exactly (log = -inf)"``.
    """
    if math.isnan(log_p):
        return "NaN"
    if log_p == -math.inf:
        return "0 exactly (log = -inf)"
    log10 = log_p / math.log(10)
    exponent = math.floor(log10)
    mantissa = 10 ** (log10 - exponent)
    if round(mantissa, digits - 1) >= 10:  # 9.996e-5 rounds to 10.0e-5: carry into the exponent
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{digits - 1}f}e{exponent:+d}"


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
    """A titled report."""

    title: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    checks: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))
        object.__setattr__(self, "checks", tuple(self.checks))

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


def _summary(report: Report) -> Section:
    """The verdict summary that opens every report: counts, then every FAIL in full."""
    results = report.results()
    counts = {v: sum(r.verdict == v for r in results) for v in VERDICT_ORDER}
    text = ", ".join(f"{counts[v]} {v}" for v in VERDICT_ORDER)
    failures = [r for r in results if r.verdict == "FAIL"]
    blocks: list[Block] = [Paragraph(f"{len(results)} statements judged: {text}.")]
    if failures:
        blocks.append(VerdictTable(tuple(failures), "FAIL — every statement that the computation contradicts"))
    return Section("Verdict summary", tuple(blocks))


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:72rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1,h2,h3,h4{line-height:1.2}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem}
th,td{border:1px solid #c8c8c8;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}
caption{caption-side:top;text-align:left;font-style:italic;padding:.2rem 0}
tr.fail td{background:#fde2e1}
.verdict{font-weight:bold;white-space:nowrap}
.v-FAIL{color:#b00000}.v-PASS{color:#136f1b}.v-INCONCLUSIVE{color:#8a5a00}.v-NOT-APPLICABLE{color:#555}
figure{margin:1rem 0}figure img{max-width:100%;height:auto}
figcaption{font-size:.9rem;color:#333}
p.summary-fail{border:2px solid #b00000;background:#fde2e1;padding:.5rem}
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


def _settings_cell(result: Any) -> str:
    """The settings at fault (FAIL, INCONCLUSIVE) or used (otherwise); all of them for a FAIL, the
    first few for the other verdicts."""
    names = list(result.failing) if result.verdict in ("FAIL", "INCONCLUSIVE") and result.failing \
        else list(result.settings)
    if result.verdict == "FAIL":
        return ", ".join(names)
    more = len(names) - SETTINGS_SHOWN
    return ", ".join(names[:SETTINGS_SHOWN]) + (f" (and {more} more)" if more > 0 else "")


def _html_verdicts(table: VerdictTable) -> str:
    head = ("<tr><th>Verdict</th><th>Statement</th><th>Provenance</th><th>THEORY.md</th>"
            "<th>Settings</th><th>Explanation</th><th>To conclude</th></tr>")
    rows = []
    for r in table.ordered():
        css = "fail" if r.verdict == "FAIL" else ""
        settings = _settings_cell(r)
        rows.append(
            f'<tr class="{css}"><td class="verdict v-{r.verdict.replace(" ", "-")}">{_esc(r.verdict)}</td>'
            f"<td>{_esc(r.statement)}</td><td>{_esc(r.provenance)}</td><td>{_esc(r.section)}</td>"
            f"<td>{_esc(settings)}</td><td>{_esc(r.explanation)}</td>"
            f"<td>{_esc(getattr(r, 'to_conclude', '') or '')}</td></tr>")
    caption = f"<caption>{_esc(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}{head}{''.join(rows)}</table>"


def _html_block(block: Block, level: int) -> str:
    if isinstance(block, Section):
        inner = "".join(_html_block(b, level + 1) for b in block.blocks)
        return f"<section><h{min(level, 6)}>{_esc(block.title)}</h{min(level, 6)}>{inner}</section>"
    if isinstance(block, Paragraph):
        return _markdown_html(block.text, level)
    if isinstance(block, Table):
        caption = f"<caption>{_esc(block.caption)}</caption>" if block.caption else ""
        head = "".join(f"<th>{_esc(c)}</th>" for c in block.columns)
        body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        return f"<table>{caption}<tr>{head}</tr>{body}</table>"
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return (f'<figure><img alt="{_esc(block.caption or block.name)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{_esc(block.caption)}</figcaption></figure>")
    if isinstance(block, VerdictTable):
        return _html_verdicts(block)
    raise TypeError(f"cannot render a block of type {type(block).__name__}")


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document (inline CSS, embedded figures, no scripts)."""
    summary = _summary(report)
    failures = sum(r.verdict == "FAIL" for r in report.results())
    banner = (f'<p class="summary-fail"><strong>{failures} FAIL</strong> — see the verdict summary.</p>'
              if failures else "")
    body = "".join(_html_block(section, 2) for section in (summary, *report.sections))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_esc(report.title)}</title><style>{_CSS}</style></head>"
            f"<body><h1>{_esc(report.title)}</h1>{banner}{body}</body></html>\n")


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
        return _md_table(("Verdict", "Statement", "Provenance", "THEORY.md", "Settings", "Explanation",
                          "To conclude"), rows, block.caption)
    raise TypeError(f"cannot render a block of type {type(block).__name__}")


def render_markdown(report: Report, figure_folder: str = "figures") -> str:
    """The report as Markdown with the same content; figures link to ``figure_folder/NAME.png``."""
    summary = _summary(report)
    failures = sum(r.verdict == "FAIL" for r in report.results())
    parts = [f"# {report.title}"]
    if failures:
        parts.append(f"> **{failures} FAIL** — see the verdict summary.")
    parts.extend(_md_block(section, 2, figure_folder) for section in (summary, *report.sections))
    return "\n\n".join(parts) + "\n"


def write_report(report: Report, folder: str | Path) -> list[Path]:
    """Write ``index.html``, ``report.md`` and ``figures/*.png`` into `folder`; the paths written."""
    folder = Path(folder)
    figures = report.figures()
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    written = []
    for figure in figures:
        path = folder / "figures" / f"{figure.name}.png"
        path.write_bytes(figure.png)
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
