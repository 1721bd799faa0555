"""``validation init``: a starter spec for a dataset, so a new model is validated in two commands.

Reads the data file (and, when given, the model artifact), guesses each column's role
(:func:`guess_roles`) and writes a commented YAML spec:

- **time**: a column of dates (a datetime type, or text that parses as ISO dates such as
  ``2024-03-15``), of periods (``2024-03``, ``2024-Q3``, ``2024-H1``), or named like a date
  (``date``, ``month``, ``vintage``, ``period``, ...) with date-like values (``202403``, ``2024``,
  ``15/03/2024``) becomes ``data.time``, never a categorical feature: dates first (they get
  ``time_grain: month``), then periods (:data:`TIME_PREFERENCE`); the other date columns are named
  in a comment and left out of the features;
- **identifiers** (named like one, or text or whole numbers unique on every row) go to ``data.ids``;
- **features**: the artifact's own input names (``feature_names_in_``) when an artifact is given,
  else every column with no other role;
- **protected attributes** (sex, age, race, marital status, ...) are listed under ``data.protected``
  and stay features when the model uses them (always, without an artifact); the spec is then
  flagged for conceptual-soundness review (:data:`DISPARATE_TREATMENT`), in a comment and by the
  command.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from validation.errors import InputError
from validation.inputs.samples import read_table
from validation.metrics.kinds import is_numeric

PROTECTED_WORDS = frozenset({"sex", "gender", "age", "race", "racial", "ethnicity", "ethnic", "religion", "religious",
                             "marital", "nationality", "citizenship", "disability", "disabled", "pregnancy"})
"""Words naming a protected attribute: the prohibited bases of ECOA / Regulation B (12 CFR 1002.2(z):
race, color, religion, national origin, sex, marital status, age) and of EU non-discrimination law
(Art. 21 of the Charter of Fundamental Rights: also disability)."""
PERSON_WORDS = frozenset({"applicant", "customer", "client", "borrower", "obligor", "person", "primary",
                          "secondary", "co", "coapplicant", "guarantor", "holder", "main"})
"""Words that make ``<person>_age`` a person's attribute, where ``account_age`` is not."""
ID_WORDS = frozenset({"id", "uuid", "guid", "ssn", "identifier"})
ID_OWNERS = frozenset({"account", "customer", "client", "applicant", "borrower", "loan", "contract",
                       "application", "facility", "obligor", "member", "user", "party"})
ID_SUFFIXES = frozenset({"no", "nr", "num", "number", "ref", "key"})
TIME_WORDS = frozenset({"date", "dt", "day", "week", "month", "quarter", "year", "vintage", "period", "cohort",
                        "yyyymm", "asof", "snapshot", "booking", "origination", "observation", "time"})
"""Words of a column name that make date-like numbers (``202403``, ``2024``) a time column."""

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|-?[Qq][1-4]|-?[Hh][12])$")
"""A month (``2024-03``), a quarter (``2024-Q3``, ``2024Q3``) or a half year (``2024-H1``)."""

DISPARATE_TREATMENT = (
    "A protected attribute as a model input is disparate treatment under fair-lending rules: ECOA and "
    "Regulation B (12 CFR 1002) prohibit treating applicants differently on a prohibited basis (age is "
    "allowed only in an empirically derived, demonstrably and statistically sound scoring system that does "
    "not score applicants aged 62 or over down, 12 CFR 1002.6(b)(2)); in the EU, the AI Act requires the "
    "data to be examined for biases that could lead to prohibited discrimination (Art. 10(2)(f)). "
    "Conceptual-soundness review: confirm each use is lawful and justified, or remove it from the model.")
"""Why a protected attribute among a model's inputs flags the spec for conceptual-soundness review."""
TIME_PREFERENCE = ("date", "period", "dates as text")
"""Which date column becomes ``data.time``, best first: dates (grouped by ``time_grain``), then
periods (months, quarters, ...), then text dates that are not ISO (each value its own period)."""
TEXT_DATES = ("dates as text, not ISO 8601: each value is its own period; write them as 2024-03-15 (or store "
              "a date type) for monthly periods (time_grain)")


