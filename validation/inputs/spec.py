"""Validation specs: ``params/<model>.yaml`` read, checked and resolved.

A spec names one model and the data to validate it on (``docs/spec.md``). It may list several
``versions``, each overriding ``model.version``, ``model.artifact*`` and any ``data.*`` key. The
loader returns one :class:`ModelVersionSpec` per version, with every path resolved relative to the
spec file, so the rest of the package never sees relative paths or version overrides.

Every problem is a :class:`~validation.errors.SpecError` naming the file and the key path, e.g.
``params/pd.yaml: data.target: field required; expected the name of the 0/1 outcome column``.
"""

from __future__ import annotations

import hashlib
import keyword
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, get_args

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, ValidationError,
                      field_validator, model_validator)

from validation.errors import SpecError
from validation.inputs.safe_yaml import load_yaml

NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
_NAME_RE = re.compile(NAME_PATTERN)
MAX_NAME_LENGTH = 100
"""Model names and version labels are folder names: well under the 255 bytes a file system allows,
with room for the run folder beside them (project default)."""
RESERVED_NAMES = re.compile(r"registry\.sqlite(-wal|-shm|-journal)?", re.IGNORECASE)
"""``<out>/<model>`` must never be the registry file (or SQLite's files beside it)."""
MAX_TEXT = 2_000
"""Characters of a free-text key (owner, purpose, the model card's texts)."""
MAX_COLUMN_NAME = 1_000
MAX_COLUMNS = 10_000
"""Columns a list names (features, protected, ids, segments): project default, above any model's inputs."""
MAX_PATH = 4_096
"""Characters of a path (Linux's PATH_MAX); each component at most 255 bytes (NAME_MAX)."""
MAX_VERSIONS = 1_000
MAX_GRADES = 100
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

#: Spec keys users see in messages, with what each expects (used to word pydantic errors).
EXPECTED = {
    "model.name": "a name of letters, digits, '_', '.' or '-' (it is used in paths)",
    "model.version": "a version label of letters, digits, '_', '.' or '-', e.g. \"2\"",
    "model.type": "'classification' or 'var'",
    "data.reference": ("the path of the development sample (parquet or csv), relative to the spec, or a SQL source "
                       "{sql: URL, query: ...} or {sql: URL, table: ...}"),
    "data.current": ("the path of the monitoring sample (parquet or csv), relative to the spec, or a SQL source "
                     "{sql: URL, query: ...} or {sql: URL, table: ...}"),
    "data.reference_profile": "the path of a reference profile (JSON) from `validation profile`",
    "decision.favourable": "'below' (score < threshold is favourable) or 'above'",
    "data.reference_kind": "what the reference sample is: 'training', 'holdout' or 'out_of_time'",
    "multiplicity": "'holm', 'bh' (Benjamini-Hochberg) or 'none'",
    "model.materiality": "'high', 'medium' or 'low' (docs/spec.md, Materiality)",
    "data.outcome_window": "the months after which an outcome is known, a whole number from 1 to 120",
    "data.missing_values": "column -> a list of the codes that mean missing in it, e.g. {checking_account: [not_known]}",
}


class _Strict(BaseModel):
    """Unknown keys refused; types strict (``threshold: true`` is not 1.0, ``tier: "2"`` not 2);
    numbers finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _check_name(value: str, what: str) -> str:
    if not _NAME_RE.fullmatch(value) or value.startswith("."):
        raise ValueError(f"{value!r} is not a valid {what}: use letters, digits, '_', '.' or '-' only, "
                         "not starting with '.'")
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"a {what} of {len(value)} characters; at most {MAX_NAME_LENGTH} (it is a folder name)")
    if what == "model name" and RESERVED_NAMES.fullmatch(value):
        raise ValueError(f"{value!r} is the registry's file name in the output folder; choose another model name")
    return value


def _check_path(value: str) -> str:
    """A path or URL a spec names: printable, of a length a file system accepts."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{value!r} has a control character (a NUL byte or a line break); give a plain path")
    if not value.strip():
        raise ValueError("an empty path; give the path of a file")
    if len(value) > MAX_PATH:
        raise ValueError(f"a path of {len(value)} characters; at most {MAX_PATH}")
    longest = max(len(part.encode()) for part in value.split("/"))
    if longest > 255:
        raise ValueError(f"a path with a component of {longest} bytes; file systems allow 255")
    return value


def _check_column(value: str) -> str:
    if not value or len(value) > MAX_COLUMN_NAME or "\x00" in value:
        raise ValueError(f"not a usable column name ({len(value)} characters, at most {MAX_COLUMN_NAME}, no NUL)")
    return value


def _number_to_text(value: Any) -> Any:
    """YAML reads ``version: 2`` as a number; a version is a label."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _valid_sha(value: str) -> str:
    if not _SHA256_RE.match(value.lower()):
        raise ValueError("expected 64 hexadecimal characters (the artifact file's sha256)")
    return value.lower()


MAX_QUERY = 100_000
"""Characters of a SQL source's query (project default: far above a monitoring query, well inside a spec's 1 MiB)."""
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
PLACEHOLDER_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""``${NAME}`` in a SQL source's URL: the environment variable ``NAME``, read when the source is queried."""
_PASSWORD_PARAMETERS = ("password", "pwd", "pass", "passwd", "sslpassword")


