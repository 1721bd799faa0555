"""The data quality check: are the data the model is validated on complete, consistent with the
reference, and mature?

Per column: schema (kind in each sample), missing shares (sentinel codes of
``data.missing_values`` counted as missing) and the two-proportion test of their change, values
outside the reference's range and categories the reference never shows, constant features and
text features so nearly unique that they look like identifiers. Per sample: rows repeating an
identifier (``data.ids``; removed when the samples were read) and fully duplicated rows. With
``data.time``: the default rate by vintage and, with ``data.outcome_window``, the share of rows
whose outcome window has not closed. A sample description (rows, periods, default rate, exclusions
applied) goes to the pack's index. Aggregates only: no value of an identifier-like column is ever
shown, and a category is named only when it has at least
:data:`~validation.metrics.drift.MIN_CATEGORY_COUNT` rows in one sample. The statistics are
:mod:`validation.metrics.quality`; the check owns the rules of its metrics (:attr:`DataQualityCheck.rules`).
"""

from __future__ import annotations

import datetime
import math
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from pydantic import Field, field_validator

from validation.checks.base import (ECB_GUIDE, EU_AI_ACT, US_MRM, Basis, BuiltinCheck, CheckContext, CheckOutput,
                                    CheckParams, Headline)
from validation.judging.policy import UNIT, Rule

if TYPE_CHECKING:
    import pandas as pd

    from validation.inputs.samples import Samples
    from validation.inputs.spec import ModelVersionSpec
    from validation.judging.findings import Finding
    from validation.metrics.quality import ColumnProfile

MIN_ID_LIKE_ROWS = 50
"""Default of ``min_id_like_rows`` (project default): a text feature is judged identifier-like only
on at least this many present values; in fewer, distinct free text is common and proves nothing."""

MAX_MIN_ID_LIKE_ROWS = 1_000_000
"""Largest ``min_id_like_rows`` (a bound like the other checks' minimums)."""

NO_REFERENCE = ("not applicable: the spec gives no reference sample (data.reference), so nothing is compared with "
                "one")
"""What the reference-against-current parts say when there is no reference sample."""

_PROJECT = "project default: "
_RULES: dict[str, Rule] = {
    "schema_change": Rule(
        "higher_is_worse", 1, 2,
        _PROJECT + "1 (amber): a column new in the current sample, or a number stored another way (integer against "
        "float); 2 (red): a column of the reference missing from the current sample, or of another kind (the "
        "model would score what it was not built on). The loader already refuses a named column missing or turned "
        "from number to text; what reaches this check is judged here", domain=(0.0, 2.0),
        meaning="The column {subject} changed between the reference and the current sample"),
    "missing_share": Rule(
        "higher_is_worse", 0.20, None,
        _PROJECT + "a fifth of a column missing (or coded missing, data.missing_values) is a data fact a validator "
        "must see: the model's response to the column rests on how the missing rows were treated; amber at most, "
        "since a share as high in the reference was known at development (its change is missing_share_change)",
        domain=UNIT, meaning="{subject} is missing, or coded missing, in a large share of the current sample"),
    "missing_share_change": Rule(
        "higher_is_worse", 0.05, 0.10,
        _PROJECT + "the missing share rose 5 points (10 red) from the reference, and significantly: flagged only when "
        "the two-proportion z-test (Agresti 2013, 3.1.3) is below 5%, adjusted over the columns; a fall in the "
        "missing share is no harm", domain=(-1.0, 1.0), significance=0.05,
        null_hypothesis="the column is missing as often in the current sample as in the reference",
        meaning="{subject} is missing much more often than in the reference sample"),
    "out_of_range_share": Rule(
        "higher_is_worse", 0.01, 0.05,
        _PROJECT + "1% of the current rows (5% red) outside the reference's range, where the model extrapolates; "
        "flagged only when more than chance would put there (exact beta-binomial test under exchangeability, Wilks "
        "1962, 11.2) at 5%, adjusted over the columns", domain=UNIT, significance=0.05,
        null_hypothesis="the current values come from the reference's distribution (a value falls outside the "
                        "reference's range only by chance)",
        meaning="Values of {subject} fall outside the range the model was developed on"),
    "unseen_category_share": Rule(
        "higher_is_worse", 0.01, 0.05,
        _PROJECT + "1% of the current rows (5% red) in categories the reference never shows, which the model scores "
        "as it was told to treat the unknown; judged when such rows number at least 5 (fewer is noise and would "
        "disclose them)", domain=UNIT,
        meaning="{subject} takes values the model never saw in the reference sample"),
    "duplicate_row_share": Rule(
        "higher_is_worse", 0.01, None,
        _PROJECT + "1% of the rows equal on every column to an earlier row (identifiers aside): copies inflate "
        "every test's evidence; amber, since coarse data can repeat legitimately", domain=UNIT,
        meaning="Rows of the {subject} sample are exact copies of other rows"),
    "constant_feature": Rule(
        "higher_is_worse", 1, None,
        _PROJECT + "a feature with one value (or none) in a sample carries no information there", domain=UNIT,
        meaning="{subject} is constant: it carries no information"),
    "distinct_share": Rule(
        "higher_is_worse", 0.9, None,
        _PROJECT + "a text feature whose distinct values are 90% of its present rows looks like an identifier "
        "(names, account numbers): a model that uses it memorises applicants, and its values are personal data; "
        "judged on at least min_id_like_rows present rows", domain=UNIT,
        meaning="{subject} looks like an identifier, not a feature"),
    "immature_outcome_share": Rule(
        "higher_is_worse", 0.10, None,
        _PROJECT + "a tenth of the current rows whose outcome window (data.outcome_window) had not closed: their "
        "defaults are not all observed yet, which understates the observed default rate by up to that share, half "
        "the band of observed / expected defaults the calibration tests call immaterial", domain=UNIT,
        meaning="The outcomes of many current rows are not yet known: their outcome window has not closed"),
}


