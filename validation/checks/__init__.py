"""The registry of checks: a check is a template notebook plus the library functions it calls.

Like papermill's engine registry: a dict, ``register``, lookup by name. An unknown name is an
:class:`~validation.errors.UnknownCheckError` that lists the names that exist.

Templates live in ``notebooks/`` at the project root (``VALIDATION_TEMPLATES`` overrides it). Each
has one cell tagged ``parameters``; the runner always sets ``spec`` and ``version`` and the spec
may set the others (``checks: {drift: {bins: 20}}``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from validation.errors import InputError, UnknownCheckError

RUNNER_PARAMETERS = ("spec", "version")
"""Parameters every template takes and the runner always sets."""


def templates_dir() -> Path:
    """Folder of the template notebooks."""
    configured = os.environ.get("VALIDATION_TEMPLATES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class Check:
    """One registered check.

    Attributes
    ----------
    name
        The check's name in specs, packs and results (``drift``).
    template
        File name of its notebook in :func:`templates_dir`.
    description
        One line for ``validation checks``.
    not_applicable
        Given a model version spec, the reason the check does not apply to it, or ``None``.
    """

    name: str
    template: str
    description: str
    not_applicable: Callable[[object], str | None] = field(default=lambda spec: None)
    validate_inputs: Callable[[Any, Any], None] = field(default=lambda spec, samples: None)
    """Given the model version spec and its loaded samples, raise an InputError for anything the
    check cannot use (checked before any notebook runs: exit 2, nothing written)."""

    @property
    def path(self) -> Path:
        return templates_dir() / self.template

    def parameters(self) -> dict[str, dict[str, str]]:
        """The template's parameters as papermill reads them: name -> {default, help, ...}."""
        return dict(_inspect(str(self.path)))

    def user_parameters(self) -> set[str]:
        """Parameters a spec may set (all but the runner's own)."""
        return set(self.parameters()) - set(RUNNER_PARAMETERS)


@functools.lru_cache(maxsize=None)
def _inspect(path: str) -> dict[str, dict[str, str]]:
    import papermill

    if not Path(path).is_file():
        raise InputError(f"template not found: {path}; the templates live in notebooks/ of the "
                         "project checkout (or set VALIDATION_TEMPLATES to their folder)")

    return {name: dict(info) for name, info in papermill.inspect_notebook(path).items()}


