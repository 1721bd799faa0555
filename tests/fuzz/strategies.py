"""Hypothesis strategies of the contract fuzz suite: a valid base spec and its data, and mutations of both.

Every strategy draws a :class:`Case`: a labelled mutation that writes a spec (and, for data
mutations, its data files) into a fresh example folder. The label is what a violation report shows,
so it says exactly what was changed (``data.features[1] <- nan``).

The strategies are biased on purpose: most mutations are refused in a tenth of a second (exit 2),
and a valid one runs one check (``--checks``). That check is often ``explainability``, which does
not apply to this scores-only spec: the run then loads and checks every input (spec, data, check
parameters) and stops, refused with "nothing to run", before any notebook; the others run one
notebook each (3-8 s) and write a pack. So a long run stays affordable while every property still
meets packs written by real notebooks.

The base data carry two sentinels that must never reach a pack: :data:`SENTINEL_ID`, a customer id
in ``data.ids`` (row 0 of both samples), and :data:`SENTINEL_CAT`, a category that occurs once, in
row 0 of the current sample's ``channel`` feature.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml
from hypothesis import strategies as st

SENTINEL_ID = "SENTINEL-8731"
SENTINEL_CAT = "SENTINEL-CAT"
ROWS = 300
"""Rows of each base sample: enough for every check to judge (groups of at least 30), small enough
for a notebook to run in seconds."""
HUGE_DIGITS = "9" * 5000
"""An integer past Python's int/str conversion limit (4,300 digits since 3.11): PyYAML's int
constructor raises ``ValueError`` on it, not a ``YAMLError``."""
CHEAP_CHECK = "explainability"
"""Not applicable without ``model.artifact``: every input is loaded and checked, no notebook runs."""
CHECKS_WITH_BIAS = [CHEAP_CHECK, "drift", CHEAP_CHECK, "backtesting", "fairness"]


# --------------------------------------------------------------------------------------------------
# The base: data and spec
# --------------------------------------------------------------------------------------------------

def sample(n: int, *, seed: int, shift: float = 0.0, current: bool = False) -> pd.DataFrame:
    """A scored PD portfolio (like ``tests/conftest.py``'s) with text customer ids and a ``channel``
    feature; row 0 holds the sentinels."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10 + shift, 0.5, n)
    tenure = rng.integers(0, 4, n)
    logit = -1.5 - 0.8 * (np.log(income) - 10) + 0.3 * tenure
    score = 1 / (1 + np.exp(-logit))
    ids = [f"C-{seed:02d}-{i:06d}" for i in range(n)]
    channel = rng.choice(["web", "branch", "phone"], size=n).astype(object)
    if n:
        ids[0] = SENTINEL_ID
        if current:
            channel[0] = SENTINEL_CAT
    return pd.DataFrame({
        "customer_id": ids, "income": income, "tenure": tenure,
        "region": rng.choice(["north", "south", "east"], size=n, p=[0.5, 0.3, 0.2]),
        "channel": channel, "sex": rng.choice(["female", "male"], size=n), "pd": score,
        "default": (rng.random(n) < score).astype(int),
        "month": np.array(["2025-01", "2025-02", "2025-03"])[np.arange(n) % 3],
    })


@dataclass(frozen=True, repr=False)
class Shared:
    """The data every example of a module shares (written once, never changed by a run)."""

    root: Path
    reference: pd.DataFrame
    current: pd.DataFrame

    def __repr__(self) -> str:
        return f"Shared({self.root})"

    @property
    def reference_path(self) -> Path:
        return self.root / "data" / "ref.parquet"

    @property
    def current_path(self) -> Path:
        return self.root / "data" / "cur.parquet"

    @classmethod
    def create(cls, root: Path) -> "Shared":
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "examples").mkdir(exist_ok=True)
        shared = cls(root, sample(ROWS, seed=1), sample(ROWS, seed=2, shift=0.3, current=True))
        shared.reference.to_parquet(shared.reference_path)
        shared.current.to_parquet(shared.current_path)
        shared.reference.to_csv(root / "data" / "ref.csv", index=False)
        shared.current.to_csv(root / "data" / "cur.csv", index=False)
        return shared


FEATURES = ["income", "tenure", "region", "channel"]


def base_spec(reference: str, current: str) -> dict[str, Any]:
    """A valid scores-only PD spec using most keys (so that dropping or retyping each is tried)."""
    return {
        "model": {"name": "fuzz_pd", "version": "1", "owner": "Fuzz <QA>", "purpose": "a fuzzed model", "tier": 2},
        "data": {"reference": reference, "current": current, "target": "default", "score": "pd",
                 "features": list(FEATURES), "protected": ["sex"], "ids": ["customer_id"], "time": "month"},
        "decision": {"threshold": 0.2, "favourable": "below"},
        "grades": [0.05, 0.1, 0.2, 0.5, 1.0],
        "checks": {"drift": {"bins": 10}, "fairness": {"min_group_size": 30}, "explainability": None,
                   "backtesting": None},
        "thresholds": {"psi": {"amber": 0.1, "red": 0.25}},
    }


# --------------------------------------------------------------------------------------------------
# Rendering a spec document as YAML, with raw scalars PyYAML cannot emit
# --------------------------------------------------------------------------------------------------

class Raw(str):
    """A YAML scalar written verbatim (``999...9``, ``2024-01-01``, ``1.10``), resolved by the loader."""


class _Dumper(yaml.SafeDumper):
    """Mappings in block style, one key a line; lists in flow style, one line each: so that a raw
    edit (:func:`set_line`) replaces exactly one key's value."""


_Dumper.add_representer(dict, lambda dumper, value: dumper.represent_mapping(
    "tag:yaml.org,2002:map", value, flow_style=False))