class DataQualityParams(CheckParams):
    as_of: str | None = Field(
        None, pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="date the outcomes were taken (YYYY-MM-DD), for outcome maturity; None: the end of the "
                    "latest period in the current sample")
    min_id_like_rows: int = Field(
        MIN_ID_LIKE_ROWS, ge=2, le=MAX_MIN_ID_LIKE_ROWS,
        description="a text feature is judged identifier-like only on at least this many present values")
    max_categories: int = Field(50, ge=2, le=1000,
                                description="category tables are shown for text columns of at most this many values")

    @field_validator("as_of")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        if value is not None:
            datetime.date.fromisoformat(value)  # a date that does not exist is refused
        return value


class DataQualityCheck(BuiltinCheck):
    name = "data_quality"
    reads_batches = True  # data.batch_rows: validation.metrics.streamed_quality
    relative_cost = 0.3  # measured at 1M rows (bench/run.py, full pack): see Check.relative_cost
    description = ("schema, missing shares (sentinel codes included) and their change, ranges, unseen categories, "
                   "duplicates, constant and identifier-like features, outcome maturity, sample description")
    template = "data_quality.ipynb"
    params = DataQualityParams
    headlines = (Headline("max_missing_share", "largest missing share", "missing_share", None, "max"),
                 Headline("immature_outcome_share", "immature outcome share", "immature_outcome_share",
                          "sample:current", "max"))
    basis = (Basis(ECB_GUIDE, "general topics, data quality: the data used are complete, accurate, consistent, "
                              "timely, unique and valid, with a documented data quality framework"),
             Basis(EU_AI_ACT, "Art. 10(2)(f) and (h) (data and data governance): the data examined for possible "
                              "biases and for gaps and shortcomings (missing and coded values, new categories)",
                   ("classification",)),
             Basis(EU_AI_ACT, "Art. 10(3): data sets relevant, representative, and to the best extent possible free "
                              "of errors and complete in view of the intended purpose", ("classification",)),
             Basis(US_MRM, "data quality and relevance: the data the model is used on are checked for completeness, "
                           "consistency with the development data and the maturity of the outcomes"))
    metric_basis = {"immature_outcome_share": Basis(US_MRM, "outcomes analysis uses outcomes whose window has closed")}
    rules: ClassVar[Mapping[str, Rule]] = _RULES

    def check_inputs(self, spec: "ModelVersionSpec", samples: "Samples", params: Any) -> None:
        """Refuse a column of ``data.missing_values`` the samples do not hold
        (:class:`~validation.errors.SpecError` naming ``data.missing_values.<column>``)."""
        from validation.errors import SpecError

        held = [str(c) for c in samples.current.columns]
        for column in spec.data.missing_values or {}:
            if column not in held:
                raise SpecError(spec.path, f"data.missing_values.{column}",
                                f"'{column}' is not a column of the samples read (data.features, data.protected, "
                                f"data.segments or a role column); fix the name or remove it. Columns read: "
                                f"{', '.join(held[:20])}")

    def run(self, context: CheckContext, params: DataQualityParams) -> CheckOutput:
        """Judge the data quality of the samples.

        Returns
        -------
        CheckOutput
            Tables ``sample``, ``schema``, ``missing``, ``ranges``, ``categories``, ``duplicates``,
            ``features`` and ``vintages`` (with ``data.time``); the summary holds
            ``sample_description`` (rows of item, reference, current: the pack's index shows it),
            ``reference_rows``, ``current_rows``, ``columns``, ``missing_values`` (columns with
            codes), ``outcome_window`` and ``as_of``.
        """
        import pandas as pd

        from validation.metrics import quality

        s, d = context.samples, context.spec.data
        codes = {str(k): list(v) for k, v in (d.missing_values or {}).items()}
        columns = _examined(context)
        read: _Read = _InBatches(context, columns, codes) if d.batch_rows is not None \
            else _InMemory(context, columns, codes)
        current, reference = read.profiles["current"], read.profiles.get("reference", {})
        output = CheckOutput(self.name)
        output.section("Method").text(_method(context, codes))
        sample_section = output.section("Sample description")  # its table once outcome maturity is known
        description = _sample_description(output, context, codes, read)
        _schema(output, context, columns, read)
        _missing(output, context, reference, current, codes)
        _ranges(output, context, reference, current, codes, params, read)
        _duplicates(output, context, read)
        _features(output, context, reference, current, params)
        as_of = _vintages(output, context, params, read)
        description.append({"item": "outcome maturity", "reference": "-",
                            "current": _maturity(output, context, as_of, read)})
        output.tables["sample"] = pd.DataFrame(description).set_index("item")
        sample_section.table(output.tables["sample"])
        judged = context.policy.judge_all(output.findings)
        output.headline = _headline(judged, context, read)
        output.summary = {"reference_rows": read.rows.get("reference"), "batch_rows": d.batch_rows,
                          "current_rows": read.rows["current"], "columns": len(columns),
                          "missing_values": sorted(codes), "outcome_window": d.outcome_window,
                          "as_of": str(as_of) if as_of is not None else None, "sample_description": description}
        return output