def _check_sql_url(value: str) -> str:
    """A SQLAlchemy URL with its scheme and no literal password (a password is a ``${VAR}``
    placeholder or left to the driver: PGPASSWORD, ``~/.pgpass``)."""
    _check_path(value)
    if not _SCHEME_RE.match(value):
        raise ValueError(f"{value!r} is not a database URL; expected dialect://user@host:port/database, e.g. "
                         "postgresql://risk@db.bank.internal:5432/monitoring or duckdb:///:memory:")
    literal = ("a literal password in the URL: credentials never go in a spec. Write the password as ${VAR} "
               "and set the environment variable VAR (postgresql://risk:${PGPASSWORD_RISK}@host/db), or leave it "
               "out for the driver to find (PostgreSQL: PGPASSWORD or ~/.pgpass)")
    _refuse_literal_secret(value, _PASSWORD_PARAMETERS, literal)
    return value


def _refuse_literal_secret(value: str, parameters: tuple[str, ...], message: str) -> None:
    """``ValueError(message)`` when the URL's password, or a query parameter named in ``parameters``
    (after Apprise's ``+``, ``-`` and ``:`` prefixes), is written out rather than as ``${VAR}``."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc})") from None
    if password and not PLACEHOLDER_RE.fullmatch(password):
        raise ValueError(message)
    for key, given in parse_qsl(parts.query, keep_blank_values=True):
        if key.strip().lstrip("+-:").lower() in parameters and given and not PLACEHOLDER_RE.fullmatch(given):
            raise ValueError(message)


_SECRET_PARAMETERS = (*_PASSWORD_PARAMETERS, "token", "secret", "key", "apikey", "api_key", "webhook", "access_token",
                      "authorization", "auth", "bearer", "x-api-key", "signature")
_ALERT_LITERAL_SCHEMES = ("mailto", "mailtos", "json", "jsons", "xml", "xmls", "form", "forms")
"""Apprise services whose secrets sit in a URL's password or parameters, where a literal one is
found; every other service (Slack, Teams, Telegram...) carries its token in the path, and is given
whole as ``${VAR}``."""


def _check_alert_target(value: str) -> str:
    """An Apprise notification URL with no literal secret: ``${VAR}`` naming an environment variable
    that holds the URL, or an e-mail or webhook URL (:data:`_ALERT_LITERAL_SCHEMES`) with each
    password, token, key or authorization header (``+Authorization=``) written as ``${VAR}``."""
    if PLACEHOLDER_RE.fullmatch(value.strip()):
        return value.strip()
    scheme = value.split("://", 1)[0].lower() if _SCHEME_RE.match(value) else ""
    if scheme and scheme not in _ALERT_LITERAL_SCHEMES:
        raise ValueError(f"a {scheme}:// URL carries its token in its path: give the whole URL as ${{VAR}} and set "
                         "the environment variable VAR (credentials never go in a spec); only e-mail "
                         f"and webhook URLs ({', '.join(_ALERT_LITERAL_SCHEMES)}) are written out, with ${{VAR}} "
                         "for each secret")
    if not _SCHEME_RE.match(value) or "\x00" in value or any(c in value for c in "\r\n"):
        raise ValueError("not a notification URL; expected an Apprise URL such as mailtos://${SMTP_USER}:"
                         "${SMTP_PASSWORD}@smtp.bank.internal?to=mrm@bank.example or json://hooks.bank.internal/mrm, "
                         "or ${VAR} naming an environment variable that holds one")
    literal = ("a literal secret in the URL: credentials never go in a spec. Write each password, token or key as "
               "${VAR} and set the environment variable VAR (mailtos://${SMTP_USER}:${SMTP_PASSWORD}@host?to=...), "
               "or give the whole URL as ${VAR}")
    _refuse_literal_secret(value, _SECRET_PARAMETERS, literal)
    return value


def _check_query(value: str) -> str:
    if not value.strip().rstrip(";").strip():
        raise ValueError("an empty query; give a SELECT statement")
    if "\x00" in value:
        raise ValueError("the query has a NUL byte")
    return value


ModelName = Annotated[str, AfterValidator(lambda value: _check_name(value, "model name"))]
VersionLabel = Annotated[str, BeforeValidator(_number_to_text), AfterValidator(lambda value: _check_name(value, "version"))]
Sha256 = Annotated[str, AfterValidator(_valid_sha)]
PathText = Annotated[str, AfterValidator(_check_path)]
SqlUrl = Annotated[str, AfterValidator(_check_sql_url)]
Query = Annotated[str, Field(max_length=MAX_QUERY), AfterValidator(_check_query)]
AlertTarget = Annotated[str, Field(max_length=2_000), AfterValidator(_check_alert_target)]
Column = Annotated[str, AfterValidator(_check_column)]
Columns = Annotated[list[Column], Field(max_length=MAX_COLUMNS)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


class ModelSection(_Strict):
    name: ModelName
    version: VersionLabel
    type: Literal["classification", "var"] = "classification"
    owner: Text | None = None
    purpose: Text | None = None
    tier: int | None = Field(default=None, ge=0, le=100)
    """The model risk tier: 1, 2 and 3 set the materiality (:data:`TIER_MATERIALITY`) when
    ``materiality`` is absent, and must agree with it when present."""
    materiality: Materiality | None = None
    """How much the model matters (exposure and purpose, SR 26-2): sets the checks required, the
    policy applied and how often the model is due (``docs/spec.md``, "Materiality")."""
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    """ISO 4217 code of money amounts (exposures, losses) in the pack, e.g. ``EUR``."""
    artifact: PathText | None = None
    artifact_sha256: Sha256 | None = None
    allow_pickle: bool = False
    """Load an artifact that is a pickle (``.joblib``, ``.pkl``, ``.pickle``, a statsmodels result):
    a pickle can run code when loaded, so it loads only with this opt-in (and after its hash check)."""
    # model card (Mitchell et al. 2019), all optional
    intended_use: Text | None = None
    out_of_scope_use: Text | None = None
    training_data: Text | None = None
    limitations: Text | None = None
    ethical_considerations: Text | None = None
    caveats: Text | None = None



class SqlSource(_Strict):
    """A sample read from a database (``docs/spec.md``, "SQL sources"): a SQLAlchemy URL and either
    a query or a table. Credentials never appear here: a password is a ``${VAR}`` placeholder,
    read from the environment when the source is queried, or the driver's own (PGPASSWORD,
    ``~/.pgpass``). DuckDB (``duckdb:///:memory:``) queries local parquet and CSV files, their
    relative paths taken from the spec's folder.
    """

    sql: SqlUrl
    """The database: ``dialect[+driver]://user@host:port/database`` (``postgresql://`` uses psycopg)."""
    query: Query | None = None
    """A SELECT statement whose rows are the sample (only the columns the checks need are read from it)."""
    table: Annotated[str, Field(min_length=1, max_length=MAX_COLUMN_NAME)] | None = None
    """A table (or view), optionally ``schema.table``, whose rows are the sample."""

    @model_validator(mode="after")
    def _query_or_table(self) -> "SqlSource":
        if (self.query is None) == (self.table is None):
            raise ValueError("a SQL source takes either a query or a table (one of them): {sql: URL, query: "
                             "\"select ...\"} or {sql: URL, table: name}")
        return self

    @property
    def query_sha256(self) -> str | None:
        """sha256 of the query's text as written in the spec (UTF-8), or ``None`` for a table."""
        return hashlib.sha256(self.query.encode("utf-8")).hexdigest() if self.query is not None else None

    @property
    def label(self) -> str:
        """How packs and messages name the source: its URL (as written: placeholders, never their
        values) and its table or the start of its query's sha256.

        >>> SqlSource(sql="duckdb:///:memory:", table="loans").label
        'duckdb:///:memory: table loans'
        """
        what = f"table {self.table}" if self.table is not None else f"query sha256 {str(self.query_sha256)[:12]}"
        return f"{self.sql} {what}"

    def __str__(self) -> str:
        return self.label


def _source_kind(value: Any) -> str:
    return "sql-source" if isinstance(value, (dict, SqlSource)) else "file-path"


DataSource = Annotated[
    Annotated[PathText, Tag("file-path")] | Annotated[SqlSource, Tag("sql-source")],
    Discriminator(_source_kind),
]
"""A sample: a path or fsspec URL of a parquet or CSV file, or a :class:`SqlSource`."""
_UNION_LABELS = {"file-path", "sql-source"}
"""Tags of :data:`DataSource`'s members: pydantic puts them in an error's location, and they are no
keys (a key is a Python name: it has no '-')."""


def source_name(source: "str | SqlSource | None") -> str | None:
    """A sample's short name for the model card and messages: a file's name, a SQL source's label,
    or ``None`` when the spec gives no such sample.

    >>> source_name("/data/2025q4.parquet"), source_name(None)
    ('2025q4.parquet', None)
    """
    if source is None:
        return None
    if isinstance(source, SqlSource):
        return source.label
    return Path(source.split("://", 1)[-1]).name or source


ReferenceKind = Literal["training", "holdout", "out_of_time"]
TimeGrain = Literal["day", "week", "month", "quarter", "year"]


MAX_OUTCOME_WINDOW = 120
"""Months an outcome window may last at most (ten years: longer than any retail PD definition)."""
MissingCode = Annotated[str, Field(max_length=200)] | float
MissingCodes = Annotated[dict[Column, Annotated[list[MissingCode], Field(min_length=1, max_length=100)]],
                         Field(max_length=MAX_COLUMNS)]
"""``data.missing_values``: column -> the codes that mean "missing" in it (``not_known``, ``-999``)."""


MIN_BATCH_ROWS, MAX_BATCH_ROWS = 1_000, 50_000_000
"""Bounds of ``data.batch_rows``: a batch of fewer rows costs more in overhead than it saves; one
of more than 50 million is a whole sample on most machines."""


class DataSection(_Strict):
    reference: DataSource | None = None
    """Required for a classification model; a VaR backtest needs only the current P&L and VaR."""
    current: DataSource
    reference_kind: ReferenceKind | None = None
    reference_profile: PathText | None = None
    target: Column | None = None
    score: Column | None = None
    features: Columns | None = None
    protected: Columns = Field(default_factory=list)
    time: Column | None = None
    time_grain: TimeGrain | None = None
    segments: Columns = Field(default_factory=list)
    exposure: Column | None = None
    lgd: Column | None = None
    ids: Columns = Field(default_factory=list)
    pnl: Column | None = None
    var: Column | None = None
    var_level: float | None = Field(default=None, gt=0.0, lt=1.0)
    max_rows: int | None = Field(default=None, gt=0, le=10**12)
    batch_rows: int | None = Field(default=None, ge=MIN_BATCH_ROWS, le=MAX_BATCH_ROWS)
    benchmark_score: Column | None = None
    outcome_window: int | None = Field(default=None, ge=1, le=MAX_OUTCOME_WINDOW)
    missing_values: MissingCodes | None = None


class DataOverride(_Strict):
    """``data.*`` keys a version may override: every key optional."""

    reference: DataSource | None = None
    current: DataSource | None = None
    reference_kind: ReferenceKind | None = None
    reference_profile: PathText | None = None
    target: Column | None = None
    score: Column | None = None
    features: Columns | None = None
    protected: Columns | None = None
    time: Column | None = None
    time_grain: TimeGrain | None = None
    segments: Columns | None = None
    exposure: Column | None = None
    lgd: Column | None = None
    ids: Columns | None = None
    pnl: Column | None = None
    var: Column | None = None
    var_level: float | None = Field(default=None, gt=0.0, lt=1.0)
    max_rows: int | None = Field(default=None, gt=0, le=10**12)
    batch_rows: int | None = Field(default=None, ge=MIN_BATCH_ROWS, le=MAX_BATCH_ROWS)
    benchmark_score: Column | None = None
    outcome_window: int | None = Field(default=None, ge=1, le=MAX_OUTCOME_WINDOW)
    missing_values: MissingCodes | None = None


Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class ReferenceMetrics(_Strict):
    """The model's performance measured at development (``docs/spec.md``, "Reference metrics"):
    tests of change compare against it instead of the reference sample's own figures."""

    source: Text = Field(min_length=1)
    auc: Rate | None = None
    approval_rate: Rate | None = None
    bad_rate_approved: Rate | None = None
    default_rate: Rate | None = None


Materiality = Literal["high", "medium", "low"]

TIER_MATERIALITY: dict[int, Materiality] = {1: "high", 2: "medium", 3: "low"}
"""``model.tier`` 1, 2 and 3 are materiality high, medium and low (a tier outside 1 to 3 is the
bank's own scale and says nothing about materiality)."""

REQUIRED_CHECKS: dict[str, tuple[str, ...]] = {
    "high": ("drift", "fairness", "explainability", "backtesting"),
    "medium": ("drift", "fairness", "backtesting"),
    "low": ("fairness", "backtesting"),
}
"""The built-in checks a spec must run (where they apply to it), by materiality (project default;
SR 26-2 lets materiality set how deep validation goes): outcomes analysis (backtesting) for every
model, and fairness of credit decisions for every model that makes them (ECOA applies whatever the
exposure); ongoing monitoring of the population (drift) from medium; conceptual soundness of the
drivers (explainability) for high. A check that does not apply to the spec (fairness without
protected attributes, explainability without an artifact, either for a VaR model) is not
required. A required check left out must be waived with a reason (``waivers``)."""

FREQUENCY_MONTHS: dict[str, int] = {"high": 3, "medium": 6, "low": 12}
"""Months between runs, by materiality (project default; SR 26-2 sets no calendar and lets
materiality set how often monitoring runs): quarterly for high (a quarter of outcomes or of P&L is
what a backtest needs to move), half-yearly for medium, yearly for low, so that every model is
looked at within a year."""

RATINGS = ("satisfactory", "satisfactory with findings", "unsatisfactory")
"""The validator's overall ratings by default, best first (``docs/spec.md``, "Governance")."""
Rating = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f]+$")]


