"""Reference profiles: a development sample's drift summary, computed once and reused.

Monitoring re-runs on fresh data against the same (often large) development sample. A profile
holds, per column, what the drift statistics need from the reference: the PSI bins and their
counts (so PSI, chi-square and Jensen-Shannon are exactly those of the full sample), and for
numeric columns 1,001 quantiles (0, 0.001, ..., 1), the row count and the standard deviation
(so KS and Wasserstein are computed against the quantiles: the reference CDF is then known to
within 1/1000, and the KS statistic to within about 0.001; the pack says when this applies).

Written as JSON by ``validation profile SPEC --out FILE``; a spec uses it with
``data.reference_profile: FILE`` (the drift check then takes the reference from the profile).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.errors import DataError
from validation.metrics.drift import Binning, ColumnSample, column_sample, fit_bins

SCHEMA_VERSION = 2
"""2: numeric bin edges halfway between adjacent reference values
(:func:`validation.metrics.drift.quantile_edges`). A version-1 profile's edges may sit on heaped
values, so its PSI would differ from the direct computation's: it is refused, to be rebuilt."""
QUANTILES = np.linspace(0.0, 1.0, 1001)


@dataclass(frozen=True)
class StoredColumn:
    """One column of a profile: its bins, the reference counts per bin, and its summary."""

    binning: Binning
    counts: np.ndarray
    sample: ColumnSample


@dataclass(frozen=True)
class ReferenceProfile:
    """A reference sample's drift summary (see the module docstring)."""

    columns: dict[str, StoredColumn]
    settings: dict[str, int]
    source: dict[str, Any]
    path: str = ""

    def column(self, name: str) -> StoredColumn:
        try:
            return self.columns[name]
        except KeyError:
            raise DataError(self.path or "reference profile", name, "is not in the reference profile; "
                            "rebuild it with `validation profile`", "data.reference_profile") from None


def build_profile(reference: pd.DataFrame, columns: list[str], *, bins: int = 10, max_discrete: int = 10,
                  max_categories: int = 50, source: dict[str, Any] | None = None) -> ReferenceProfile:
    """Profile the given columns of a reference sample."""
    stored = {}
    for name in columns:
        sample = column_sample(reference[name])
        empty = ColumnSample(sample.numeric, 0, 0, sorted_values=np.array([]) if sample.numeric else None,
                             categories=None if sample.numeric else {})
        binning = fit_bins(sample, empty, bins=bins, max_discrete=max_discrete, max_categories=max_categories)
        if sample.n_missing and not binning.has_missing:
            binning = Binning(binning.kind, binning.edges, binning.categories, binning.has_other, True, binning.note)
        counts = binning.counts(sample)
        summary = sample
        if sample.numeric:
            values = sample.sorted_values
            assert values is not None
            summary = ColumnSample(True, sample.n, sample.n_missing,
                                   quantiles=np.quantile(values, QUANTILES) if len(values) else np.array([]),
                                   stored_sd=sample.sd)
        stored[name] = StoredColumn(binning, counts, summary)
    return ReferenceProfile(stored, {"bins": bins, "max_discrete": max_discrete, "max_categories": max_categories},
                            dict(source or {}))


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def save_profile(profile: ReferenceProfile, path: str | Path) -> None:
    """Write a profile as JSON."""
    columns = {}
    for name, column in profile.columns.items():
        b, s = column.binning, column.sample
        columns[name] = {
            "kind": b.kind, "edges": list(b.edges),
            "categories": [c if isinstance(c, str) else float(c) for c in b.categories],
            "has_other": b.has_other, "has_missing": b.has_missing, "note": b.note,
            "counts": [int(c) for c in column.counts], "numeric": s.numeric, "n": s.n,
            "n_missing": s.n_missing,
            "quantiles": None if s.quantiles is None else [float(q) for q in s.quantiles],
            "sd": _finite(s.stored_sd) if s.numeric else None,
            "category_counts": s.categories,
        }
    document = {"schema_version": SCHEMA_VERSION, "settings": profile.settings, "source": profile.source,
                "columns": columns}
    from validation.judging.findings import plain

    Path(path).write_text(json.dumps(plain(document), indent=1, allow_nan=False) + "\n", encoding="utf-8")


def load_profile(path: str | Path) -> ReferenceProfile:
    """Read a profile written by :func:`save_profile`.

    Raises
    ------
    DataError
        Naming the file (spec key ``data.reference_profile``) when it is missing or malformed.
    """
    path = Path(path)
    role = "data.reference_profile"
    if not path.is_file():
        raise DataError(path, None, "reference profile not found; build it with `validation profile`", role)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"schema_version {document.get('schema_version')!r}, expected {SCHEMA_VERSION}")
        stored = {}
        for name, c in document["columns"].items():
            binning = Binning(c["kind"], tuple(c["edges"]), tuple(c["categories"]), bool(c["has_other"]),
                              bool(c["has_missing"]), c.get("note", ""))
            sample = ColumnSample(
                bool(c["numeric"]), int(c["n"]), int(c["n_missing"]),
                quantiles=np.asarray(c["quantiles"], dtype=float) if c["quantiles"] is not None else None,
                categories=c.get("category_counts"),
                stored_sd=float(c["sd"]) if c.get("sd") is not None else math.nan,
            )
            stored[name] = StoredColumn(binning, np.asarray(c["counts"], dtype=np.int64), sample)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise DataError(path, None, f"not a valid reference profile ({type(exc).__name__}: {str(exc)[:200]}); rebuild it with "
                        "`validation profile`", role) from None
    return ReferenceProfile(stored, dict(document["settings"]), dict(document["source"]), str(path))
