"""What a check is: a :class:`Check` owns its name, template, applicability, inputs, parameters,
computation, headline metrics and regulatory basis; it returns a :class:`CheckOutput`.

A check's notebook is thin: it sets its parameters, calls :func:`validation.checks.run_check`,
shows the output and glues its findings. Everything it computes is in the check's ``run``, which
a modeler can call from any notebook with the same result as the pack.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Mapping, Union

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import pandas as pd

    from validation.governance.registry import Registry
    from validation.inputs.batches import Batch
    from validation.metrics.streamed_drift import Sample
    from validation.inputs.samples import Samples
    from validation.inputs.spec import ModelVersionSpec, Spec
    from validation.judging.findings import Finding
    from validation.judging.policy import Policy, Rule

RUNNER_PARAMETERS = ("spec", "version", "input_sha256")
"""Parameters every template takes: the spec file, the version, and the sha256 of every input as
recorded when the run was planned (the notebook refuses to compute on a file that changed)."""


def builtin_templates() -> Path:
    """Folder of the built-in templates: ``VALIDATION_TEMPLATES``, else the wheel's
    ``validation/notebooks``, else the checkout's ``notebooks/`` (an editable install)."""
    configured = os.environ.get("VALIDATION_TEMPLATES")
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parents[1]
    installed = package / "notebooks"
    return installed if installed.is_dir() else package.parent / "notebooks"


class CheckParams(BaseModel):
    """Base of a check's parameters: typed, bounded, unknown names refused. A spec sets them under
    ``checks: {<name>: {...}}``; a notebook parameter set to anything but ``None`` overrides it.
    Strict: ``true`` is no number and ``"10"`` no whole number; numbers finite. Every number a
    spec controls has bounds (``docs/spec.md``), so that no spec can make a check run for hours."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


US_MRM = "US: SR 26-2 / OCC Bulletin 2026-13 (2026)"
"""The Federal Reserve's, OCC's and FDIC's model risk management guidance of 17 April 2026:
principles-based; a model's materiality (exposure and purpose) sets how deep validation goes and
how often monitoring runs. It superseded SR 11-7 (2011)."""
ECB_IRB = "ECB: instructions for reporting the validation results of internal models (2019)"
"""ECB Banking Supervision, "Instructions for reporting the validation results of internal models:
IRB Pillar I models for credit risk" (2019); its PD part is section 2.5."""
ECB_GUIDE = "ECB: guide to internal models (revised July 2025)"
"""ECB Banking Supervision, "ECB guide to internal models" (revised July 2025), whose new section on
the use of machine learning techniques expects explainable models whose performance justifies
their complexity."""
EU_AI_ACT = "EU AI Act: Regulation (EU) 2024/1689"
"""Credit scoring of natural persons is high-risk (Annex III, point 5(b)); the articles of Chapter
III, Section 2 set what a high-risk system must meet."""
BASEL_MARKET = "Basel: market risk backtesting"
"""Basel Committee on Banking Supervision (1996), "Supervisory framework for the use of
'backtesting' in conjunction with the internal models approach to market risk capital
requirements"; MAR99 of the consolidated Basel Framework."""
US_FAIR_LENDING = "US: fair lending (ECOA / Regulation B)"
"""The Equal Credit Opportunity Act and Regulation B (12 CFR 1002), and the four-fifths rule of the
Uniform Guidelines (29 CFR 1607.4(D)) as the usual screen for adverse impact."""

METHODOLOGY = "Methodology: published tests"
"""A statistic's own source where no regulation prescribes it (Kupiec, Christoffersen, Hosmer and
Lemeshow, ...): what the test is, not a rule it evidences."""


@dataclass(frozen=True)
class Basis:
    """What a check (or one of its metrics) evidences under one regulatory framework.

    ``framework`` groups the pack's regulatory mapping (one of the constants above, or a
    third-party check's own); ``model_types`` limits the row to the model types it applies to
    (empty: every type), so that a VaR pack lists no PD row and a PD pack no VaR row.
    """

    framework: str
    text: str
    model_types: tuple[str, ...] = ()

    def applies_to(self, model_type: str | None) -> bool:
        return not self.model_types or model_type is None or model_type in self.model_types