class Governance(_Strict):
    """How packs of this model are signed off: the ratings a validator may give, best first."""

    ratings: Annotated[list[Rating], Field(min_length=2, max_length=10)] = Field(
        default_factory=lambda: list(RATINGS))

    @field_validator("ratings")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each rating once")
        return value


def _a_reason(value: str) -> str:
    if not value.strip():
        raise ValueError("an empty reason; say why the check is not run")
    return value


Reason = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_a_reason)]


AlertEvent = Literal["red", "amber", "error", "overdue"]
DEFAULT_ALERT_EVENTS: tuple[AlertEvent, ...] = ("red", "error", "overdue")


class Alerts(_Strict):
    """Who hears about a run, and when (``docs/spec.md``, "alerts")."""

    targets: Annotated[list[AlertTarget], Field(max_length=20)] = Field(default_factory=list)
    on: Annotated[list[AlertEvent], Field(min_length=1)] = Field(default_factory=lambda: list(DEFAULT_ALERT_EVENTS))
    pack_url_base: Annotated[str, Field(max_length=2_000)] | None = None


class VersionEntry(_Strict):
    version: VersionLabel
    artifact: PathText | None = None
    artifact_sha256: Sha256 | None = None
    data: DataOverride | None = None
    reference_metrics: ReferenceMetrics | None = None