# --- the samples, read whole or in batches ------------------------------------------------------


class _Read:
    """What the check needs of the samples: per role (``reference`` when given, ``current``) the
    rows, the examined columns' profiles, every column's kind, the sample's description and its
    fully duplicated rows; the current sample's values outside the reference's range and its rows
    and defaults per period."""

    rows: dict[str, int]
    profiles: dict[str, dict[str, "ColumnProfile"]]
    kinds: dict[str, dict[str, str]]
    described: dict[str, dict[str, Any]]
    copies: dict[str, int]
    has_time: bool

    def outside(self, column: str, low: float, high: float) -> int:
        raise NotImplementedError

    def periods(self) -> tuple["pd.Series", "pd.Series | None"]:
        """The current sample's rows (and defaults, with a target) per period label."""
        raise NotImplementedError


class _InMemory(_Read):
    def __init__(self, context: CheckContext, columns: list[str], codes: dict[str, list[Any]]) -> None:
        from validation.metrics import quality

        s, d = context.samples, context.spec.data
        frames = {"reference": context.reference, "current": context.current} if s.has_reference \
            else {"current": context.current}
        self.context, self.codes = context, codes
        self.rows = {role: len(frame) for role, frame in frames.items()}
        self.profiles = {role: quality.profile_frame(frame, columns, codes) for role, frame in frames.items()}
        self.kinds = {role: {str(c): quality.kind_of(frame[c]) for c in frame.columns}
                      for role, frame in frames.items()}
        self.described = {role: quality.describe_sample(frame, time=d.time, target=s.target)
                          for role, frame in frames.items()}
        self.copies = {role: quality.duplicate_rows(frame) for role, frame in frames.items()}
        self.has_time = d.time is not None and d.time in context.current.columns

    def outside(self, column: str, low: float, high: float) -> int:
        from validation.metrics import quality

        return quality.outside_range(self.context.current[column], low, high, self.codes.get(column, ()))

    def periods(self) -> tuple["pd.Series", "pd.Series | None"]:
        from validation.metrics import quality

        d, s = self.context.spec.data, self.context.samples
        labels = quality.period_names(self.context.current[str(d.time)])
        target = self.context.current[s.target].astype(float) if s.target else None
        return (labels.value_counts(sort=False),
                target.groupby(labels.to_numpy(), sort=False).sum() if target is not None else None)