_Dumper.add_representer(list, lambda dumper, value: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", value, flow_style=True))


def render(document: Any) -> str:
    """YAML text of ``document``; :class:`Raw` values are substituted verbatim after dumping."""
    raws: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(str(value))
            return f"@@RAW{len(raws) - 1}@@"
        if isinstance(value, dict):
            return {swap(k) if isinstance(k, Raw) else k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    text = yaml.dump(swap(document), Dumper=_Dumper, sort_keys=False, width=10**6, allow_unicode=False)
    return re.sub(r"'?@@RAW(\d+)@@'?", lambda m: raws[int(m.group(1))], text)


# --------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------

SpecEdit = Callable[[dict[str, Any], Path, Shared], None]
TextEdit = Callable[[str, Path], "str | bytes"]
DataWriter = Callable[[Shared, Path], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One mutation: ``family`` groups cases in the statistics, ``label`` says exactly what changed.

    ``data`` writes mutated data files into the example folder and returns the ``data.*`` keys to
    set; ``edit`` changes the spec document; ``text`` changes its YAML text (or replaces it with bytes).
    """

    family: str
    label: str
    checks: str
    edit: SpecEdit | None = field(default=None, compare=False)
    text: TextEdit | None = field(default=None, compare=False)
    data: DataWriter | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return f"Case({self.family}: {self.label} | --checks {self.checks})"

    def write(self, shared: Shared, where: Path) -> Path:
        """Write the spec (and data) into ``where``; returns the spec's path."""
        document = base_spec(str(shared.reference_path), str(shared.current_path))
        if self.data is not None:
            for key, value in self.data(shared, where).items():
                document["data"][key] = value
        if self.edit is not None:
            self.edit(document, where, shared)
        rendered = render(document)
        text = rendered if self.text is None else self.text(rendered, where)
        path = where / "spec.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        return path


# --------------------------------------------------------------------------------------------------
# Helpers on nested documents
# --------------------------------------------------------------------------------------------------

Key = tuple[Any, ...]


def key_paths(document: Any, prefix: Key = ()) -> list[Key]:
    """Every key path of ``document`` (mapping keys and list positions), parents before children."""
    paths: list[Key] = []
    items = document.items() if isinstance(document, dict) else enumerate(document) if isinstance(
        document, list) else []
    for key, value in items:
        paths.append(prefix + (key,))
        paths.extend(key_paths(value, prefix + (key,)))
    return paths


def show(path: Key) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _parent(document: Any, path: Key) -> Any:
    node = document
    for part in path[:-1]:
        if isinstance(node, dict):
            if not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]
        else:
            node = node[part]
    return node


def put(path: Key, value: Any) -> SpecEdit:
    def edit(document: dict[str, Any], where: Path, shared: Shared) -> None:
        _parent(document, path)[path[-1]] = value
    return edit


def drop(path: Key) -> SpecEdit:
    def edit(document: dict[str, Any], where: Path, shared: Shared) -> None:
        parent = _parent(document, path)
        del parent[path[-1]]
    return edit


def describe(value: Any) -> str:
    """A short, exact description of a value for a label."""
    if isinstance(value, Raw):
        return f"raw {value[:40]!s}{'...' if len(value) > 40 else ''} ({len(value)} chars)"
    if isinstance(value, str) and len(value) > 40:
        return f"{value[:20]!r}... ({len(value)} chars)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _get(document: Any, path: Key) -> Any:
    node = document
    for part in path:
        node = node[part]
    return node


_BASE = base_spec("REF", "CUR")
KEY_PATHS = key_paths(_BASE)
MAPPING_PATHS: list[Key] = [()] + [p for p in KEY_PATHS if isinstance(_get(_BASE, p), dict)]
NUMERIC_PATHS: list[Key] = [p for p in KEY_PATHS if isinstance(_get(_BASE, p), (int, float))
                            and not isinstance(_get(_BASE, p), bool)] + [("data", "max_rows"), ("data", "var_level")]


# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------

HOSTILE = [
    0, -1, 1, 3.5, math.nan, math.inf, -math.inf, True, False, None, 1e308, -1e308, 5e-324, -0.0,
    2**63, 2**64, -(2**63) - 1, Raw(HUGE_DIGITS), Raw("-" + HUGE_DIGITS), Raw(HUGE_DIGITS + ".5"),
    Raw("1.0e+400"), "x" * 300, "a\x00b", "a\nb", "a\rb", "\t", " ", "", [], {}, ["a", 1, None],
    [[1, 2], [3]], {"a": 1}, {"x": {"y": [1]}}, "registry.sqlite", "..", "2/3", "~", "yes", "0x1F",
    "<script>alert(1)</script>", "{{ 7*7 }}", "\u202eevil", "\ufeff", "é" * 3, "😀",
]
"""Values of the wrong type or out of every range: numbers at the edges of floats and ints,
strings that break lines, paths or templates, and the wrong shapes."""


def hostile_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=4), st.none()), max_size=4),
        st.dictionaries(st.text(max_size=4), st.integers(-3, 3), max_size=3),
    )


OUT_OF_RANGE = [-1, -1e-9, 0, 0.0, 1, 1.0000001, 1e308, -1e308, 5e-324, -0.0, 2**31, 2**63, 2**64, 10**20,
                math.nan, math.inf, -math.inf, Raw(HUGE_DIGITS)]

ODD_KEYS: list[Any] = ["naem", "", " ", "x\ny", "x" * 300, "__class__", "__init__", "Model", " name",
                       "data", "model", "a.b", "a/b", "$ref", "<<", "\x00", 1, 0, -1, 3.5, True, None]

NAMES = ["registry.sqlite", "x\n", "\nx", "..", ".", "x" * 300, "", " ", "a/b", "a\\b", "CON", "-rf",
         ".hidden", "ünï", "\u202etxt", "x\x00y", "registry.sqlite-journal", "manifest.json", "results.json",
         "a b", "a:b", "*", "?", "x" * 255, "x" * 256, Raw("1.10"), Raw("2024-01-01"), Raw("0o17"),
         Raw("1_000"), Raw("~"), Raw("yes"), Raw("1e3"), Raw(".inf"), Raw(HUGE_DIGITS), "fuzz_pd", "1"]