class Decision(_Strict):
    threshold: float = Field(ge=0.0, le=1.0)
    favourable: Literal["below", "above"] = "below"


class Threshold(_Strict):
    amber: float | None = None
    red: float | None = None
    immaterial: Annotated[list[float | None], Field(min_length=2, max_length=2)] | None = None
    """``[low, high]``: effects strictly between them are not material (``null``: open side)."""


def _default_checks() -> list[str]:
    from validation.checks import REGISTRY

    return list(REGISTRY.defaults)


class SpecFile(_Strict):
    """The YAML document, as written."""

    model: ModelSection
    data: DataSection
    decision: Decision | None = None
    grades: Annotated[list[float], Field(max_length=MAX_GRADES)] | None = None
    checks: list[str] | dict[str, dict[str, Any] | None] = Field(
        default_factory=lambda: _default_checks()
    )
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    multiplicity: Literal["holm", "bh", "none"] = "holm"
    reference_metrics: ReferenceMetrics | None = None
    governance: Governance = Field(default_factory=Governance)
    waivers: dict[str, Reason] = Field(default_factory=dict)
    """Required checks (by materiality) the spec leaves out, each with the reason."""
    alerts: Alerts = Field(default_factory=Alerts)
    versions: Annotated[list[VersionEntry], Field(max_length=MAX_VERSIONS)] | None = None