BasisLike = Union[str, Basis, tuple[Basis, ...]]
"""A check's ``basis`` (and each value of ``metric_basis``): one text (a third-party check's, shown
under the framework ``other``), one :class:`Basis`, or several."""


def bases(value: BasisLike) -> tuple[Basis, ...]:
    """A check's ``basis`` or ``metric_basis`` value as :class:`Basis` rows.

    >>> bases("SR 11-7: ongoing monitoring")
    (Basis(framework='other', text='SR 11-7: ongoing monitoring', model_types=()),)
    """
    if isinstance(value, Basis):
        return (value,)
    if isinstance(value, str):
        return (Basis("other", value),) if value else ()
    return tuple(value)


@dataclass(frozen=True)
class Headline:
    """A headline metric of a check, for the model card and ``validation history``.

    ``key`` names its column in ``validation history``; ``label`` is for people. ``subject``
    ``None`` takes the worst judged value over every subject (``worst`` says whether that is the
    lowest or the highest).
    """

    key: str
    label: str
    metric: str
    subject: str | None = "score"
    worst: str = "min"

    def value(self, findings: list[Finding]) -> float | str | None:
        values = [f.value for f in findings if f.metric == self.metric
                  and (f.subject == self.subject if self.subject is not None else f.status != "info")
                  and f.value is not None]
        if not values:
            return None
        if self.subject is not None:
            return values[0]
        numbers = [float(v) for v in values if not isinstance(v, str)]
        return (min if self.worst == "min" else max)(numbers) if numbers else None


@dataclass
class Section:
    """One titled part of a check's output: Markdown text, tables and figures, in order."""

    title: str
    items: list[Any] = field(default_factory=list)

    def text(self, markdown: str) -> "Section":
        self.items.append(MarkdownText(markdown))
        return self

    def table(self, frame: Any) -> "Section":
        self.items.append(frame)
        return self

    def figure(self, figure: Any) -> "Section":
        self.items.append(figure)
        return self


@dataclass(frozen=True)
class MarkdownText:
    """Markdown a section shows (written by the check; data in it escaped with ``display.md``)."""

    text: str


@dataclass
class CheckOutput:
    """What a check computed: its findings (raw, judged by the policy when the pack is written),
    a one-sentence headline, a small summary, named tables and the sections a notebook shows."""

    check: str
    headline: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, "pd.DataFrame"] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    context: "CheckContext | None" = None
    parameters: dict[str, Any] = field(default_factory=dict)
    """The parameters the check ran with (the spec's, overrides, defaults), shown and glued."""
    not_applicable: str | None = None
    """Why the check compared nothing on this data (e.g. one group only), when it did not: the
    check's status is then ``not_applicable`` with this reason, never green."""

    def section(self, title: str) -> Section:
        """A new section, appended."""
        self.sections.append(Section(title))
        return self.sections[-1]

    def show(self) -> None:
        """Display the output in a notebook: the header, the headline, then every section."""
        from validation.reporting.display import show_output

        show_output(self)

    def show_findings(self) -> None:
        """Display the judged findings (status cells shaded)."""
        from validation.reporting.display import findings_table, status_table

        from IPython.display import display

        if self.context is None:
            raise ValueError("this output has no context to judge its findings by: run the check with run_check()")
        currency = self.context.spec.model.currency
        display(status_table(findings_table(self.findings, self.context.policy, currency=currency), currency=currency))

    def glue(self) -> None:
        """Glue the findings and the summary (with the headline) into the running notebook."""
        from validation.execution.scraps import glue_findings, glue_summary

        glue_findings(self.findings)
        extra = {"not_applicable": self.not_applicable} if self.not_applicable else {}
        glue_summary({**self.summary, "headline": self.headline, "parameters": self.parameters, **extra})


