"""docs/api.md runs: its Python blocks, executed in order in one namespace, in a scratch folder."""

from __future__ import annotations

import re
from pathlib import Path

API = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def test_api_quick_start_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", API.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(API), "exec"), namespace)  # noqa: S102 - our own documentation
    out = capsys.readouterr().out
    assert "1 - cos(W(T), W_hat) =" in out and "exact err(w_bar) =" in out
    assert namespace["limit"].certificate.ok and (tmp_path / "example-rows.jsonl").is_file()
    # the page's claims about the final row hold: flat configuration columns
    assert namespace["final"]["data.n"] == 10 and namespace["final"]["data.signal"] == 3.0
