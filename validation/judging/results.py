"""``results.json`` as typed objects: :class:`Results` holds one :class:`CheckResult` per check,
each with its judged :class:`~validation.judging.findings.Finding` list. One serializer
(:meth:`Results.document`) writes the file; ``validation schema results`` prints its JSON Schema
(``docs/results.md`` documents every field).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from validation.judging.findings import Finding, Status
from validation.judging.issues import Issue

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckError(_Strict):
    """Why a check could not run to the end (its status is then ``error``)."""

    kind: str = Field(description="cell_error, timeout, dead_kernel, input_changed, no_findings, worker_died, "
                                  "runner_error or render_error")
    reason: str = Field(description="one line for people")
    cell_index: int | None = Field(default=None, description="the failing cell in the executed notebook, when known")
    ename: str | None = None
    evalue: str | None = None
    traceback: str | None = None


class CheckResult(_Strict):
    """One check of a pack."""

    name: str
    status: Status = Field(description="the worst status of its findings; error when it could not run; "
                                       "not_applicable with a reason")
    error: CheckError | None = None
    reason: str | None = Field(default=None, description="why the check does not apply (not_applicable only)")
    notebook: str | None = Field(default=None, description="the executed notebook, relative to the pack")
    html: str | None = Field(default=None, description="its HTML rendering, relative to the pack")
    duration_seconds: float | None = None
    reused_from: str | None = Field(default=None, description="the run whose result was reused (inputs unchanged)")
    summary: dict[str, Any] = Field(default_factory=dict, description="sample sizes, settings, the headline; "
                                    "warnings a reader must see first (e.g. a training reference)")
    findings: list[Finding] = Field(default_factory=list)
    issues: list[Issue] = Field(default_factory=list, description="its amber and red findings grouped by root "
                                "cause, worst first: what the pack counts")


class ModelInfo(_Strict):
    name: str
    version: str
    type: Literal["classification", "var"]


class RunInfo(_Strict):
    id: str
    started_at: str
    finished_at: str
    spec_sha256: str


class Results(_Strict):
    """The whole ``results.json``."""

    schema_version: Literal[1] = 1
    model: ModelInfo
    run: RunInfo
    status: Status = Field(description="the worst status of its checks (info when nothing was judged)")
    checks: list[CheckResult]

    def document(self) -> dict[str, Any]:
        """The JSON document (the one serializer of results)."""
        return self.model_dump(mode="json")