@dataclass(frozen=True)
class CheckContext:
    """What a check computes on: the model version, the whole spec file (for its other versions),
    the checked samples, the policy in force and the inputs the runner passed (e.g. a previous
    version's importances from the registry)."""

    spec: "ModelVersionSpec"
    spec_file: "Spec"
    samples: "Samples"
    policy: "Policy"
    runner_inputs: Mapping[str, Any] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)
    """Scheduler address -> the ``distributed.Client`` a check opened to the cluster it runs on."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Spec key -> the parquet snapshot of its SQL source that the samples are read from."""
    keep: Any = field(default=None, repr=False, compare=False)
    """What must live as long as the context (the snapshots a notebook run by hand took)."""

    @property
    def reference(self) -> "pd.DataFrame":
        return self.samples.reference

    @property
    def current(self) -> "pd.DataFrame":
        return self.samples.current

    def batches(self, role: str) -> "Callable[[list[str]], Iterator[Batch]]":
        """A sample read in batches of ``data.batch_rows`` rows, given columns, its batches of those
        columns alone, each checked as a whole sample's are (:func:`validation.inputs.samples.sample_batches`)."""
        from validation.inputs.samples import sample_batches

        return functools.partial(sample_batches, self.spec, role, features=self.samples.features, roles=False,
                                 sources=self.sources)

    def sample(self, role: str) -> "Sample":
        """A sample read in batches, summarised where the run is: on the Dask cluster the notebook
        runs on, its parquet row groups one task each (:mod:`validation.execution.cluster`), else
        batch by batch in this process (:meth:`batches`)."""
        from validation.execution.cluster import cluster_sample, scheduler
        from validation.metrics.streamed_drift import LocalSample

        address = scheduler()
        path = self.sources.get(role) or str(getattr(self.spec.data, role.removeprefix("data.")))
        if address is None or not path.lower().endswith((".parquet", ".pq")):
            return LocalSample(self.batches(role))
        if address not in self.clients:
            from distributed import Client

            self.clients[address] = Client(address, timeout=30)
        return cluster_sample(self.clients[address], self.spec, role, self.samples.features, self.sources)

    def previous(self) -> "ModelVersionSpec | None":
        """The version listed before this one in the same spec, if any (no second parse)."""
        label = self.spec.previous_version
        return None if label is None else self.spec_file.version(label)


BATCH_CHECKS = ("drift", "fairness", "backtesting", "data_quality")
"""The built-in checks that read samples in batches (:attr:`Check.reads_batches`), for messages."""