class _InBatches(_Read):
    """One pass over each sample and one over the current sample's numeric columns
    (:mod:`validation.metrics.streamed_quality`); a sample of more than 16M rows takes one more
    pass per 16M rows for its duplicated rows."""

    def __init__(self, context: CheckContext, columns: list[str], codes: dict[str, list[Any]]) -> None:
        from validation.inputs.samples import SCORE_FROM_ARTIFACT, file_columns, scores_from_artifact, wanted_columns
        from validation.metrics import streamed_quality as sq

        s, d = context.samples, context.spec.data
        roles = ["reference", "current"] if s.has_reference else ["current"]
        self.summaries, self.copies = {}, {}
        for role in roles:  # the columns a whole sample is read with (identifiers dropped)
            present = file_columns(context.spec, f"data.{role}", context.sources)
            read = [c for c in (wanted_columns(context.spec) or present) if c in set(present) and c not in d.ids]
            if scores_from_artifact(context.spec):  # as a sample read whole holds them
                read.append(SCORE_FROM_ARTIFACT)
            time = d.time if d.time in read else None
            summary = sq.summarise(context.sample(f"data.{role}"), read, codes, time=time,
                                   target=s.target if s.target in read else None)
            self.copies[role] = sq.duplicates(context.sample(f"data.{role}"), summary)
            summary.hashes = None  # counted: one sample's row hashes held at a time
            self.summaries[role] = summary
        self.context, self.codes = context, codes
        self.rows = {role: summary.rows for role, summary in self.summaries.items()}
        self.profiles = {role: {c: p for c, p in sq.profiles(summary).items() if c in columns}
                         for role, summary in self.summaries.items()}
        self.kinds = {role: sq.kinds(summary) for role, summary in self.summaries.items()}
        self.described = {role: sq.describe(summary, target=s.target) for role, summary in self.summaries.items()}
        self.has_time = d.time is not None and d.time in self.kinds["current"]
        self._outside: dict[str, int] | None = None

    def outside(self, column: str, low: float, high: float) -> int:
        from validation.metrics import streamed_quality as sq

        if self._outside is None:  # every numeric column in one pass, against the reference's ranges
            current, reference = self.profiles["current"], self.profiles.get("reference", {})
            ranges = {c: (float(r.minimum), float(r.maximum)) for c, r in reference.items()
                      if c in current and r.kind == current[c].kind and r.minimum is not None
                      and r.maximum is not None and current[c].kind in ("integer", "float")}
            self._outside = sq.outside_counts(self.context.sample("data.current"), ranges, self.codes)
        return self._outside[column]

    def periods(self) -> tuple["pd.Series", "pd.Series | None"]:
        summary = self.summaries["current"]
        return summary.period_rows, (summary.period_defaults if self.context.samples.target else None)


