"""`make bench`: the raw-load floor, the pandas reference and dbt measured in one run.

- `dates`: the as-of dates the model needs (12 training cutoffs + the latest complete day);
- `run_results`: per-step wall time of a `dbt build` from run_results.json + manifest.json;
- `targets`: ratios and the issue's targets (met / not met, never asserted);
- `report`: the markdown table;
- `measure`: a step in its own child process, wall time and peak RSS (`os.wait4`);
- `steps`: the child entry points (raw load, pandas reference);
- `runner`: one whole run; `python -m retail_ml.bench` is its command line.
"""
