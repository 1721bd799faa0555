"""Evidently's DataDriftPreset on the bench's samples, end to end: read both parquet files, run the
report on the same columns as our drift check, save its HTML. Run by the Python of a separate
environment with Evidently installed (``EVIDENTLY_PYTHON``), never imported by this project; prints
one JSON line with the seconds taken and Evidently's version.

Usage: ``python evidently_drift.py REFERENCE.parquet CURRENT.parquet OUT.html COLUMN...``
"""

from __future__ import annotations

import json
import sys
import time
from importlib import metadata

import pandas as pd


def main() -> None:
    reference_path, current_path, out, *columns = sys.argv[1:]
    started = time.perf_counter()
    reference = pd.read_parquet(reference_path, columns=columns)
    current = pd.read_parquet(current_path, columns=columns)
    try:  # Evidently 0.7 and later
        from evidently import Report
        from evidently.presets import DataDriftPreset

        snapshot = Report([DataDriftPreset()]).run(reference_data=reference, current_data=current)
        snapshot.save_html(out)
    except ImportError:  # Evidently 0.4 to 0.6
        from evidently.metric_preset import DataDriftPreset
        from evidently.report import Report

        report = Report(metrics=[DataDriftPreset()])
        report.run(reference_data=reference, current_data=current)
        report.save_html(out)
    print(json.dumps({"seconds": time.perf_counter() - started, "version": metadata.version("evidently")}))


if __name__ == "__main__":
    main()