class ModelVersionSpec(BaseModel):
    """One model version, fully resolved: absolute paths, checks as a mapping, overrides applied."""

    model_config = ConfigDict(frozen=True)

    path: Path
    sha256: str
    model: ModelSection
    data: DataSection
    decision: Decision | None
    grades: tuple[float, ...] | None
    checks: dict[str, dict[str, Any]]
    thresholds: dict[str, Threshold]
    multiplicity: Literal["holm", "bh", "none"] = "holm"
    reference_metrics: ReferenceMetrics | None = None
    """The version's performance at development (its entry's, else the spec's), if given."""
    governance: Governance = Field(default_factory=Governance)
    waivers: dict[str, str] = Field(default_factory=dict)
    """Required checks left out, with the reason for each (``docs/spec.md``, "Materiality")."""
    alerts: Alerts = Field(default_factory=Alerts)
    """Where a run's message goes, and on what (``docs/spec.md``, "alerts")."""
    previous_version: str | None = None
    """The version listed just before this one in the same spec, if any."""
    first_listed: bool = False
    """The first entry of the spec's ``versions:`` list: by the spec's own order it has no previous
    version, and none is looked up in the registry."""

    @property
    def name(self) -> str:
        return self.model.name

    def required_checks(self) -> list[str]:
        """The checks this version's materiality requires and that apply to it (none without a
        materiality)."""
        from validation.checks import REGISTRY

        materiality = self.model.materiality
        if materiality is None:
            return []
        return [name for name in REQUIRED_CHECKS[materiality]
                if name in REGISTRY and REGISTRY[name].not_applicable(self) is None]

    @property
    def version(self) -> str:
        return self.model.version

    def feature_columns(self, available: list[str]) -> list[str]:
        """The model's features: ``data.features``, or every column with no other role."""
        if self.data.features is not None:
            return list(self.data.features)
        taken = set(self.role_columns()) | set(self.data.protected)
        return [c for c in available if c not in taken]

    def role_columns(self) -> list[str]:
        """Columns with a role other than feature (target, score, ids, time, ...)."""
        d = self.data
        single = [d.target, d.score, d.time, d.exposure, d.lgd, d.pnl, d.var, d.benchmark_score]
        return [c for c in single if c] + list(d.ids)


class Spec(BaseModel):
    """A loaded spec file: its path, hash and one resolved entry per model version."""

    model_config = ConfigDict(frozen=True)

    path: Path
    sha256: str
    versions: tuple[ModelVersionSpec, ...]

    def version(self, label: str) -> ModelVersionSpec:
        for entry in self.versions:
            if entry.version == label:
                return entry
        known = ", ".join(v.version for v in self.versions)
        raise SpecError(self.path, "model.version", f"no version {label!r} in this spec; it has: {known}")


_TYPE_LABELS = {"str", "int", "float", "bool", "dict", "list", "none"}