# --- helpers -----------------------------------------------------------------------------------


def _examined(context: CheckContext) -> list[str]:
    """The columns judged: the features, then the protected attributes, segments and columns with
    missing codes the samples hold, and a VaR model's P&L and VaR."""
    d, s = context.spec.data, context.samples
    extra = [*d.protected, *d.segments, *(d.missing_values or {}), d.pnl, d.var]
    held = set(map(str, context.current.columns))
    return [c for c in dict.fromkeys([*s.features, *[c for c in extra if c]]) if c in held]


def _subject(context: CheckContext, column: str) -> str:
    return f"feature:{column}" if column in context.samples.features else f"column:{column}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f}%"


def _method(context: CheckContext, codes: dict[str, list[Any]]) -> str:
    from validation.reporting.display import md

    coded = ("; ".join(f"`{md(c)}`: {', '.join(md(str(v)) for v in values)}" for c, values in codes.items())
             if codes else "none (data.missing_values)")
    text = ("Every share is of all the rows of a sample. Missing means a missing value or a code the spec says means "
            f"missing ({coded}). The missing share's change is tested with the two-proportion z-test (pooled "
            "variance, two-sided); a value outside the reference's range with the exact beta-binomial test of "
            "exchangeability (a reference of n rows leaves 2 / (n + 1) of new rows outside by chance); both are "
            "judged only when material and significant, p-values adjusted over the columns "
            f"(`multiplicity: {context.policy.multiplicity}`). Categories with fewer rows than the privacy minimum "
            "in both samples are pooled; identifier-like columns are counted, never shown.")
    if not context.samples.has_reference:
        text += " Schema, missing-share changes, ranges and unseen categories: " + NO_REFERENCE + "."
    return text


def _sample_description(output: CheckOutput, context: CheckContext, codes: dict[str, list[Any]],
                        read: _Read) -> list[dict[str, str]]:
    from validation.metrics.drift import MIN_CATEGORY_COUNT

    s = context.samples
    described = {role: read.described.get(role) for role in ("reference", "current")}
    sampled = {key.removeprefix("data."): value for key, value in (s.sampled or {}).items()}

    def cell(role: str, item: str) -> str:
        info = described[role]
        if info is None:
            return "no sample"
        if item == "rows":
            return f"{info['rows']:,}"
        if item == "periods":
            return "n/a" if info["periods"] is None else f"{info['periods']:,}"
        if item == "date range":
            return "n/a" if info["first_period"] is None else f"{info['first_period']} to {info['last_period']}"
        if item == "default rate":
            return "n/a" if info["rows"] < MIN_CATEGORY_COUNT else _percent(info["default_rate"])
        if item == "duplicate-id rows removed":
            return f"{s.duplicates[role]:,}" if role in s.duplicates else "no data.ids"
        if item == "sampling (data.max_rows)":
            return (f"seeded sample of {sampled[role][0]:,} of {sampled[role][1]:,} rows" if role in sampled
                    else "none")
        if not codes:
            return "none"
        return "; ".join(f"{column}: {', '.join(map(str, values))}" for column, values in codes.items())

    items = ["rows", "periods", "date range", "default rate", "duplicate-id rows removed", "sampling (data.max_rows)",
             "codes counted as missing (data.missing_values)"]
    rows = [{"item": item, "reference": cell("reference", item), "current": cell("current", item)} for item in items]
    return rows


def _schema(output: CheckOutput, context: CheckContext, columns: list[str], read: _Read) -> None:
    from validation.judging.findings import finding
    from validation.metrics import quality

    section = output.section("Schema")
    if not context.samples.has_reference:
        section.text("Schema of the reference against the current sample: " + NO_REFERENCE + ".")
        return
    table = quality.schema_of(read.kinds["reference"], read.kinds["current"])
    output.tables["schema"] = table
    for column, row in table.iterrows():
        column = str(column)
        if column in columns or row["code"] != quality.SCHEMA_SAME:
            output.findings.append(finding("schema_change", _subject(context, column), int(row["code"]),
                                           note=str(row["change"]), cause=f"{column} schema"))
    section.text("Kind of every column read, in each sample (identifiers, data.ids, are dropped on reading).")
    section.table(table)


