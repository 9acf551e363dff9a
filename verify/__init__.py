"""verify: the layer that confronts the theory (`bounds`) with the simulator (`theorybench`).

Modules, one job each:

- `verify.suite`: suites of named settings (TOML) and their expansion;
- `verify.measure`: the work unit, one (setting, replicate) -> tidy rows;
- `verify.runner`, `verify.executors`, `verify.storage`: the sweep through any
  `concurrent.futures.Executor` into a resumable JSON Lines file;
- `verify.verdicts`: PASS / FAIL / INCONCLUSIVE / NOT APPLICABLE as data, constant bands, slope and
  knee fits (docs/theory.md §7);
- `verify.checks`, `verify.analysis`: every encoded statement judged on the rows, laid out as
  report sections;
- `verify.render`, `verify.plots`: the report in HTML and Markdown, and its figures.

Nothing is re-exported here: a worker process that imports `verify.measure` or `verify.runner`
should not pay for matplotlib, which `verify.render` and `verify.plots` import.
"""