"""Model names and versions (used in paths and as registry keys) and column names."""


# --------------------------------------------------------------------------------------------------
# Spec mutations
# --------------------------------------------------------------------------------------------------

def _check_parameters() -> dict[str, list[str]]:
    from validation.checks import REGISTRY

    return {check.name: list(check.params.model_fields) for check in REGISTRY}


CHECK_PARAMETERS = _check_parameters()
COLUMN_CHOICES = ["sex", "region", "channel", "income", "tenure", "nope", "sex*region", ""]


def parameter_values(name: str) -> st.SearchStrategy[Any]:
    """Plausible values of a check parameter (often valid, so that notebooks meet them), mixed with
    hostile ones; unknown parameters get hostile values only."""
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "bands": st.dictionaries(st.sampled_from(COLUMN_CHOICES), st.lists(
            st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 100_000), max_size=4), max_size=2),
        "intersections": st.lists(st.lists(st.sampled_from(COLUMN_CHOICES), max_size=3), max_size=2),
        "monotone": st.dictionaries(st.sampled_from(COLUMN_CHOICES), st.sampled_from(
            ["increasing", "decreasing", "up", "", "INCREASING"]), max_size=2),
        "psi_rule": st.sampled_from(["both", "fixed", "critical", "Fixed", "", "critical "]),
    }
    whole = st.one_of(st.integers(-5, 1200), st.sampled_from([2**31, 2**32, 2**63 - 1, 2**63, 2**64]))
    return st.one_of(plausible.get(name, whole), hostile_values())


@st.composite
def check_parameter_case(draw: st.DrawFn) -> Case:
    check = draw(st.sampled_from(sorted(CHECK_PARAMETERS)))
    names = CHECK_PARAMETERS[check]
    known = bool(names) and draw(st.integers(0, 4)) > 0  # mostly a parameter the check takes
    name = draw(st.sampled_from(names) if known else
                st.sampled_from(["bin", "", "__import__('os')", "x" * 300, "seed ", "Bins"]))
    value = draw(parameter_values(name))
    return Case("check parameter", f"checks.{check}.{name} <- {describe(value)}", check,
                edit=put(("checks", check, name), value))


CHECKS_SHAPES: list[Any] = [["drift", "drift"], [], {}, None, ["Drift"], ["drift", 1], {"drift": [1]},
                            {"drift": "x"}, {"drift": {}, "drift ": {}}, "drift", ["drift", None],
                            [["drift"]], {"drift": {"bins": None}}, ["x" * 300], ["drift\n"], {None: {}}]


@st.composite
def spec_case(draw: st.DrawFn) -> Case:
    """A mutation of the spec document (the data stay the valid base)."""
    family = draw(st.sampled_from(["wrong type", "drop key", "out of range", "unknown key", "wrong type",
                                   "check parameter", "checks shape", "thresholds", "versions", "grades"]))
    checks = draw(st.sampled_from(CHECKS_WITH_BIAS))
    value: Any
    if family == "drop key":
        path = draw(st.sampled_from(KEY_PATHS))
        return Case(family, f"del {show(path)}", checks, edit=drop(path))
    if family == "wrong type":
        path = draw(st.sampled_from(KEY_PATHS))
        value = draw(hostile_values())
        return Case(family, f"{show(path)} <- {describe(value)}", checks, edit=put(path, value))
    if family == "out of range":
        path = draw(st.sampled_from(NUMERIC_PATHS))
        value = draw(st.sampled_from(OUT_OF_RANGE) | st.floats() | st.integers())
        return Case(family, f"{show(path)} <- {describe(value)}", checks, edit=put(path, value))
    if family == "unknown key":
        where = draw(st.sampled_from(MAPPING_PATHS))
        key = draw(st.sampled_from(ODD_KEYS) | st.text(max_size=8))
        if key in (_get(_BASE, where) if where else _BASE):
            key = f"{key}_x"
        value = draw(st.sampled_from([1, "x", None, [], {}]))
        return Case(family, f"{show(where + (key,))} <- {describe(value)} (new key {describe(key)})", checks,
                    edit=put(where + (key,), value))
    if family == "check parameter":
        return draw(check_parameter_case())
    if family == "checks shape":
        value = draw(st.sampled_from(CHECKS_SHAPES))
        return Case(family, f"checks <- {describe(value)}", checks, edit=put(("checks",), value))
    if family == "thresholds":
        from validation.judging.policy import DEFAULT_POLICY

        metric = draw(st.sampled_from(sorted(DEFAULT_POLICY)) | st.sampled_from(["pis", "", "x" * 300]))
        bounds = draw(st.fixed_dictionaries({}, optional={
            "amber": st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(HOSTILE),
            "red": st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(HOSTILE)}))
        value = draw(st.just(bounds) | st.sampled_from([None, 0.2, [0.1, 0.2], "0.1"]))
        return Case(family, f"thresholds.{metric} <- {describe(value)}", checks,
                    edit=put(("thresholds", metric), value))
    if family == "versions":
        entry: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries({"version": st.sampled_from(NAMES) | st.text(max_size=6)}, optional={
            "data": st.sampled_from([{}, {"target": "pd"}, {"features": []}, {"max_rows": 5}, {"max_rows": 0},
                                     {"reference": "nope.parquet"}, {"name": "x"}, None]),
            "artifact": st.sampled_from(["m.skops", "", None]),
            "artifact_sha256": st.sampled_from(["0" * 64, "xyz", None]),
            "extra": st.just(1)})
        value = draw(st.lists(entry, max_size=3) | st.sampled_from([None, [], {}, "1", [None], [[]]]))
        return Case(family, f"versions <- {describe(value)}", checks, edit=put(("versions",), value))
    value = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(OUT_OF_RANGE),
                          max_size=6) | st.sampled_from([[1.0], [0.5, 1.0], [1e-300, 1.0], [0.1] * 1001]))
    return Case("grades", f"grades <- {describe(value)}", checks, edit=put(("grades",), value))