def _missing(output: CheckOutput, context: CheckContext, reference: dict[str, "ColumnProfile"],
             current: dict[str, "ColumnProfile"], codes: dict[str, list[Any]]) -> None:
    from validation.judging.findings import finding
    from validation.metrics import quality
    from validation.reporting.formatting import format_number

    table = quality.missing_table(reference, current)
    output.tables["missing"] = table
    for column, row in table.iterrows():
        column = str(column)
        subject, cause = _subject(context, column), f"{column} missing"
        coded = f"; codes counted as missing: {', '.join(map(str, codes[column]))}" if column in codes else ""
        before = f"reference {_percent(row['reference_share'])}" if context.samples.has_reference else "no reference"
        output.findings.append(finding("missing_share", subject, float(row["current_share"]),
                                       note=f"{int(row['current_missing']):,} of {int(row['current_rows']):,} rows; "
                                            f"{before}{coded}", cause=cause))
        # a column missing nowhere has no change to test: left out, it does not dilute the others' adjustment
        if context.samples.has_reference and (row["reference_missing"] > 0 or row["current_missing"] > 0):
            fall = "; a fall is never judged worse" if row["change"] < 0 else ""
            output.findings.append(finding("missing_share_change", subject, float(row["change"]),
                                           p_value=float(row["p_value"]), family="missing", cause=cause,
                                           note=(f"{_percent(row['reference_share'])} to "
                                                 f"{_percent(row['current_share'])} (unadjusted p = "
                                                 f"{format_number(row['p_value'], 'p')}; the status uses the "
                                                 f"p-value adjusted over the columns){fall}")))
    section = output.section("Missing values")
    section.text("Rows missing per column, sentinel codes included, in each sample; the change and its "
                 "two-proportion z-test." + ("" if context.samples.has_reference else " Change: " + NO_REFERENCE + "."))
    section.table(table.rename(columns={"p_value": "unadjusted_p_value"}).round(4))


def _ranges(output: CheckOutput, context: CheckContext, reference: dict[str, "ColumnProfile"],
            current: dict[str, "ColumnProfile"], codes: dict[str, list[Any]], params: DataQualityParams,
            read: _Read) -> None:
    import pandas as pd

    from validation.judging.findings import finding
    from validation.metrics import quality
    from validation.metrics.drift import MIN_CATEGORY_COUNT
    from validation.reporting.display import md
    from validation.reporting.formatting import format_number

    section = output.section("Ranges and unseen categories")
    if not context.samples.has_reference:
        section.text("Values outside the reference's range and categories unseen in it: " + NO_REFERENCE + ".")
        return
    ranges, categories = [], []
    for column, now in current.items():
        before = reference.get(column)
        if before is None or before.kind != now.kind:
            continue
        subject = _subject(context, column)
        if now.kind in ("integer", "float") and before.minimum is not None:
            assert before.maximum is not None
            outside = read.outside(column, before.minimum, before.maximum)
            p = quality.range_excursion_pvalue(outside, now.present, before.present)
            share = outside / now.rows if now.rows else float("nan")
            # the reference's min and max are single applicants' values: used, never shown
            ranges.append({"column": column, "current_outside": outside, "current_share": share,
                           "unadjusted_p_value": p})
            output.findings.append(finding("out_of_range_share", subject, share, p_value=p, family="range",
                                           cause=f"{column} range",
                                           note=f"{outside:,} current rows outside the reference's range; "
                                                f"{2 / (before.present + 1):.2%} expected by chance (unadjusted "
                                                f"p = {format_number(p, 'p')})"))
        elif now.kind == "text":
            unseen = quality.unseen_rows(before, now)
            rows = int(unseen.sum())
            named = [f"{md(str(k))} ({int(v):,})" for k, v in unseen.items() if v >= MIN_CATEGORY_COUNT][:5]
            hidden = int(unseen[unseen < MIN_CATEGORY_COUNT].sum())
            note = (f"{rows:,} rows in {len(unseen)} unseen categories" + (f": {', '.join(named)}" if named else "")
                    + (f"; {hidden:,} rows in categories under {MIN_CATEGORY_COUNT} rows, not named" if hidden else ""))
            share = rows / now.rows if now.rows else float("nan")
            categories.append({"column": column, "reference_categories": before.categories,
                               "current_categories": now.categories, "unseen_categories": len(unseen),
                               "unseen_rows": rows, "unseen_share": share})
            output.findings.append(finding("unseen_category_share", subject, share, cause=f"{column} categories",
                                           judged=rows >= MIN_CATEGORY_COUNT, note=note))
    section.text("Numeric columns: current rows outside the reference's [min, max] and the beta-binomial p-value "
                 "of that many by chance, before its adjustment over the columns (the statuses use the adjusted "
                 "one). The extremes themselves are single applicants' values: they are not shown.")
    output.tables["ranges"] = pd.DataFrame(ranges).set_index("column") if ranges else pd.DataFrame()
    section.table(output.tables["ranges"].round(4))
    section.text("Text columns: categories in each sample and the current rows in categories the reference never "
                 f"shows. Rows per category below, for columns of at most {params.max_categories} categories "
                 f"(categories under {MIN_CATEGORY_COUNT} rows in both samples pooled).")
    output.tables["categories"] = pd.DataFrame(categories).set_index("column") if categories else pd.DataFrame()
    section.table(output.tables["categories"].round(4))
    for column, now in current.items():
        before = reference.get(column)
        if now.kind == "text" and before is not None and before.kind == "text" \
                and max(now.categories, before.categories) <= params.max_categories:
            section.text(f"`{md(column)}`")
            section.table(quality.category_table(before, now))