class Check:
    """Base class of a check. Subclasses set the class attributes and implement :meth:`run`; the
    other methods have defaults that fit a check with no special needs.

    Attributes
    ----------
    name
        The check's name in specs, packs and results (``drift``).
    description
        One line for ``validation checks``.
    template
        File name of its notebook, found by :meth:`template_path`.
    params
        Its parameters: a :class:`CheckParams` subclass (types, bounds, defaults).
    runner_parameters
        Template parameters the runner sets (never the spec), e.g. inputs from the registry.
    headlines
        Its headline metrics, for the model card and ``validation history``.
    basis
        What the check serves in regulation, for the pack's regulatory mapping: a text, a
        :class:`Basis` (framework, text, the model types it applies to) or a tuple of them.
    metric_basis
        The same per metric, where a metric has a specific basis (listed only when the pack
        reports the metric).
    rules
        Default rules of metrics the built-in policy does not know (third-party checks only: the
        built-in checks' thresholds are in :data:`validation.judging.policy.DEFAULT_POLICY`).
    card_title
        Title of the rows :meth:`card_analyses` gives the model card.
    reads_batches
        Whether it can read samples in batches (``data.batch_rows``): a check that cannot does not
        apply to a version whose samples are read so (:meth:`why_not`).
    relative_cost
        Its notebook's running time relative to the drift check's on the same data (a hint, 1.0
        when unknown): the runner starts the costliest notebooks first, so that a short one does
        not hold back the end of a run (longest processing time first, Graham 1969).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    template: ClassVar[str] = ""
    params: ClassVar[type[CheckParams]] = CheckParams
    runner_parameters: ClassVar[tuple[str, ...]] = ()
    headlines: ClassVar[tuple[Headline, ...]] = ()
    basis: ClassVar[BasisLike] = ""
    metric_basis: ClassVar[Mapping[str, BasisLike]] = {}
    rules: ClassVar[Mapping[str, "Rule"]] = {}
    card_title: ClassVar[str] = ""
    relative_cost: ClassVar[float] = 1.0
    reads_batches: ClassVar[bool] = False

    def template_folder(self) -> Path:
        """Where the template lives: by default, beside the module that defines the check (a
        third-party package ships its template there)."""
        module = sys.modules[type(self).__module__]
        return Path(str(module.__file__)).resolve().parent

    def template_path(self) -> Path:
        return self.template_folder() / self.template

    def not_applicable(self, spec: "ModelVersionSpec") -> str | None:
        """The reason the check does not apply to a model version, or ``None``."""
        return None

    def why_not(self, spec: "ModelVersionSpec") -> str | None:
        """Why the check does not run on a model version: samples read in batches it cannot read,
        else :meth:`not_applicable`'s reason; ``None`` when it runs."""
        if spec.data.batch_rows is not None and not self.reads_batches:
            return (f"reads whole samples, and data.batch_rows asks for samples read in batches of "
                    f"{spec.data.batch_rows:,} rows (the checks that can: "
                    f"{', '.join(BATCH_CHECKS)})")
        return self.not_applicable(spec)

    def check_spec(self, spec: "ModelVersionSpec", params: CheckParams) -> None:
        """Raise a :class:`~validation.errors.SpecError` for what the check cannot use in the spec
        alone (called when the spec is loaded)."""

    def check_inputs(self, spec: "ModelVersionSpec", samples: "Samples", params: CheckParams) -> None:
        """Raise a :class:`~validation.errors.SpecError` or ``DataError`` for what the check cannot
        use in the samples (called before any notebook runs: exit 2, nothing written).

        The runner reads samples in batches to check them: ``samples`` then holds their columns
        and no rows, with :meth:`~validation.inputs.samples.Samples.column_totals` for the current
        sample's protected attributes; a rule on each row goes in :meth:`check_batch`."""

    def check_batch(self, spec: "ModelVersionSpec", role: str, batch: "pd.DataFrame", params: CheckParams) -> None:
        """Raise a ``DataError`` for rows of ``batch`` the check cannot use: called by the runner on
        every batch of each sample (``role``: ``data.reference`` or ``data.current``), checked as
        a whole sample is, before any notebook runs. None by default."""

    def registry_inputs(self, spec: "ModelVersionSpec", registry: "Registry") -> dict[str, Any]:
        """Runner parameters taken from the registry (none by default)."""
        return {}

    def fingerprint(self, spec: "ModelVersionSpec", spec_file: "Spec", parameters: Mapping[str, Any]) -> dict[str, Any]:
        """What the check's result depends on beyond the spec's sections and the input files: by
        default its parameters. Part of the hash that decides whether a result can be reused."""
        return dict(parameters)

    def card_analyses(self, findings: list["Finding"]) -> list[dict[str, Any]]:
        """Rows for the model card's quantitative analyses (none by default): flat mappings with
        the same keys, the first key naming the row."""
        return []

    def parse_params(self, values: Mapping[str, Any]) -> CheckParams:
        """The check's parameters from a mapping (the spec's, then overrides); pydantic errors."""
        return self.params.model_validate(dict(values))

    def run(self, context: CheckContext, params: Any) -> CheckOutput:
        """Compute the check: findings, headline, summary, tables and sections."""
        raise NotImplementedError(f"check {self.name!r} computes in its template notebook")


class BuiltinCheck(Check):
    """A check of this package: its template is in :func:`builtin_templates`."""

    def template_folder(self) -> Path:
        return builtin_templates()


def parameters_source(check: Check) -> str:
    """The source of a template's ``parameters`` cell for ``check``: the runner's parameters, then
    each of the check's parameters with ``None`` (the spec's value, else the default) and its
    description and default. The templates hold exactly this text (a test says so)."""
    lines = ["spec = None  # path of a validation spec; None: the bundled demo",
             "version = None  # model version in the spec; None: the last one",
             "input_sha256 = None  # set by the runner: the sha256 of each input when the run was planned",
             f"# the check's parameters; None: the spec's value (checks.{check.name}), else the default"]
    for name, info in check.params.model_fields.items():
        lines.append(f"{name} = None  # {info.description} (default {info.get_default(call_default_factory=True)!r})")
    for name in check.runner_parameters:
        lines.append(f"{name} = None  # set by the runner")
    return "\n".join(lines)