# --------------------------------------------------------------------------------------------------
# Raw YAML mutations
# --------------------------------------------------------------------------------------------------

def set_line(section: str, key: str, raw: str) -> TextEdit:
    """Give ``section.key`` (``section`` "" for a top-level key) the raw YAML value ``raw``: its line
    (and a top-level key's indented block) is replaced, or the line added at the section's end."""

    def edit(text: str, where: Path) -> str:
        lines = text.rstrip("\n").split("\n")
        indent = "  " if section else ""
        first, last = 0, len(lines)
        if section:
            if f"{section}:" not in lines:
                return "\n".join(lines + [f"{section}:", f"  {key}: {raw}"]) + "\n"
            first = lines.index(f"{section}:") + 1
            last = next((i for i in range(first, len(lines)) if not lines[i].startswith(" ")), len(lines))
        for i in range(first, last):
            if lines[i].startswith(f"{indent}{key}:"):
                end = i + 1
                while not section and end < len(lines) and lines[end].startswith(" "):
                    end += 1
                lines[i:end] = [f"{indent}{key}: {raw}"]
                return "\n".join(lines) + "\n"
        lines.insert(last, f"{indent}{key}: {raw}")
        return "\n".join(lines) + "\n"

    return edit


def insert_line(section: str, key: str, raw: str) -> TextEdit:
    """Add the line ``key: raw`` at the end of ``section`` (``section`` "" for the top level), after
    any line the key already has: a duplicate key when it has one."""

    def edit(text: str, where: Path) -> str:
        lines = text.rstrip("\n").split("\n")
        if not section or f"{section}:" not in lines:
            return "\n".join(lines + ([f"{section}:"] if section else []) +
                             [f"{'  ' if section else ''}{key}: {raw}"]) + "\n"
        first = lines.index(f"{section}:") + 1
        last = next((i for i in range(first, len(lines)) if not lines[i].startswith(" ")), len(lines))
        lines.insert(last, f"  {key}: {raw}")
        return "\n".join(lines) + "\n"

    return edit


def append(snippet: str) -> TextEdit:
    return lambda text, where: text.rstrip("\n") + "\n" + snippet + "\n"


def prepend(prefix: str | bytes) -> TextEdit:
    def edit(text: str, where: Path) -> str | bytes:
        return prefix + text.encode() if isinstance(prefix, bytes) else prefix + text
    return edit


def replace_all(data: str | bytes) -> TextEdit:
    return lambda text, where: data


def encode_as(encoding: str, owner: str) -> TextEdit:
    def edit(text: str, where: Path) -> bytes:
        return text.replace("Fuzz <QA>", owner).encode(encoding)
    return edit


def alias_bomb(width: int, depth: int) -> str:
    """A flow list holding a billion-laughs chain of ``width ** depth`` leaves (kept small: about
    10^6 at most), its anchors inside the value so that no other key is added."""
    levels = [f"&l0 [{', '.join(['lol'] * width)}]"]
    levels += [f"&l{k} [{', '.join([f'*l{k - 1}'] * width)}]" for k in range(1, depth + 1)]
    return "[" + ", ".join(levels) + "]"


ONE_LINE_KEYS = [("model", "name"), ("model", "version"), ("model", "owner"), ("model", "tier"),
                 ("data", "target"), ("data", "score"), ("data", "features"), ("data", "protected"),
                 ("data", "reference"), ("decision", "threshold"), ("", "grades"), ("", "checks")]
TAGGED = ["!!python/object/apply:os.system [\"true\"]", "!!python/name:os.system", "!!binary aGVsbG8=",
          "!!set {a, b}", "!!timestamp 2024-01-01", "!!float nan", "!!float .inf", "!custom x", "!!str 1",
          "!!int '7'", "!!null ''", "!!omap [a: 1]", "!!python/tuple [1, 2]", "&a x", "*undefined_alias",
          "1.10", "2024-01-01", "2024-01-01T00:00:00Z", "no", "~", "0x1F", "0o17", "1_000", "08", "1e3",
          ".inf", "-.inf", ".nan", "'single'", '"double \\x00 nul"', '"\\ud800"', "|\n  block\n  text",
          HUGE_DIGITS, "-" + HUGE_DIGITS, HUGE_DIGITS + ".0", "[" * 64 + "]" * 64, "{a: [1, {b: 2}]}"]