class CheckRegistry:
    """Checks by name."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def register(self, check: Check) -> None:
        if check.name in self._checks:
            raise ValueError(f"a check named {check.name!r} is already registered")
        self._checks[check.name] = check

    def names(self) -> list[str]:
        return list(self._checks)

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def __getitem__(self, name: str) -> Check:
        try:
            return self._checks[name]
        except KeyError:
            raise UnknownCheckError(name, self.names()) from None

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())


def _fairness_not_applicable(spec: object) -> str | None:
    data = getattr(spec, "data")
    model = getattr(spec, "model")
    if model.type != "classification":
        return "fairness of credit decisions applies to classification models"
    if not data.protected:
        return "no protected attributes in the spec (data.protected)"
    return None


MAX_GROUPS_UNBANDED = 20


def _fairness_inputs(spec: Any, samples: Any) -> None:
    from validation.errors import SpecError
    from validation.metrics.drift import is_numeric

    params = spec.checks.get("fairness", {})
    protected = list(spec.data.protected)
    bands = params.get("bands") or {}
    intersections = params.get("intersections") or []
    key = "checks.fairness"
    current = samples.current
    if not isinstance(bands, dict):
        raise SpecError(spec.path, f"{key}.bands", "expected a mapping: attribute -> [band edges]")
    for attribute, edges in bands.items():
        if attribute not in protected:
            raise SpecError(spec.path, f"{key}.bands.{attribute}", f"not a protected attribute; "
                            f"data.protected lists: {', '.join(protected)}")
        if (not isinstance(edges, list) or not edges
                or not all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in edges)
                or any(b <= a for a, b in zip(edges, edges[1:]))):
            raise SpecError(spec.path, f"{key}.bands.{attribute}", f"expected increasing numbers, e.g. "
                            f"[25, 35, 50]; got {edges!r}")
        if not is_numeric(current[attribute]):
            raise SpecError(spec.path, f"{key}.bands.{attribute}", "the attribute is not numeric; bands "
                            "apply to numeric attributes such as age")
    if not isinstance(intersections, list):
        raise SpecError(spec.path, f"{key}.intersections", "expected a list of lists, e.g. [[sex, age_band]]")
    for index, combo in enumerate(intersections):
        if (not isinstance(combo, list) or len(combo) < 2
                or any(not isinstance(a, str) or a not in protected for a in combo)):
            raise SpecError(spec.path, f"{key}.intersections[{index}]", "expected two or more protected "
                            f"attributes (data.protected: {', '.join(protected)}); got {combo!r}")
    for attribute in protected:
        column = current[attribute]
        if attribute not in bands and is_numeric(column):
            distinct = int(column.nunique())
            if distinct > MAX_GROUPS_UNBANDED:
                raise SpecError(spec.path, f"{key}.bands", f"protected attribute '{attribute}' is numeric "
                                f"with {distinct} distinct values; give band edges, e.g. "
                                f"checks: {{fairness: {{bands: {{{attribute}: [25, 35, 50]}}}}}}")


def _explainability_inputs(spec: Any, samples: Any) -> None:
    from validation.errors import SpecError
    from validation.metrics.drift import is_numeric

    params = spec.checks.get("explainability", {})
    monotone = params.get("monotone") or {}
    key = "checks.explainability.monotone"
    if not isinstance(monotone, dict):
        raise SpecError(spec.path, key, "expected a mapping: feature -> increasing | decreasing")
    for feature, direction in monotone.items():
        if feature not in samples.features:
            raise SpecError(spec.path, f"{key}.{feature}", f"not a feature of the model; features: "
                            f"{', '.join(samples.features)}")
        if direction not in ("increasing", "decreasing"):
            raise SpecError(spec.path, f"{key}.{feature}", f"expected 'increasing' or 'decreasing', got {direction!r}")
        if not is_numeric(samples.current[feature]):
            raise SpecError(spec.path, f"{key}.{feature}", "monotonicity applies to numeric features")
    size = params.get("sample_size", 2000)
    if not isinstance(size, int) or isinstance(size, bool) or size < 10:
        raise SpecError(spec.path, "checks.explainability.sample_size", f"expected a whole number >= 10, got {size!r}")


def _explainability_not_applicable(spec: object) -> str | None:
    model = getattr(spec, "model")
    if model.type != "classification":
        return "explainability applies to classification models"
    if not model.artifact:
        return "no model artifact (model.artifact): scores come from elsewhere and cannot be explained"
    return None


def _drift_not_applicable(spec: object) -> str | None:
    if getattr(spec, "model").type != "classification":
        return "drift of features applies to classification models"
    return None


def _backtesting_not_applicable(spec: object) -> str | None:
    return None


REGISTRY = CheckRegistry()
REGISTRY.register(Check("drift", "drift.ipynb",
                        "PSI, KS, chi-square and Jensen-Shannon drift of the score and each feature",
                        _drift_not_applicable))
REGISTRY.register(Check("fairness", "fairness.ipynb",
                        "approval rates, disparate impact (four-fifths rule) with significance, parity "
                        "differences with bootstrap intervals, calibration per protected group",
                        _fairness_not_applicable, _fairness_inputs))
REGISTRY.register(Check("explainability", "explainability.ipynb",
                        "SHAP importances in log-odds, additivity, reason codes, monotonicity (ICE), "
                        "stability against the previous version", _explainability_not_applicable,
                        _explainability_inputs))
REGISTRY.register(Check("backtesting", "backtesting.ipynb",
                        "PD: AUC/Gini/KS with DeLong, AUC change, Jeffreys, binomial, Hosmer-Lemeshow, "
                        "Spiegelhalter, concentration, by period and segment; VaR: Kupiec, TUFF, "
                        "Christoffersen, Basel zones", _backtesting_not_applicable))