def _key_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]" if parts else f"[{item}]"]
        elif isinstance(item, str) and (item in _TYPE_LABELS or item in _UNION_LABELS or "[" in item or "(" in item):
            continue  # pydantic's labels of union members are not keys
        else:
            parts.append(str(item))
    return ".".join(parts)


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[VersionEntry] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _section_model(argument)
        if found is not None:
            return found
    return None


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed beside the unknown key at ``loc``."""
    section: type[BaseModel] | None = SpecFile
    for item in loc[:-1]:
        if isinstance(item, int) or section is None or item in _UNION_LABELS:
            continue
        field = section.model_fields.get(str(item))
        section = _section_model(field.annotation) if field is not None else None
    return list(section.model_fields) if section is not None else []


def _describe(error: dict[str, Any], key: str) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tuple(error["loc"]))
        listed = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key; remove it or check its spelling{listed}"
    hint = EXPECTED.get(key, "")
    if kind == "missing":
        return "required key is missing" + (f"; expected {hint}" if hint else "")
    message = str(error["msg"]).removeprefix("Value error, ")
    got = error.get("input")
    shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
    if key.rsplit(".", 1)[-1] == "sql" or key.startswith("alerts.targets"):  # may hold the secret it is refused for
        shown = ""
    source = key.endswith(("data.reference", "data.current"))  # a path, or a SQL source: say both
    return message + shown + (f"; expected {hint}" if hint and (kind.startswith("literal") or source) else "")


def _parse_yaml(path: Path) -> tuple[dict[str, Any], bytes]:
    document, raw = load_yaml(path)
    if not isinstance(document, dict):
        raise SpecError(path, "", "expected a YAML mapping with keys model, data, checks, ...")
    return document, raw


def _resolve(path: Path, value: str | None) -> str | None:
    if value is None or "://" in value:
        return value
    candidate = Path(value).expanduser()
    if candidate.is_absolute():
        return str(candidate)
    joined = path.parent / candidate
    try:
        return str(joined.resolve())
    except (OSError, RuntimeError):  # a symlink loop: the data loader names the problem
        return os.path.abspath(joined)



def _check_batches(data: DataSection, path: Path) -> None:
    """What samples read in batches (``data.batch_rows``) cannot do yet, each refused by its key."""
    refusals = {
        "data.max_rows": (data.max_rows, "batch_rows reads every row in bounded memory and max_rows samples rows "
                                         "instead; keep one of them"),
        "data.reference_profile": (data.reference_profile, "a reference profile stands in for a reference read "
                                                           "whole; with batch_rows, give the reference file itself"),
    }
    for key, (given, problem) in refusals.items():
        if given:
            raise SpecError(path, key, f"{problem} (data.batch_rows is set)")

def _check_semantics(path: Path, key_prefix: str, entry: ModelVersionSpec) -> None:
    model, data = entry.model, entry.data
    if model.artifact and not model.artifact_sha256:
        raise SpecError(path, f"{key_prefix}artifact_sha256", "required when an artifact is given: "
                        "the artifact file's sha256 (run `sha256sum` on it)")
    if model.type == "classification":
        if data.reference is None:
            raise SpecError(path, "data.reference", "required for a classification model: the development sample "
                            "(a parquet or CSV file, or a SQL source) that drift and the tests of change compare "
                            "with; only a 'var' model may leave it out")
        if not data.target:
            raise SpecError(path, "data.target", "required for a classification model: "
                            "the name of the 0/1 outcome column (1 = event)")
        if not data.score and not model.artifact:
            raise SpecError(path, "data.score", "give the score column, or a model.artifact to "
                            "compute scores from")
        if data.batch_rows is not None:
            _check_batches(data, path)
    else:
        for key in ("pnl", "var", "var_level"):
            if getattr(data, key) is None:
                raise SpecError(path, f"data.{key}", "required for a 'var' model")
        if data.max_rows is not None:
            raise SpecError(path, "data.max_rows", "a VaR backtest needs every day in order; remove max_rows")
        if data.batch_rows is not None:
            raise SpecError(path, "data.batch_rows", "a VaR backtest reads its days whole; remove batch_rows")
    roles = {"target": data.target, "score": data.score, "time": data.time, "benchmark_score": data.benchmark_score}
    for feature in data.features or []:
        for role, column in roles.items():
            if feature == column:
                raise SpecError(path, "data.features", f"column '{feature}' is also data.{role}; "
                                "remove it from the features")
        if feature in data.ids:
            raise SpecError(path, "data.features", f"column '{feature}' is an identifier (data.ids); "
                            "identifiers are never features")
    for column in data.protected:
        if column in data.ids:
            raise SpecError(path, "data.protected", f"column '{column}' is an identifier (data.ids)")
    for role in ("target", "score", "time", "exposure", "lgd", "pnl", "var", "benchmark_score"):
        column = getattr(data, role)
        if column is not None and column in data.ids:
            raise SpecError(path, f"data.{role}", f"column '{column}' is an identifier (data.ids), which is dropped "
                            "when the data are read; an identifier has no other role")
    for column in data.segments:
        if column in data.ids:
            raise SpecError(path, "data.segments", f"column '{column}' is an identifier (data.ids)")


def _materiality(path: Path, model: ModelSection) -> ModelSection:
    """The model section with its materiality: the key's, else the one ``tier`` 1 to 3 means; a
    tier that contradicts the materiality is refused."""
    implied = TIER_MATERIALITY.get(model.tier) if model.tier is not None else None
    if implied is None:
        return model
    if model.materiality is None:
        return model.model_copy(update={"materiality": implied})
    if model.materiality != implied:
        raise SpecError(path, "model.tier", f"tier {model.tier} means materiality {implied}, but model.materiality "
                        f"is {model.materiality}; make them agree (tiers 1, 2, 3 are high, medium, low) or drop one")
    return model


def _check_waivers(path: Path, waivers: dict[str, str], checks: dict[str, dict[str, Any]]) -> None:
    """Waivers name known checks that the spec does not run (whether each is required is checked
    per version, by :func:`_check_required`)."""
    from validation.checks import REGISTRY

    for name in waivers:
        if name not in REGISTRY:
            raise SpecError(path, f"waivers.{name}", "unknown check; known checks: " + ", ".join(REGISTRY.names()))
        if name in checks:
            raise SpecError(path, f"waivers.{name}", "the check is listed in checks: it runs, so there is nothing to "
                            "waive; remove the waiver or the check")


def _check_required(path: Path, entry: "ModelVersionSpec") -> None:
    """Every check the materiality requires (where it applies) is run or waived with a reason, and
    every waiver waives a required check; a required check that reads whole samples is waived when
    the samples are read in batches (``data.batch_rows``)."""
    from validation.checks import REGISTRY

    materiality = entry.model.materiality
    required = entry.required_checks()
    for name in required:
        if name not in entry.checks and name not in entry.waivers:
            raise SpecError(path, "checks", f"model.materiality {materiality} requires the {name} check; add it to "
                            f"checks, or waive it with the reason: waivers: {{{name}: \"<why it is not run>\"}}")
        if entry.data.batch_rows is not None and name not in entry.waivers and not REGISTRY[name].reads_batches:
            raise SpecError(path, "data.batch_rows", f"model.materiality {materiality} requires the {name} check, "
                            "which reads whole samples; remove batch_rows, or waive the check with the reason: "
                            f"waivers: {{{name}: \"<why it is not run>\"}}")
    for name in entry.waivers:
        if name not in required:
            needed = f"materiality {materiality} requires {', '.join(required) or 'no check'} here" \
                if materiality else "no model.materiality: no check is required"
            raise SpecError(path, f"waivers.{name}", f"the check is not required ({needed}); remove the waiver")


def _check_grades(path: Path, grades: list[float] | None) -> tuple[float, ...] | None:
    if grades is None:
        return None
    if len(grades) < 2:
        raise SpecError(path, "grades", "a master scale needs at least two grades")
    if any(not 0.0 < g <= 1.0 for g in grades):
        raise SpecError(path, "grades", "grade upper bounds must be PDs in (0, 1]")
    if any(b <= a for a, b in zip(grades, grades[1:])):
        raise SpecError(path, "grades", f"grade upper bounds must increase strictly; got {grades}")
    if grades[-1] != 1.0:
        raise SpecError(path, "grades", f"the last grade's upper bound must be 1.0 so every score "
                        f"has a grade; got {grades[-1]}")
    return tuple(grades)


def _check_thresholds(path: Path, thresholds: dict[str, Threshold]) -> dict[str, Threshold]:
    """Overrides name metrics the policy judges (built-in or of an installed check), in order.

    Returns the overrides as the policy applies them: one that sets ``immaterial`` but neither
    ``amber`` nor ``red`` keeps the policy's bounds (an override replaces both bounds, and a bound
    left out is never reached: without this, setting a test's materiality alone would switch the
    test off)."""
    from validation.judging.policy import Policy

    rules = Policy.for_spec(None).rules
    resolved: dict[str, Threshold] = {}
    for metric, bounds in thresholds.items():
        rule = rules.get(metric)
        if rule is None:
            known = ", ".join(sorted(m for m, r in rules.items() if r.direction in ("higher_is_worse", "lower_is_worse")))
            raise SpecError(path, f"thresholds.{metric}", f"unknown metric; metrics with thresholds: {known}")
        if rule.direction == "categorical":
            raise SpecError(path, f"thresholds.{metric}", "this metric's status comes from its "
                            "value's name and takes no thresholds")
        if rule.direction == "none":
            raise SpecError(path, f"thresholds.{metric}", "this metric is reported, never judged: it takes "
                            "no thresholds")
        if bounds.immaterial is not None:
            if rule.immaterial is None and not rule.pvalue:
                raise SpecError(path, f"thresholds.{metric}.immaterial", "this metric is not a statistical "
                                "test: it has no effect size to bound; remove immaterial")
            below, above = bounds.immaterial
            if below is None and above is None:
                raise SpecError(path, f"thresholds.{metric}.immaterial", "[null, null] would make every effect "
                                "immaterial, so the test could never flag; give at least one bound, e.g. [null, 1.25]")
            if below is not None and above is not None and not below < above:
                raise SpecError(path, f"thresholds.{metric}.immaterial", f"expected [low, high] with low < high "
                                f"(null for an open side); got {bounds.immaterial}")
            if not {"amber", "red"} & bounds.model_fields_set:
                bounds = bounds.model_copy(update={"amber": rule.amber, "red": rule.red})
        amber, red = bounds.amber, bounds.red
        low, high = rule.domain
        for level, bound in (("amber", amber), ("red", red)):
            if bound is not None and not low <= bound <= high:
                raise SpecError(path, f"thresholds.{metric}.{level}", f"{bound} is outside the values {metric} "
                                f"can take ({low} to {high}); a bound there could never be reached")
        if amber is not None and red is not None:
            if rule.direction == "higher_is_worse" and red < amber:
                raise SpecError(path, f"thresholds.{metric}", f"red ({red}) must not be below amber "
                                f"({amber}): higher values of {metric} are worse")
            if rule.direction == "lower_is_worse" and red > amber:
                raise SpecError(path, f"thresholds.{metric}", f"red ({red}) must not be above amber "
                                f"({amber}): lower values of {metric} are worse")
        resolved[metric] = bounds
    return resolved


def _check_checks(path: Path, checks: list[str] | dict[str, dict[str, Any] | None]) -> dict[str, dict[str, Any]]:
    """The checks as a mapping name -> parameters, each parameter validated by its check (types,
    bounds, names); the parameters stay as written (defaults are the check's)."""
    from validation.checks import REGISTRY

    if isinstance(checks, list):
        mapping: dict[str, dict[str, Any]] = {name: {} for name in checks}
        if len(mapping) != len(checks):
            raise SpecError(path, "checks", "a check is listed twice")
    else:
        mapping = {name: dict(params or {}) for name, params in checks.items()}
    if not mapping:
        raise SpecError(path, "checks", "no checks listed; name at least one of: " + ", ".join(REGISTRY.names()))
    for name, params in mapping.items():
        if name not in REGISTRY:
            raise SpecError(path, f"checks.{name}", "unknown check; known checks: " + ", ".join(REGISTRY.names()))
        check = REGISTRY[name]
        for param in params:
            if not isinstance(param, str) or not param.isidentifier() or keyword.iskeyword(param):
                raise SpecError(path, f"checks.{name}.{param}", "parameter names must be Python identifiers "
                                "that are not keywords")
        try:
            check.parse_params(params)
        except ValidationError as exc:
            first: dict[str, Any] = dict(exc.errors()[0])
            key = f"checks.{name}." + _key_path(tuple(first["loc"]))
            if first["type"] == "extra_forbidden":
                takes = ", ".join(sorted(check.params.model_fields)) or "none"
                raise SpecError(path, key, f"the check has no such parameter; it takes: {takes}") from None
            raise SpecError(path, key, describe_parameter_error(first, check.params)) from None
    return mapping


_PARAMETER_TYPES = {"int_type": "a whole number", "float_type": "a number", "string_type": "a string",
                    "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping"}


def describe_parameter_error(error: Mapping[str, Any], params: type[BaseModel]) -> str:
    """A check parameter's problem: the type expected with the check's default, or the bound."""
    field = params.model_fields.get(str(error["loc"][0])) if error["loc"] else None
    default = f" (the check's default is {field.get_default(call_default_factory=True)!r})" if field else ""
    expected = _PARAMETER_TYPES.get(error["type"])
    if expected is not None:
        return f"expected {expected}{default}, got {error.get('input')!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    got = error.get("input")
    return message + ("" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})")


