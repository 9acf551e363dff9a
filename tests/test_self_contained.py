"""Nothing in the repository cites a file outside it: every section citation points into docs/theory.md.

Code, docstrings, suites, docs and the report cite the specification as "docs/theory.md §N"; each
such N must have its anchor (``id="sN"``, ``id="sN-M"`` or the section's own) in docs/theory.md,
every Markdown link to ``theory.md#anchor`` must resolve there, and no tracked text file may name a
path outside the repository or cite the specification under a file name the repository lacks.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THEORY = ROOT / "docs" / "theory.md"


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "*.py", "*.md", "*.toml", "*.txt", ".ci/*"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in names if (ROOT / name).is_file()]


def anchors() -> set[str]:
    return set(re.findall(r'id="([^"]+)"', THEORY.read_text(encoding="utf-8")))


def test_no_path_outside_the_repository():
    # the paths that once pointed at the specification and the style guide beside the repository
    outside = re.compile(r"\.\./shared|/work/shared|shared/THEORY|shared/STYLE")
    offenders = [f"{path.relative_to(ROOT)}:{number}" for path in tracked_text_files()
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if outside.search(line) and path.name != Path(__file__).name]
    assert offenders == []


def test_every_section_citation_resolves_in_docs_theory():
    known = anchors()
    cited = re.compile(r"docs/theory\.md §(\d+)(?:\.(\d+))?")
    stale = re.compile(r"THEORY(\.md)? §")
    missing, old = [], []
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8")
        for major, minor in cited.findall(text):
            anchor = f"s{major}-{minor}" if minor else f"s{major}"
            if anchor not in known and f"s{major}" not in known:
                missing.append(f"{path.relative_to(ROOT)}: §{major}{'.' + minor if minor else ''}")
        if stale.search(text) and path.name != Path(__file__).name:
            old.append(str(path.relative_to(ROOT)))
    assert missing == [] and old == []


def test_markdown_links_into_docs_theory_resolve():
    known = anchors()
    link = re.compile(r"\]\((?:docs/)?theory\.md#([^)]+)\)|\]\(#(s\d+(?:-\d+)?)\)")
    broken = [f"{path.relative_to(ROOT)}: #{a or b}" for path in tracked_text_files() if path.suffix == ".md"
              for a, b in link.findall(path.read_text(encoding="utf-8"))
              if (a or b) not in known and (a or b) != "section-numbers"]
    assert broken == []
    assert {"s0", "s1", "s2", "s2-2", "s2-4", "s3", "s4", "s5", "s6", "s7", "s8"} <= known
