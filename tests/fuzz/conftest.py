"""Profiles, shared data and the ledger of the contract fuzz suite.

Profiles (``HYPOTHESIS_PROFILE``; every one derandomized, so that a run is reproducible, with no
deadline and no example database):

- ``contract`` (the default, what ``make test`` runs): 20 draws across the properties, plus 5
  explicit examples, in about 20 s;
- ``medium``: 200 draws (about 3 minutes);
- ``fuzz`` (``make fuzz``): 2,400 draws, which run over 2,000 distinct examples (a draw that gives
  an example already run in the session is not run again), in about 20 minutes.

The ledger counts every example (its exit code and time) and collects the contract violations. An
example never stops the run: every example of a property is tried, then the property fails with
every distinct violation it met (what was mutated, the exit code, the first lines of the output),
so that one run reports all of them. ``CONTRACT_FUZZ_LOG=file.jsonl`` also writes one line per example.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, settings

from .strategies import CHEAP_CHECK, Case, Shared

PROFILE_EXAMPLES = {"contract": 20, "medium": 200, "fuzz": 2400}
"""Draws of each profile, across all the properties (each takes its share, :func:`.test_contract.budget`)."""

for _name, _examples in PROFILE_EXAMPLES.items():
    settings.register_profile(
        _name, max_examples=_examples, derandomize=True, deadline=None, database=None, print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "contract"))


@dataclass
class Example:
    """One example as run: the case, its exit code, its time and what it broke."""

    test: str
    case: Case
    exit_code: int | None
    seconds: float
    violations: list[str]
    stdout: str
    stderr: str
    exception: str


@dataclass(repr=False)
class Ledger:
    """Every example of the session, by test."""

    examples: list[Example] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    seen: set[tuple[str, str, str]] = field(default_factory=set)
    repeats: int = 0

    def __repr__(self) -> str:
        return f"Ledger({len(self.examples)} examples)"

    def first_time(self, test: str, case: Case) -> bool:
        """Whether ``case`` is new to ``test`` in this session (and remember it)."""
        key = (test, case.label, case.checks)
        if key in self.seen:
            self.repeats += 1
            return False
        self.seen.add(key)
        return True

    def record(self, example: Example) -> None:
        self.examples.append(example)
        log = os.environ.get("CONTRACT_FUZZ_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as stream:
                stream.write(json.dumps({
                    "test": example.test, "family": example.case.family, "label": example.case.label,
                    "checks": example.case.checks, "exit_code": example.exit_code,
                    "seconds": round(example.seconds, 2), "violations": example.violations,
                    "stdout": example.stdout[-2000:], "stderr": example.stderr[-2000:],
                    "exception": example.exception}) + "\n")

    def violations(self, test: str) -> list[Example]:
        return [e for e in self.examples if e.test == test and e.violations]

    def report(self, test: str) -> str:
        """Every distinct violation of ``test`` (by family and kind), with its first example."""
        distinct: dict[tuple[str, str], list[Example]] = {}
        for example in self.violations(test):
            for violation in example.violations:
                kind = violation.split(":")[0]
                distinct.setdefault((example.case.family, kind), []).append(example)
        lines = [f"{len(distinct)} distinct contract violation(s) in {len(self.violations(test))} example(s):"]
        for (family, kind), examples in sorted(distinct.items()):
            first = examples[0]
            detail = next(v for v in first.violations if v.split(":")[0] == kind)
            lines += [f"- [{family}] {detail}  ({len(examples)} example(s))",
                      f"    mutation: {first.case.label}  (--checks {first.case.checks})",
                      f"    exit code: {first.exit_code}"]
            for name, text in (("stderr", first.stderr), ("stdout", first.stdout), ("exception", first.exception)):
                shown = [line for line in text.splitlines() if line.strip()][:4]
                lines += [f"    {name}: {line[:200]}" for line in shown]
        return "\n".join(lines)


LEDGER = Ledger()


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return LEDGER


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """The base data, written once per module; each example writes its spec (and mutated data) into a
    folder of its own."""
    return Shared.create(tmp_path_factory.mktemp("contract"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A property whose examples broke the contract fails, listing every distinct violation."""
    result = yield
    if LEDGER.violations(item.nodeid):
        pytest.fail(LEDGER.report(item.nodeid), pytrace=False)
    return result


def pytest_terminal_summary(terminalreporter: Any) -> None:
    examples = LEDGER.examples
    if not examples:
        return
    codes = Counter(e.exit_code for e in examples)
    notebooks = sum(1 for e in examples if e.exit_code in (0, 1, 3) and e.case.checks != CHEAP_CHECK)
    broken = sum(1 for e in examples if e.violations)
    elapsed = time.monotonic() - LEDGER.started
    terminalreporter.write_sep("-", "contract fuzz")
    terminalreporter.write_line(
        f"{len(examples)} examples run in {elapsed:.0f} s (profile {settings.get_current_profile_name()}; "
        f"{LEDGER.repeats} repeated draws not run again): "
        + ", ".join(f"exit {code}: {count}" for code, count in sorted(codes.items(), key=lambda x: str(x[0])))
        + f"; {notebooks} ran a notebook; {broken} broke the contract")
    for example in examples:  # allowed by the contract, but a valid input should not break a check
        if example.exit_code == 3:
            terminalreporter.write_line(f"  exit 3 (a check could not execute): {example.case.label} "
                                        f"(--checks {example.case.checks})")