def _check_each_check(path: Path, entry: "ModelVersionSpec") -> None:
    """What each listed check needs of the spec alone (fairness: a decision rule, say)."""
    from validation.checks import REGISTRY

    for name, params in entry.checks.items():
        check = REGISTRY[name]
        check.check_spec(entry, check.parse_params(params))


def _validated(path: Path, document: dict[str, Any]) -> SpecFile:
    """The YAML document as a :class:`SpecFile`, or the first problem with its key path."""
    try:
        return SpecFile.model_validate(document)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        key = _key_path(tuple(first["loc"]))
        more = f" (and {len(errors) - 1} more problem{'s' * (len(errors) > 2)})" if len(errors) > 1 else ""
        raise SpecError(path, key, _describe(dict(first), key) + more) from None


def _version_entries(path: Path, parsed: SpecFile) -> list[VersionEntry | None]:
    """The ``versions:`` entries (labels unique), or ``[None]`` for a spec of one version."""
    if parsed.versions is None:
        return [None]
    if not parsed.versions:
        raise SpecError(path, "versions", "an empty list; list at least one version or drop the key")
    labels = [e.version for e in parsed.versions]
    if len(set(labels)) != len(labels):
        raise SpecError(path, "versions", f"a version is listed twice: {labels}")
    return list(parsed.versions)