@st.composite
def yaml_case(draw: st.DrawFn) -> Case:
    """A mutation of the spec's YAML text: duplicate keys, anchors and aliases, tags, YAML 1.1
    surprises, encodings and document structure."""
    family = draw(st.sampled_from(["duplicate key", "alias", "tagged value", "encoding", "structure",
                                   "recursive alias", "alias bomb", "tagged value"]))
    checks = draw(st.sampled_from(CHECKS_WITH_BIAS))
    if family == "duplicate key":
        section, key = draw(st.sampled_from(ONE_LINE_KEYS + [("", "model"), ("", "data")]))
        raw = draw(st.sampled_from(["other", "default", "pd", "[income]", "{name: x, version: '2'}", "null",
                                    "0.5", "'9'"]))
        return Case(family, f"{section + '.' if section else ''}{key} given twice (second: {raw})", checks,
                    text=insert_line(section, key, raw))
    if family == "alias":
        variant = draw(st.sampled_from(["features as protected", "merge key", "alias of a mapping",
                                        "anchor on the root", "alias to a scalar"]))
        texts = {
            "features as protected": lambda t, w: t.replace("  features: [", "  features: &f [").replace(
                "  protected: [sex]", "  protected: *f"),
            "merge key": lambda t, w: t.replace("decision:\n", "decision:\n  <<: {threshold: 0.3}\n"),
            "alias of a mapping": lambda t, w: t.replace("decision:\n", "decision: &d\n") + "extra: *d\n",
            "anchor on the root": lambda t, w: "&root\n" + t,
            "alias to a scalar": lambda t, w: t.replace("  owner: Fuzz <QA>", "  owner: &o Fuzz").replace(
                "  purpose: a fuzzed model", "  purpose: *o"),
        }
        return Case(family, variant, checks, text=texts[variant])
    if family == "recursive alias":
        section, key = draw(st.sampled_from(ONE_LINE_KEYS + [("", "x"), ("model", "x")]))
        raw = draw(st.sampled_from(["&r [*r]", "&r {a: *r}", "&r [1, [2, *r]]"]))
        return Case(family, f"{section + '.' if section else ''}{key} <- {raw}", checks,
                    text=set_line(section, key, raw))
    if family == "alias bomb":
        width = draw(st.integers(2, 9))
        depth = draw(st.integers(1, max(1, int(math.log(1_000_000) / math.log(width)) - 1)))
        section, key = draw(st.sampled_from([("", "bomb"), ("model", "owner"), ("", "checks"),
                                             ("data", "features"), ("", "thresholds")]))
        bomb = alias_bomb(width, depth)
        target = {"checks": "{drift: {bins: " + bomb + "}}", "thresholds": "{psi: {amber: " + bomb + "}}"}.get(key, bomb)
        return Case(family, f"{width}**{depth + 1} aliases at {section + '.' if section else ''}{key}", checks,
                    text=set_line(section, key, target))
    if family == "tagged value":
        section, key = draw(st.sampled_from(ONE_LINE_KEYS))
        raw = draw(st.sampled_from(TAGGED))
        return Case(family, f"{section + '.' if section else ''}{key} <- {describe(Raw(raw))}", checks,
                    text=set_line(section, key, raw))
    if family == "encoding":
        variant = draw(st.sampled_from(["latin-1 owner", "utf-16", "utf-8 BOM", "NUL byte", "control char",
                                        "invalid utf-8", "CRLF line ends", "tab indentation"]))
        encodings: dict[str, TextEdit] = {
            "latin-1 owner": encode_as("latin-1", "Zoë Müller"),
            "utf-16": encode_as("utf-16", "Zoë"),
            "utf-8 BOM": prepend(b"\xef\xbb\xbf"),
            "NUL byte": lambda t, w: t.replace("a fuzzed model", "a fuzzed\x00model"),
            "control char": lambda t, w: t.replace("a fuzzed model", "a fuzzed\x07model"),
            "invalid utf-8": lambda t, w: t.encode().replace(b"a fuzzed model", b"a fuzzed \xed\xa0\x80\xff model"),
            "CRLF line ends": lambda t, w: t.replace("\n", "\r\n"),
            "tab indentation": lambda t, w: t.replace("\n  name:", "\n\tname:"),
        }
        return Case(family, variant, checks, text=encodings[variant])
    variant = draw(st.sampled_from(["empty file", "only a comment", "two documents", "a scalar", "a list",
                                    "null", "deep list", "deep mapping", "long line", "trailing garbage",
                                    "explicit end", "huge version"]))
    depth = draw(st.sampled_from([100, 1000, 10_000, 100_000])) if variant.startswith("deep") else 0
    structures: dict[str, TextEdit] = {
        "empty file": replace_all(""),
        "only a comment": replace_all("# nothing\n"),
        "two documents": lambda t, w: t + "---\n" + t,
        "a scalar": replace_all("42\n"),
        "a list": replace_all("- model\n- data\n"),
        "null": replace_all("null\n"),
        "deep list": set_line("model", "owner", "[" * depth + "]" * depth),
        "deep mapping": set_line("model", "owner", "{a: " * depth + "1" + "}" * depth),
        "long line": set_line("model", "owner", "x" * 1_000_000),
        "trailing garbage": append("]]] :::"),
        "explicit end": lambda t, w: t + "...\ngarbage: [\n",
        "huge version": set_line("model", "version", HUGE_DIGITS),
    }
    label = variant + (f" (depth {depth})" if variant.startswith("deep") else "")
    return Case("structure", label, checks, text=structures[variant])


# --------------------------------------------------------------------------------------------------
# Path and name mutations
# --------------------------------------------------------------------------------------------------

def _path_value(kind: str, shared: Shared, where: Path) -> str:
    """Create (when needed) and return the path of ``kind`` for the example folder ``where``."""
    if kind == "missing file":
        return str(where / "absent.parquet")
    if kind == "a folder":
        (where / "folder.parquet").mkdir(exist_ok=True)
        return str(where / "folder.parquet")
    if kind == "a folder without extension":
        return str(where)
    if kind == "symlink loop":
        loop = where / "loop.parquet"
        if not loop.is_symlink():
            os.symlink(loop, loop)
        return str(loop)
    if kind == "symlink to the data":
        link = where / "link.parquet"
        if not link.is_symlink():
            os.symlink(shared.current_path, link)
        return str(link)
    if kind == "relative path with ..":
        return os.path.relpath(shared.current_path, where)
    if kind == "CSV named .parquet":
        (where / "csv.parquet").write_bytes((shared.root / "data" / "cur.csv").read_bytes())
        return str(where / "csv.parquet")
    if kind == "parquet named .csv":
        (where / "parquet.csv").write_bytes(shared.current_path.read_bytes())
        return str(where / "parquet.csv")
    if kind == "file URL":
        return shared.current_path.as_uri()
    if kind == "300-character file name":
        return str(where / ("x" * 300 + ".parquet"))
    fixed = {"http URL": "http://127.0.0.1:9/x.parquet", "postgresql URL": "postgresql://x/y",
             "memory URL": "memory://absent.parquet", "unknown protocol": "nope://x/y.parquet",
             "empty": "", "home": "~", "/dev/null": "/dev/null", "/etc/passwd": "/etc/passwd",
             "NUL in path": "a\x00b.parquet", "newline in path": "a\nb.parquet", "root": "/",
             "URL with ..": "file:///../../etc/passwd.csv", "glob": str(shared.root / "data" / "*.parquet")}
    return fixed[kind]