def _duplicates(output: CheckOutput, context: CheckContext, read: _Read) -> None:
    import pandas as pd

    from validation.judging.findings import finding

    s = context.samples
    rows = []
    for role, copies in read.copies.items():
        size = read.rows[role]
        share = copies / size if size else float("nan")
        rows.append({"sample": role, "rows": size, "duplicate_id_rows_removed": s.duplicates.get(role),
                     "duplicate_rows": copies, "duplicate_row_share": share})
        if role in s.duplicates:
            count = int(s.duplicates[role])
            output.findings.append(finding(
                "duplicate_id_rows", f"sample:{role}", count, cause="duplicate data.ids",
                note=(f"{count:,} rows repeated an identifier of data.ids (a repeated applicant) and were removed "
                      "when the sample was read, one row kept per identifier" if count else "each identifier once")))
        output.findings.append(finding("duplicate_row_share", f"sample:{role}", share, cause="duplicate rows",
                                       note=f"{copies:,} rows equal on every column read to an earlier row"))
    table = pd.DataFrame(rows).set_index("sample")
    output.tables["duplicates"] = table
    section = output.section("Duplicates")
    section.text("Rows repeating an identifier (data.ids) were removed when the samples were read; their count is "
                 "the file's own. Fully duplicated rows are equal on every column read (identifiers aside)."
                 + ("" if context.spec.data.ids
                    else " The spec gives no data.ids: repeated applicants cannot be told."))
    section.table(table.round(4))