def _apply_entry(path: Path, parsed: SpecFile, entry: VersionEntry | None,
                 prefix: str) -> tuple[ModelSection, DataSection]:
    """The model and data sections of one version: the entry's overrides applied, paths resolved
    relative to the spec."""
    model, data = parsed.model, parsed.data
    if entry is not None:
        updates: dict[str, Any] = {"version": entry.version}
        if entry.artifact is not None:
            updates["artifact"] = entry.artifact
            updates["artifact_sha256"] = entry.artifact_sha256
        elif entry.artifact_sha256 is not None:
            raise SpecError(path, f"{prefix}artifact_sha256", "given without an artifact")
        model = model.model_copy(update=updates)
        if entry.data is not None:  # the values as parsed (a SQL source stays a SqlSource), None left out
            data = data.model_copy(update={key: value for key in DataOverride.model_fields
                                           if (value := getattr(entry.data, key)) is not None})
    model = model.model_copy(update={"artifact": _resolve(path, model.artifact)})
    data = data.model_copy(update={key: _resolve(path, value) if not isinstance(value := getattr(data, key), SqlSource)
                                   else value for key in ("reference", "current", "reference_profile")})
    return model, data


def load_spec(path: str | Path) -> Spec:
    """Read, validate and resolve a spec file.

    Parameters
    ----------
    path
        A YAML spec (``docs/spec.md``).

    Returns
    -------
    Spec
        One :class:`ModelVersionSpec` per version, paths absolute.

    Raises
    ------
    SpecError
        For anything wrong, naming the file and the key path.
    """
    path = Path(path).expanduser().resolve() if Path(path).exists() else Path(path)
    document, raw = _parse_yaml(path)
    parsed = _validated(path, document)
    digest = hashlib.sha256(raw).hexdigest()
    grades = _check_grades(path, parsed.grades)
    thresholds = _check_thresholds(path, parsed.thresholds)
    checks = _check_checks(path, parsed.checks)
    _check_waivers(path, parsed.waivers, checks)
    resolved: list[ModelVersionSpec] = []
    previous: str | None = None
    for index, entry in enumerate(_version_entries(path, parsed)):
        prefix = "model." if entry is None else f"versions[{index}]."
        model, data = _apply_entry(path, parsed, entry, prefix)
        model = _materiality(path, model)
        item = ModelVersionSpec(
            path=path, sha256=digest, model=model, data=data, decision=parsed.decision,
            grades=grades, checks=checks, thresholds=thresholds,
            multiplicity=parsed.multiplicity, governance=parsed.governance, waivers=dict(parsed.waivers),
            alerts=parsed.alerts,
            reference_metrics=(entry.reference_metrics if entry is not None and entry.reference_metrics is not None
                               else parsed.reference_metrics),
            previous_version=previous, first_listed=entry is not None and index == 0,
        )
        _check_semantics(path, prefix, item)
        _check_each_check(path, item)
        _check_required(path, item)
        resolved.append(item)
        previous = model.version
    return Spec(path=path, sha256=digest, versions=tuple(resolved))