PATH_KINDS = ["missing file", "a folder", "a folder without extension", "symlink loop", "symlink to the data",
              "relative path with ..", "CSV named .parquet", "parquet named .csv", "file URL",
              "300-character file name", "http URL", "postgresql URL", "memory URL", "unknown protocol", "empty",
              "home", "/dev/null", "/etc/passwd", "NUL in path", "newline in path", "root", "URL with ..", "glob"]
PATH_KEYS: list[Key] = [("data", "reference"), ("data", "current"), ("data", "reference_profile"),
                        ("model", "artifact"), ("versions",)]
COLUMN_KEYS: list[Key] = [("data", "target"), ("data", "score"), ("data", "time"), ("data", "features", 1),
                          ("data", "protected", 0), ("data", "ids", 0), ("data", "segments"), ("data", "exposure"),
                          ("data", "lgd")]


@st.composite
def path_or_name_case(draw: st.DrawFn) -> Case:
    """A path value (missing, a folder, a symlink loop, URLs...) or a name (model, version, column)."""
    family = draw(st.sampled_from(["path", "name", "column name", "path"]))
    checks = draw(st.sampled_from(CHECKS_WITH_BIAS))
    if family == "path":
        key = draw(st.sampled_from(PATH_KEYS))
        kind = draw(st.sampled_from(PATH_KINDS))

        def edit(document: dict[str, Any], where: Path, shared: Shared, key: Key = key, kind: str = kind) -> None:
            value = _path_value(kind, shared, where)
            if key == ("versions",):
                document["versions"] = [{"version": "1", "data": {"current": value}}]
            else:
                _parent(document, key)[key[-1]] = value
            if key == ("model", "artifact"):
                document["model"]["artifact_sha256"] = "0" * 64
        label = f"{'versions[0].data.current' if key == ('versions',) else show(key)} <- {kind}"
        return Case("path", label, "drift" if key == ("data", "reference_profile") and checks != CHEAP_CHECK
                    else checks, edit=edit)
    if family == "name":
        key = draw(st.sampled_from([("model", "name"), ("model", "version"), ("versions",)]))
        name = draw(st.sampled_from(NAMES) | st.text(max_size=8))
        if key == ("versions",):
            second = draw(st.sampled_from(["2", name, "1"]))
            value: Any = [{"version": name}, {"version": second}]
            return Case("name", f"versions <- {describe(value)}", checks, edit=put(key, value))
        return Case("name", f"{show(key)} <- {describe(name)}", checks, edit=put(key, name))
    key = draw(st.sampled_from(COLUMN_KEYS))
    name = draw(st.sampled_from(NAMES + ["customer_id", "pd", "default", "month", "sex", "income"]) |
                st.text(max_size=8))
    value = [name] if key[-1] == "segments" else name
    return Case("column name", f"{show(key)} <- {describe(name)}", checks, edit=put(key, value))


# --------------------------------------------------------------------------------------------------
# Data mutations
# --------------------------------------------------------------------------------------------------

Frames = tuple[pd.DataFrame, pd.DataFrame]


def _set(frame: pd.DataFrame, column: str, row: int, value: Any) -> pd.DataFrame:
    """``frame`` with one cell changed, the column widened first (pandas no longer upcasts in place)."""
    frame = frame.copy()
    kind = frame[column].dtype.kind
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        frame[column] = frame[column].astype(object)
    elif isinstance(value, float) and kind in "iub":
        frame[column] = frame[column].astype(float)
    frame.loc[frame.index[row % len(frame)], column] = value
    return frame


@dataclass(frozen=True)
class DataMutation:
    """A change of the base samples: ``change(reference, current) -> (reference, current)`` or a writer
    of raw files, plus the spec keys it needs (a new feature) and the check that reads it."""

    label: str
    check: str
    change: Callable[[pd.DataFrame, pd.DataFrame], Frames] | None = None
    raw: Callable[[Shared, Path], dict[str, Any]] | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    formats: tuple[str, ...] = ("parquet", "csv")


def _on(side: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[pd.DataFrame, pd.DataFrame], Frames]:
    def both(reference: pd.DataFrame, current: pd.DataFrame) -> Frames:
        return (change(reference) if side in ("reference", "both") else reference,
                change(current) if side in ("current", "both") else current)
    return both


def _distinct_strings(n: int) -> Callable[[pd.DataFrame, pd.DataFrame], Frames]:
    """A current sample of ``n`` rows (resampled, the sentinel row kept once) with a feature of ``n``
    distinct strings; the reference gets the feature too."""

    def change(reference: pd.DataFrame, current: pd.DataFrame) -> Frames:
        rest = current.iloc[1:].sample(n - 1, replace=True, random_state=0)
        big = pd.concat([current.iloc[:1], rest], ignore_index=True)
        big["note"] = [f"n{i:06d}" for i in range(n)]
        return reference.assign(note=[f"r{i:06d}" for i in range(len(reference))]), big

    return change


def _raw_file(content: bytes, name: str, side: str) -> Callable[[Shared, Path], dict[str, Any]]:
    def write(shared: Shared, where: Path) -> dict[str, Any]:
        (where / name).write_bytes(content)
        return {side: str(where / name)}
    return write


