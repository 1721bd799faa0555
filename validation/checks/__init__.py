"""The checks: one module per check, each a :class:`~validation.checks.base.Check` that owns
everything about it, registered here by name.

Like papermill's engine registry: a dict, ``register``, lookup by name, and third-party entry
points. A package adds a check by declaring, in its ``pyproject.toml``::

    [project.entry-points."validation.checks"]
    mycheck = "mypkg.checks:MyCheck"

and shipping the check's template notebook beside its module (README, "Write your own check").
An unknown name is an :class:`~validation.errors.UnknownCheckError` that lists the names that exist.

May import: inputs, judging, metrics, reporting (display and charts of their output) and
:mod:`validation.execution.scraps` (the glue of their findings).

The built-in templates live in ``notebooks/`` at the project root, where a modeler opens them; a
wheel carries them as ``validation/notebooks/`` (``VALIDATION_TEMPLATES`` overrides the folder).
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from validation.checks.base import (RUNNER_PARAMETERS, US_MRM, Basis, Check, CheckContext, CheckOutput, CheckParams,
                                    Headline, Section, builtin_templates, parameters_source)
from validation.checks.context import open_context, run_check
from validation.errors import PluginError, UnknownCheckError

__all__ = ["REGISTRY", "RUNNER_PARAMETERS", "US_MRM", "Basis", "Check", "CheckContext", "CheckOutput", "CheckParams", "Headline",
           "Section", "builtin_templates", "open_context", "parameters_source", "run_check"]

ENTRY_POINT_GROUP = "validation.checks"


class CheckRegistry:
    """Checks by name: the built-in ones, then those of installed packages (entry points, loaded on
    first use)."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._plugins_loaded = False
        self.defaults: tuple[str, ...] = ()
        """The checks a spec runs when it names none: the built-in ones."""
        self.providers: dict[str, str] = {}
        """Check name -> ``"<distribution> <version>"`` of the installed package that declares it."""

    def register(self, check: Check) -> None:
        """Add a check. Its name must be usable in paths, new, and its rules may only add metrics:
        a package never changes the bounds of a metric the policy or another check already has."""
        from validation.inputs.spec import NAME_PATTERN
        from validation.judging.policy import DEFAULT_POLICY

        if not isinstance(check, Check):
            raise TypeError(f"expected a validation.checks.Check, got {type(check).__name__}")
        if not re.match(NAME_PATTERN, str(getattr(check, "name", ""))):
            raise ValueError(f"check name {getattr(check, 'name', None)!r}: use letters, digits, '_', '.' or '-'")
        if check.name in self._checks:
            raise ValueError(f"a check named {check.name!r} is already registered")
        taken = set(DEFAULT_POLICY) | {m for other in self._checks.values() for m in other.rules}
        clashes = sorted(set(check.rules) & taken)
        if clashes:
            raise ValueError(f"check {check.name!r} declares rules for {', '.join(clashes)}, which the policy "
                             "already has; a check may only add rules for metrics of its own")
        self._checks[check.name] = check

    def _all(self) -> dict[str, Check]:
        if not self._plugins_loaded:
            self._load_plugins()
            self._plugins_loaded = True
        return self._checks

    def _load_plugins(self) -> None:
        """Register every installed check, or none: a broken one is named (and asked for again on
        the next lookup), and the checks registered before it are taken back."""
        from importlib.metadata import entry_points

        builtin = dict(self._checks)
        for point in entry_points(group=ENTRY_POINT_GROUP):
            where = f"{point.name} = {point.value}"
            try:
                loaded: Any = point.load()
                check = loaded() if isinstance(loaded, type) else loaded
                if point.name != getattr(check, "name", None):
                    raise ValueError(f"the entry point's name differs from the check's name {getattr(check, 'name', None)!r}")
                self.register(check)
            except Exception as exc:  # a broken plugin is named, never a traceback
                self._checks = builtin
                raise PluginError(where, f"{type(exc).__name__}: {exc}") from None
            if point.dist is not None:
                self.providers[point.name] = f"{point.dist.name} {point.dist.version}"

    def names(self) -> list[str]:
        return list(self._all())

    def __contains__(self, name: object) -> bool:
        return name in self._all()

    def __getitem__(self, name: str) -> Check:
        try:
            return self._all()[name]
        except KeyError:
            raise UnknownCheckError(name, self.names()) from None

    def __iter__(self) -> Iterator[Check]:
        return iter(list(self._all().values()))

    def rules(self) -> Mapping[str, Any]:
        """Default rules of third-party metrics, by metric name."""
        merged: dict[str, Any] = {}
        for check in self:
            merged.update(check.rules)
        return merged


def _builtin() -> CheckRegistry:
    from validation.checks.backtesting import BacktestingCheck
    from validation.checks.challenger import ChallengerCheck
    from validation.checks.data_quality import DataQualityCheck
    from validation.checks.drift import DriftCheck
    from validation.checks.explainability import ExplainabilityCheck
    from validation.checks.fairness import FairnessCheck

    registry = CheckRegistry()
    for check in (DataQualityCheck(), DriftCheck(), FairnessCheck(), ExplainabilityCheck(), BacktestingCheck()):
        registry.register(check)
    registry.defaults = tuple(registry._checks)
    # named by a spec, not run by default: a comparison is asked for (a new version, a benchmark to beat)
    registry.register(ChallengerCheck())
    return registry


REGISTRY = _builtin()