def words(name: str) -> list[str]:
    """The words of a column name: ``applicantAge`` and ``Applicant-Age`` are ``['applicant', 'age']``.

    >>> words("loanNumber"), words("AGE_BAND"), words("as of date")
    (['loan', 'number'], ['age', 'band'], ['as', 'of', 'date'])
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def is_protected_name(name: str) -> bool:
    """A column named like a protected attribute: its first word is one (``age``, ``sex_code``,
    ``marital_status``), or a person's (``applicant_age``); ``account_age`` is not.

    >>> [is_protected_name(n) for n in ("age", "age_band", "applicant_age", "account_age", "agency")]
    [True, True, True, False, False]
    """
    parts = words(name)
    if not parts:
        return False
    return parts[0] in PROTECTED_WORDS or (bool(PERSON_WORDS & set(parts[:-1])) and parts[-1] in PROTECTED_WORDS)


def is_id_name(name: str) -> bool:
    """A column named like an identifier: ``id``, ``customer_id``, ``customerId``, ``loan_number``.

    >>> [is_id_name(n) for n in ("id", "customerId", "loan_number", "paid", "income")]
    [True, True, True, False, False]
    """
    parts = words(name)
    if ID_WORDS & set(parts):
        return True
    if len(parts) >= 2 and parts[-1] in ID_SUFFIXES and ID_OWNERS & set(parts[:-1]):
        return True
    return bool(parts) and any(parts[-1] == owner + "id" for owner in ID_OWNERS)


def date_kind(values: pd.Series, name: str) -> str | None:
    """``"date"`` for dates (a datetime type, or text parsing as ISO dates), ``"period"`` for
    months, quarters or half years as text, or date-like numbers (``YYYYMM``, ``YYYY``) in a column
    named like a date, ``"dates as text"`` for other text that parses as dates in a column named
    like one (``15/03/2024``); else ``None``.

    >>> date_kind(pd.Series(["2024-03-15", "2024-04-02"]), "opened")
    'date'
    >>> date_kind(pd.Series(["2024-Q3", "2024-Q4"]), "vintage"), date_kind(pd.Series([202403, 202404]), "month")
    ('period', 'period')
    >>> date_kind(pd.Series(["15/03/2024", "02/04/2024"]), "application_date")
    'dates as text'
    >>> date_kind(pd.Series([202403, 202404]), "income") is None
    True
    """
    present = values.dropna()
    if present.empty:
        return None
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    if pd.api.types.is_bool_dtype(values):
        return None
    if not is_numeric(values):
        text = present.astype(str).str.strip()
        if text.str.fullmatch(PERIOD).all():
            return "period"
        if text.str.fullmatch(ISO_DATE).all() and pd.to_datetime(text, format="ISO8601", errors="coerce",
                                                                 utc=True).notna().all():
            return "date"
        if TIME_WORDS & set(words(name)) and text.str.contains(r"\d").all() and pd.to_datetime(
                text, format="mixed", errors="coerce", utc=True).notna().all():
            return "dates as text"
        return None
    if not TIME_WORDS & set(words(name)) or not pd.api.types.is_integer_dtype(present):
        return None
    numbers = present.astype("int64")
    months = numbers % 100
    if ((numbers >= 1900_01) & (numbers <= 2100_12) & (months >= 1) & (months <= 12)).all():
        return "period"
    if ((numbers >= 1900) & (numbers <= 2100)).all():
        return "period"
    return None


def likely_ids(frame: pd.DataFrame, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns named like identifiers (:func:`is_id_name`), or text or whole-number columns unique
    on every row (more than 20 rows), except those in ``exclude`` (dates, say)."""
    found = []
    for column in frame.columns:
        if str(column) in exclude:
            continue
        values = frame[column]
        unique_everywhere = (len(frame) > 20 and values.nunique(dropna=False) == len(frame)
                             and not pd.api.types.is_float_dtype(values) and not pd.api.types.is_bool_dtype(values))
        if is_id_name(str(column)) or unique_everywhere:
            found.append(str(column))
    return found


def model_features(model: Any) -> list[str] | None:
    """The input column names a fitted model records, or ``None``: scikit-learn's and XGBoost's and
    LightGBM's estimators ``feature_names_in_``, CatBoost's ``feature_names_``, an XGBoost booster's
    ``feature_names``, a LightGBM booster's ``feature_name()``, a statsmodels result's exogenous
    names (without the constant).

    >>> from sklearn.linear_model import LogisticRegression
    >>> model_features(LogisticRegression().fit(pd.DataFrame({"age": [30, 40], "income": [1, 2]}), [0, 1]))
    ['age', 'income']
    """
    for attribute in ("feature_names_in_", "feature_names_", "feature_names"):
        try:
            names = getattr(model, attribute, None)
        except Exception:  # a property that raises when the model was fitted without names
            names = None
        if names is not None and not callable(names) and len(names):
            return [str(n) for n in names]
    booster_names = getattr(model, "feature_name", None)
    if callable(booster_names):
        try:
            return [str(n) for n in booster_names()]
        except Exception:
            return None
    exog = getattr(getattr(model, "model", None), "exog_names", None)
    if exog:
        return [str(n) for n in exog if str(n) not in ("const", "Intercept")]
    return None