def _csv_variant(transform: Callable[[str], bytes], side: str) -> Callable[[Shared, Path], dict[str, Any]]:
    def write(shared: Shared, where: Path) -> dict[str, Any]:
        source = (shared.root / "data" / ("cur.csv" if side == "current" else "ref.csv")).read_text()
        (where / f"{side}.csv").write_bytes(transform(source))
        return {side: str(where / f"{side}.csv")}
    return write


def _arrow_column(kind: str) -> Callable[[Shared, Path], dict[str, Any]]:
    """A parquet feature column of a type pandas reads as objects: lists, structs, dates, decimals."""

    def write(shared: Shared, where: Path) -> dict[str, Any]:
        import decimal

        import pyarrow as pa
        import pyarrow.parquet as pq

        paths = {}
        for side, frame in (("reference", shared.reference), ("current", shared.current)):
            n = len(frame)
            values: dict[str, Callable[[], Any]] = {
                "list": lambda: pa.array([[i % 3, 1] for i in range(n)]),
                "struct": lambda: pa.array([{"a": i % 3, "b": "x"} for i in range(n)]),
                "timestamp": lambda: pa.array(pd.date_range("2024-01-01", periods=n, freq="D")),
                "decimal": lambda: pa.array([decimal.Decimal(i % 7 * 25) / 100 for i in range(n)],
                                            type=pa.decimal128(10, 4)),
                "duration": lambda: pa.array(pd.to_timedelta(np.arange(n), unit="s")),
                "dictionary": lambda: pa.array((["a", "b", "c"] * n)[:n]).dictionary_encode(),
                "binary": lambda: pa.array([bytes([i % 256]) for i in range(n)], type=pa.binary()),
                "null": lambda: pa.nulls(n),
            }
            table = pa.Table.from_pandas(frame, preserve_index=False).append_column("extra", values[kind]())
            pq.write_table(table, where / f"{side}.parquet")
            paths[side] = str(where / f"{side}.parquet")
        return {**paths, "features": FEATURES + ["extra"]}

    return write


SIDES = st.sampled_from(["current", "reference", "both"])
ROW = st.integers(0, ROWS - 1)
ARROW_KINDS = ["list", "struct", "timestamp", "decimal", "duration", "dictionary", "binary", "null"]
EDGE_NUMBERS = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, 2**62]
SCORE_SHIFTS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "+ 1.5": lambda s: s + 1.5, "- 0.5": lambda s: s - 0.5, "* 100": lambda s: s * 100,
    "- 1e-12 (just below 0)": lambda s: s.where(s.index != 0, -1e-12)}
Builder = Callable[[st.DrawFn], DataMutation]
"""Draws the parameters one mutation uses (and no others, so that no two draws give the same input)."""


def _cell(column: str, values: list[Any], check: str, formats: tuple[str, ...] = ("parquet", "csv")) -> Builder:
    """One cell of ``column`` set to one of ``values``."""
    def build(draw: st.DrawFn) -> DataMutation:
        side, row, value = draw(SIDES), draw(ROW), draw(st.sampled_from(values))
        return DataMutation(f"{column}[{row}] <- {value!r} ({side})", check,
                            _on(side, lambda f: _set(f, column, row, value)), formats=formats)
    return build


def _whole(label: str, check: str, change: Callable[[pd.DataFrame], pd.DataFrame],
           formats: tuple[str, ...] = ("parquet", "csv")) -> Builder:
    """A change of the reference, the current sample or both."""
    def build(draw: st.DrawFn) -> DataMutation:
        side = draw(SIDES)
        return DataMutation(f"{label} ({side})", check, _on(side, change), formats=formats)
    return build


def _counted(label: str, check: str, change: Callable[[Any], Callable[[pd.DataFrame], pd.DataFrame]],
             numbers: st.SearchStrategy[Any]) -> Builder:
    """A change of size ``n`` drawn from ``numbers`` (``label`` holds ``{n}``)."""
    def build(draw: st.DrawFn) -> DataMutation:
        side, n = draw(SIDES), draw(numbers)
        return DataMutation(f"{label.format(n=n)} ({side})", check, _on(side, change(n)))
    return build


def _file(label: str, writer: Callable[[Shared, Path], dict[str, Any]]) -> Builder:
    return lambda draw: DataMutation(label, "drift", raw=writer)


def _column_named_empty(draw: st.DrawFn) -> DataMutation:
    side = draw(SIDES)
    return DataMutation(f"feature column named '' ({side})", "drift", _on(side, lambda f: f.rename(columns={"tenure": ""})),
                        spec={"features": ["income", "", "region"]})


def _arrow_feature(draw: st.DrawFn) -> DataMutation:
    kind = draw(st.sampled_from(ARROW_KINDS))
    return DataMutation(f"parquet {kind} feature column", "drift", raw=_arrow_column(kind))


def _empty_parquet(draw: st.DrawFn) -> DataMutation:
    side = draw(st.sampled_from(["current", "reference"]))
    return DataMutation(f"empty parquet file ({side})", "drift", raw=_raw_file(b"", "empty.parquet", side))


def _truncated_parquet(shared: Shared, where: Path) -> dict[str, Any]:
    (where / "cut.parquet").write_bytes(shared.current_path.read_bytes()[:500])
    return {"current": str(where / "cut.parquet")}


HUNDRED_THOUSAND_STRINGS = DataMutation("100,000 distinct strings in a feature", "drift", _distinct_strings(100_000),
                                        spec={"features": FEATURES + ["note"]}, formats=("parquet",))
ONE_GROUP = DataMutation("protected one group (both)", "fairness", _on("both", lambda f: f.assign(sex="female")))