def _features(output: CheckOutput, context: CheckContext, reference: dict[str, "ColumnProfile"],
              current: dict[str, "ColumnProfile"], params: DataQualityParams) -> None:
    import pandas as pd

    from validation.judging.findings import finding

    rows = []
    for column in context.samples.features:
        now = current.get(column)
        if now is None:
            continue
        before = reference.get(column)
        constant_in = [role for role, p in (("reference", before), ("current", now)) if p is not None and p.constant]
        output.findings.append(finding("constant_feature", f"feature:{column}", int(bool(constant_in)),
                                       cause=f"{column} constant",
                                       note=f"constant in the {' and '.join(constant_in)} sample" if constant_in
                                       else None))
        share = now.distinct_share
        if now.kind == "text":
            enough = now.present >= params.min_id_like_rows
            output.findings.append(finding(
                "distinct_share", f"feature:{column}", share, judged=enough, cause=f"{column} identifier-like",
                note=(f"{now.categories:,} distinct values in {now.present:,} present rows (values not shown)"
                      + ("" if enough else f"; fewer than min_id_like_rows ({params.min_id_like_rows}) present rows:"
                                          " not judged"))))
        rows.append({"feature": column, "kind": now.kind, "constant": bool(constant_in),
                     "distinct_values": now.categories if now.kind == "text" else None, "distinct_share": share})
    table = pd.DataFrame(rows).set_index("feature") if rows else pd.DataFrame()
    output.tables["features"] = table
    section = output.section("Constant and identifier-like features")
    section.text("A feature with at most one present value in a sample is constant there; a text feature whose "
                 "distinct values are nearly as many as its rows looks like an identifier (counted, never shown).")
    section.table(table.round(4))


def _vintages(output: CheckOutput, context: CheckContext, params: DataQualityParams,
              read: _Read) -> datetime.date | None:
    from validation.judging.findings import finding
    from validation.metrics import quality

    d, s = context.spec.data, context.samples
    section = output.section("Outcome maturity and default rate by vintage")
    if not read.has_time:
        section.text("No time column in the spec (`data.time`): no vintages, no outcome maturity.")
        return None
    given = datetime.date.fromisoformat(params.as_of) if params.as_of else None
    table, as_of = quality.vintage_counts(*read.periods(), window=d.outcome_window, as_of=given)
    output.tables["vintages"] = table
    if d.outcome_window is None:
        as_of = None
        section.text("Rows and default rate per period of the current sample. No `data.outcome_window`: outcome "
                     "maturity not assessed (give the months after which an outcome is known).")
    elif as_of is None:
        section.text(f"The periods of `{d.time}` are not dates or period labels (2025-03, 2025-Q1, ...): outcome "
                     "maturity cannot be dated.")
    else:
        share = quality.immature_share(table)
        immature = int(table.loc[table["mature"].eq(False), "rows"].sum())
        origin = "as_of" if given else "the end of the latest period in the current sample"
        output.findings.append(finding(
            "immature_outcome_share", "sample:current", share, cause="immature outcomes",
            note=f"{immature:,} of {read.rows['current']:,} rows in vintages whose {d.outcome_window}-month window "
                 f"closes after {as_of} ({origin})"))
        section.text(f"A vintage is mature when its last day plus the outcome window ({d.outcome_window} months, "
                     f"`data.outcome_window`) is on or before {as_of} ({origin}). Default rates of vintages under "
                     "the privacy minimum of rows are not shown.")
    section.table(table.round(4))
    return as_of


def _maturity(output: CheckOutput, context: CheckContext, as_of: Any, read: _Read) -> str:
    """The sample description's word on outcome maturity: the immature share, or why it is not assessed."""
    d = context.spec.data
    if not read.has_time:
        return "not assessed: no data.time"
    if d.outcome_window is None:
        return "not assessed: no data.outcome_window"
    share = next((f["value"] for f in output.findings if f["metric"] == "immature_outcome_share"), None)
    if as_of is None or share is None:
        return "not assessed: the periods of data.time cannot be dated"
    return f"{share:.1%} of rows immature ({d.outcome_window}-month window, as of {as_of})"


def _headline(judged: list["Finding"], context: CheckContext, read: _Read) -> str:
    flagged = [f for f in judged if f.status in ("amber", "red")]
    rows = f"{read.rows['current']:,} current rows" + (f" against {read.rows['reference']:,} reference rows"
                                                       if "reference" in read.rows else "")
    if not flagged:
        return f"{rows}: no data quality finding."
    flagged.sort(key=lambda f: (f.status != "red", f.metric))
    named = "; ".join(f"{f.metric} {f.subject} ({f.status})" for f in flagged[:3])
    more = f" and {len(flagged) - 3} more" if len(flagged) > 3 else ""
    return f"{rows}: {len(flagged)} finding(s) flagged: {named}{more}."