@dataclass(frozen=True)
class Roles:
    """What :func:`guess_roles` made of a dataset's columns."""

    features: list[str]
    categorical: list[str]
    ids: list[str]
    protected: list[str]
    time: str | None = None
    time_grain: str | None = None
    other_dates: list[str] = field(default_factory=list)
    features_from_model: bool = False
    time_as_text: bool = False
    """``time`` holds dates as text that is not ISO 8601 (``15/03/2024``): each value is then its own
    period, since ``time_grain`` applies to dates only (day-first or month-first is not guessed)."""

    @property
    def protected_inputs(self) -> list[str]:
        """Protected attributes among the features."""
        return [c for c in self.protected if c in self.features]

    def review_note(self) -> str | None:
        """The conceptual-soundness flag, when protected attributes are (or may be) model inputs."""
        inputs = self.protected_inputs
        if not inputs:
            return None
        if self.features_from_model:
            return f"the model takes protected attributes as inputs ({', '.join(inputs)}). {DISPARATE_TREATMENT}"
        return (f"protected attributes are listed as features ({', '.join(inputs)}): if the model takes them as "
                f"inputs, the spec needs review; if it does not, remove them from data.features. {DISPARATE_TREATMENT}")


def guess_roles(frame: pd.DataFrame, target: str, score: str | None = None,
                inputs: list[str] | None = None) -> Roles:
    """Each column's role (the module docstring says how); ``inputs`` are the model's own feature
    names, when an artifact gave them.

    Examples
    --------
    >>> frame = pd.DataFrame({"loan_id": range(30), "opened": ["2024-03-15"] * 30, "vintage": ["2024-Q1"] * 30,
    ...                       "age": [30, 40] * 15, "region": ["n", "s", "e"] * 10, "default": [0, 1] * 15})
    >>> roles = guess_roles(frame, "default")
    >>> roles.time, roles.time_grain, roles.other_dates, roles.ids, roles.features, roles.protected
    ('opened', 'month', ['vintage'], ['loan_id'], ['age', 'region'], ['age'])
    """
    taken = {target, score}
    columns = [str(c) for c in frame.columns if c not in taken]
    dates = {c: kind for c in columns if (kind := date_kind(frame[c], c)) is not None and c not in (inputs or [])}
    time = min(dates, key=lambda c: TIME_PREFERENCE.index(dates[c]), default=None)  # ties: the first column
    ids = [c for c in likely_ids(frame[columns], exclude=tuple(dates)) if c not in (inputs or [])]
    protected = [c for c in columns if is_protected_name(c) and c not in ids and c not in dates]
    if inputs is not None:
        features = list(inputs)
    else:
        features = [c for c in columns if c not in ids and c not in dates]
    return Roles(features=features, categorical=[c for c in features if c in frame and not is_numeric(frame[c])],
                 ids=ids, protected=protected, time=time,
                 time_grain="month" if time is not None and dates[time] == "date" else None,
                 other_dates=[c for c in dates if c != time], features_from_model=inputs is not None,
                 time_as_text=time is not None and dates[time] == "dates as text")


def _artifact_inputs(artifact: Path, allow_pickle: bool, frame: pd.DataFrame, data: Path) -> tuple[str, list[str]]:
    """The artifact's sha256 and input names, loaded by the artifact loader (a pickle only with
    ``allow_pickle``); every input must be a column of the data."""
    from validation.errors import ArtifactError
    from validation.inputs.artifacts import load_artifact, sha256_file

    digest = sha256_file(artifact)
    model = load_artifact(artifact, digest, allow_pickle=allow_pickle)
    names = model_features(model)
    if not names:
        raise ArtifactError(artifact, "records no input column names (fit it on a DataFrame, so that it has "
                            "feature_names_in_), so its features cannot be read; leave out --artifact and list "
                            "data.features yourself")
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise InputError(f"--artifact {artifact}: the model takes {', '.join(map(repr, missing[:10]))}, which "
                         f"{data} does not have; give the data the model was fitted on")
    return digest, names


def _flow(name: str, items: list[str]) -> str:
    import yaml

    return f"{name}: " + yaml.safe_dump(items, default_flow_style=True, width=10_000).strip()