DATA_MUTATIONS: list[Builder] = [
    _cell("pd", EDGE_NUMBERS, "backtesting"),
    _cell("income", EDGE_NUMBERS, "drift"),
    _cell("tenure", EDGE_NUMBERS, "drift"),
    _cell("default", [2, -1, 0.5, 10**6, math.inf, math.nan], "backtesting"),
    _cell("default", ["yes", ""], "backtesting", formats=("csv",)),
    _cell("sex", [None, "", "other"], "fairness"),
    _cell("month", [None, "", "2099-13"], "drift"),
    _cell("income", ["n/a", "1,5", "x"], "drift", formats=("csv",)),
    _whole("income all NaN", "drift", lambda f: f.assign(income=np.nan)),
    _whole("tenure all NaN", "drift", lambda f: f.assign(tenure=np.nan)),
    _counted("constant score {n}", "backtesting", lambda n: lambda f: f.assign(pd=n),
             st.sampled_from([0.0, 1.0, 0.5]) | st.floats(0, 1)),
    _counted("score {n}", "backtesting", lambda n: lambda f: f.assign(pd=SCORE_SHIFTS[n](f["pd"])),
             st.sampled_from(sorted(SCORE_SHIFTS))),
    _whole("target all 0", "backtesting", lambda f: f.assign(default=0)),
    _whole("target all 1", "backtesting", lambda f: f.assign(default=1)),
    _whole("target boolean", "backtesting", lambda f: f.assign(default=f["default"] == 1)),
    _whole("protected all missing", "fairness", lambda f: f.assign(sex=None)),
    _whole("protected one group", "fairness", lambda f: f.assign(sex="female")),
    _counted("protected: {n} rows in a second group", "fairness",
             lambda n: lambda f: f.assign(sex=["male"] * n + ["female"] * (len(f) - n)), st.integers(1, 40)),
    _whole(f"protected numeric with {ROWS} values", "fairness", lambda f: f.assign(sex=np.arange(len(f)) * 1.5)),
    _counted("{n} categories in region", "drift",
             lambda n: lambda f: f.assign(region=[f"g{i % n}" for i in range(len(f))]),
             st.sampled_from([2, 49, 50, 51, ROWS]) | st.integers(1, ROWS)),
    _whole("odd category values in region", "drift", lambda f: f.assign(
        region=np.array(["", "nan", "None", "<b>x</b>", "\u202e", "a\nb"])[np.arange(len(f)) % 6])),
    _whole("ids missing and duplicated", "drift",
           lambda f: f.assign(customer_id=[None, SENTINEL_ID] * (len(f) // 2))),
    _counted("ids: {n} missing", "drift",
             lambda n: lambda f: f.assign(customer_id=[None] * n + list(f["customer_id"][n:])), st.integers(1, ROWS)),
    _counted("{n} rows", "backtesting", lambda n: lambda f: f.iloc[:n], st.integers(1, 12)),
    _counted("rows repeated {n} times", "drift", lambda n: lambda f: pd.concat([f] * n, ignore_index=True),
             st.integers(2, 4)),
    _whole("score as text", "backtesting", lambda f: f.assign(pd=f["pd"].astype(str))),
    _whole("income as text", "drift", lambda f: f.assign(income=f["income"].astype(str))),
    _whole("tenure nullable integer with NA", "drift",
           lambda f: f.assign(tenure=pd.array([None] + list(f["tenure"][1:]), dtype="Int64")), formats=("parquet",)),
    lambda draw: HUNDRED_THOUSAND_STRINGS,
    _column_named_empty,
    _arrow_feature,
    _empty_parquet,
    _file("empty CSV file", _raw_file(b"", "empty.csv", "current")),
    _file("header-only CSV", _csv_variant(lambda t: t.split("\n")[0].encode() + b"\n", "current")),
    _file("duplicated column names in CSV", _csv_variant(lambda t: t.replace("region", "income", 1).encode(), "current")),
    _file("non-UTF-8 CSV", _csv_variant(lambda t: t.replace("north", "nörth").encode("latin-1"), "current")),
    _file("CSV with a UTF-8 BOM", _csv_variant(lambda t: b"\xef\xbb\xbf" + t.encode(), "current")),
    _file("CSV separated by ;", _csv_variant(lambda t: t.replace(",", ";").encode(), "current")),
    _file("CSV with a ragged row", _csv_variant(lambda t: (t + "1,2\n").encode(), "current")),
    _file("CSV with a NUL byte", _csv_variant(lambda t: t.replace("north", "no\x00rth", 1).encode(), "current")),
    _file("binary garbage as CSV", _raw_file(bytes(range(256)) * 4, "garbage.csv", "current")),
    _file("truncated parquet", _truncated_parquet),
]


@st.composite
def data_case(draw: st.DrawFn) -> Case:
    """A mutation of the samples, written as parquet or CSV, run with the one check that reads it (or
    ``explainability``, which loads and checks the data and stops before any notebook)."""
    mutation = draw(st.sampled_from(DATA_MUTATIONS))(draw)
    fmt = draw(st.sampled_from(mutation.formats))
    return mutation_case(mutation, fmt, draw(st.sampled_from([mutation.check, mutation.check, CHEAP_CHECK])))


def mutation_case(mutation: DataMutation, fmt: str, check: str) -> Case:
    """The case of a data mutation, its samples written as ``fmt`` (parquet or csv)."""

    def write(shared: Shared, where: Path) -> dict[str, Any]:
        if mutation.raw is not None:
            return {**mutation.raw(shared, where), **mutation.spec}
        assert mutation.change is not None
        reference, current = mutation.change(shared.reference, shared.current)
        paths = {}
        for side, frame in (("reference", reference), ("current", current)):
            path = where / f"{side}.{fmt}"
            if fmt == "csv":
                frame.to_csv(path, index=False)
            else:
                frame.to_parquet(path)
            paths[side] = str(path)
        return {**paths, **mutation.spec}

    label = mutation.label + ("" if mutation.raw is not None else f" as {fmt}")
    return Case("data", label, check, data=write)