def starter_text(data: Path, frame: pd.DataFrame, roles: Roles, *, target: str, score: str | None, out: Path,
                 current: Path | None = None, name: str | None = None, artifact: Path | None = None,
                 artifact_sha256: str | None = None, allow_pickle: bool = False) -> str:
    """The text of a starter spec for ``data`` with the guessed ``roles``."""
    model = name or re.sub(r"[^A-Za-z0-9_.-]+", "_", data.stem).strip(".") or "model"
    base = out.resolve().parent
    relative = os.path.relpath(data.resolve(), base)
    current_relative = os.path.relpath((current or data).resolve(), base)
    note = roles.review_note()
    lines = [f"# Starter spec written by `validation init` for {data.name} "
             f"({len(frame):,} rows, {frame.shape[1]} columns).",
             "# Check every line, then: validation run " + str(out)]
    if note is not None:
        import textwrap

        lines += ["#", *textwrap.wrap("REVIEW (conceptual soundness): " + note, width=100, initial_indent="# ",
                                      subsequent_indent="#   ")]
    lines += ["model:", f"  name: {model}", '  version: "1"', "  type: classification",
              "  owner: # who owns the model", "  purpose: # what the model decides"]
    if artifact is not None:
        lines += [f"  artifact: {os.path.relpath(artifact.resolve(), base)}", f"  artifact_sha256: {artifact_sha256}"]
        if allow_pickle:
            lines.append("  allow_pickle: true    # a pickle can run code when loaded: prefer .skops")
    else:
        lines += ["  # artifact: models/model.skops        # to compute scores from the model (and explain it)",
                  "  # artifact_sha256: <sha256sum of the artifact>"]
    lines += ["data:", f"  reference: {relative}    # the development sample",
              f"  current: {current_relative}    # the monitoring sample"
              + ("" if current else ": replace with fresh data"),
              f"  target: {target}"]
    if score:
        lines.append(f"  score: {score}")
    elif artifact is None:
        lines.append("  # score: <column of predicted probabilities>   # or give model.artifact")
    if roles.time is not None:
        lines.append(f"  time: {roles.time}    # periods of the views by period (dates are never features)")
        if roles.time_grain is not None:
            lines.append(f"  time_grain: {roles.time_grain}    # day, week, month, quarter or year")
        if roles.time_as_text:
            lines.append(f"  # {TEXT_DATES}")
    if roles.other_dates:
        lines.append(f"  # other date columns, left out of the features: {', '.join(roles.other_dates)}")
    source = "    # the artifact's inputs (feature_names_in_)" if roles.features_from_model else ""
    lines.append("  features:" + (" []" if not roles.features else source))
    for column in roles.features:
        tags = ["categorical"] if column in roles.categorical else []
        tags += ["protected: see REVIEW above"] if column in roles.protected else []
        lines.append(f"    - {column}" + (f"    # {'; '.join(tags)}" if tags else ""))
    if roles.protected:
        lines.append("  " + _flow("protected", roles.protected) + "    # likely protected attributes: confirm; "
                     "with decision, add fairness")
    lines.append("  " + _flow("ids", roles.ids) + ("    # likely identifiers: never features, never shown"
                                                    if roles.ids else ""))
    lines += ["# decision: {threshold: 0.2, favourable: below}   # needed by the fairness check",
              "checks: [drift, backtesting]   # add fairness (with protected and decision) and explainability "
              "(with an artifact)", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Starter:
    """A written starter spec: its path and the roles guessed."""

    path: Path
    roles: Roles


def write_starter_spec(data: Path, target: str, *, score: str | None, out: Path, current: Path | None = None,
                       force: bool = False, artifact: Path | None = None, allow_pickle: bool = False) -> Starter:
    """Write the starter spec to ``out`` (never over an existing file unless ``force``).

    Raises
    ------
    InputError
        ``out`` exists (without ``force``), a column named is not in the data, or the artifact
        cannot be used (:class:`~validation.errors.ArtifactError`).
    """
    if out.exists() and not force:
        raise InputError(f"{out} exists; choose another --out or add --force")
    frame = read_table(data, "--data")
    for column, option in ((target, "--target"), (score, "--score")):
        if column is not None and column not in frame.columns:
            raise InputError(f"{option} {column!r}: no such column in {data}; it has: "
                             f"{', '.join(map(str, frame.columns[:20]))}")
    digest, inputs = _artifact_inputs(artifact, allow_pickle, frame, data) if artifact is not None else (None, None)
    if inputs is not None and (target in inputs or (score is not None and score in inputs)):
        raise InputError(f"--artifact {artifact}: the model takes the {'--target' if target in inputs else '--score'} "
                         "column as an input; check --target, --score and the artifact")
    roles = guess_roles(frame, target, score, inputs)
    text = starter_text(data, frame, roles, target=target, score=score, out=out, current=current, artifact=artifact,
                        artifact_sha256=digest, allow_pickle=allow_pickle)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return Starter(out, roles)
