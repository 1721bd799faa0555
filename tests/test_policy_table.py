"""One policy: no threshold number outside the policy table (``validation/judging/policy.py``).

A chart, headline or notebook that judges with a number of its own will one day contradict the
findings (a spec that sets its own bounds got a four-fifths line at 0.8 and a headline judged by
the defaults). This scans the library and the templates for the places a threshold would sit — a
comparison, a reference line on a chart, an ``amber=``/``red=`` argument — and fails on any
number there that is one of the policy's bounds or levels.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from validation.judging import policy

ROOT = Path(__file__).resolve().parent.parent
POLICY_FILE = ROOT / "validation" / "judging" / "policy.py"
BOUND_KEYWORDS = {"amber", "red", "yellow", "threshold", "bound", "ratio_bound"}
CHART_LINES = {"axhline", "axvline", "axhspan", "axvspan", "hlines", "vlines"}
COMPARISONS = {"lt", "le", "gt", "ge", "clip", "between", "where", "mask"}
NAMED_LIMITS = {"MIN_DISCLOSED_GROUP", "MIN_CATEGORY_COUNT", "MIN_DISCLOSED_SLICE", "MIN_EXPECTED_COUNT", "KS_EXACT_MAX_N",
                "MAX_GROUPS_UNBANDED", "MAX_INTERSECTIONS", "SHARE_FLOOR", "_DARK_SHARE",
                "P_FLOOR", "TINY_PERCENT", "SCIENTIFIC_BELOW", "CHAMPION_C", "CONNECT_TIMEOUT",
                "MIN_EVENTS_PER_PARAMETER", "TOP_ISSUES"}
"""Named module constants that are no threshold of the policy: privacy minimums (groups, categories
and slices under 5 are pooled), a statistical rule of thumb, sizes, a numerical floor, a chart's
text contrast, the precision at which numbers are printed, the demo champion's L2 penalty and the
seconds a SQL source's server is waited for and the outcomes per coefficient a fitted benchmark needs,
and the issues an alert lists per model version."""


def _policy_numbers() -> set[float]:
    numbers = {float(b) for rule in policy.DEFAULT_POLICY.values() for b in (rule.amber, rule.red) if b is not None}
    numbers |= {*policy.BASEL_ZONE_PROBABILITIES, *policy.PSI_CRITICAL_LEVELS, policy.NOTE_SIGNIFICANCE}
    numbers |= {5.0, 10.0}  # the Basel zone starts at 250 days and 99% (yellow 5, red 10)
    return numbers - {0.0, 1.0}  # duplicate_id_rows is amber from 1 row; 0 and 1 are everywhere else


def _numbers(node: ast.AST) -> list[float]:
    return [float(n.value) for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)]


def _threshold_places(tree: ast.AST) -> list[tuple[int, float]]:
    """(line, number) of every literal in a comparison, a chart's reference line or a bound argument."""
    found: list[tuple[int, float]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            found += [(node.lineno, x) for x in _numbers(node)]
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in CHART_LINES and node.args:
                found += [(node.lineno, x) for x in _numbers(node.args[0])]
            if name in COMPARISONS:
                arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
                found += [(node.lineno, x) for argument in arguments for x in _numbers(argument)]
            for keyword in node.keywords:
                if keyword.arg in BOUND_KEYWORDS:
                    found += [(node.lineno, x) for x in _numbers(keyword.value)]
        elif isinstance(node, ast.Assign) and node.col_offset == 0 and isinstance(node.value, ast.Constant):
            names = [target.id for target in node.targets if isinstance(target, ast.Name)]
            if names and not set(names) & NAMED_LIMITS:  # a module constant that would be a threshold
                found += [(node.lineno, x) for x in _numbers(node.value)]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defaults = [*node.args.defaults, *node.args.kw_defaults]
            arguments = [*node.args.args[len(node.args.args) - len(node.args.defaults):], *node.args.kwonlyargs]
            for argument, default in zip(arguments, defaults):
                if default is not None and argument.arg in BOUND_KEYWORDS:
                    found += [(node.lineno, x) for x in _numbers(default)]
    return found


def _prose() -> list[tuple[str, str]]:
    """The templates' Markdown and the Jinja pages: what a reader takes as the rule."""
    texts = [(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
             for path in (ROOT / "validation" / "reporting" / "templates").rglob("*.j2")]
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        texts.append((str(path.relative_to(ROOT)), "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")))
    return texts


def _sources() -> list[tuple[str, str]]:
    sources = [(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
               for path in (ROOT / "validation").rglob("*.py") if path != POLICY_FILE]
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        sources.append((str(path.relative_to(ROOT)), code))
    return sources


def test_no_threshold_number_outside_the_policy_table() -> None:
    bounds = _policy_numbers()
    offenders = [f"{name}:{line}: {value:g}" for name, source in _sources()
                 for line, value in _threshold_places(ast.parse(source)) if value in bounds]
    assert not offenders, "threshold numbers outside validation/judging/policy.py:\n" + "\n".join(offenders)


def test_no_policy_bound_is_stated_in_a_templates_prose() -> None:
    """A template that says "flags a ratio less than 0.8" contradicts a spec that sets 0.9."""
    import re

    bounds = {b for b in _policy_numbers() if b < 1}
    offenders = [f"{name}: {match.group(0)}" for name, text in _prose()
                 for match in re.finditer(r"(?<![\w.])0\.\d+(?![\w%])", text) if float(match.group(0)) in bounds]
    assert not offenders, "policy bounds stated in prose:\n" + "\n".join(offenders)


def test_the_scan_finds_a_planted_threshold() -> None:
    planted = ("FOUR_FIFTHS = 0.8\n"
               "def chart(ax, rates):\n    ax.axhline(0.8 * rates.max())\n    ax.hlines(0.25, 0, 1)\n"
               "    rates.clip(upper=0.1)\n    return rates < 0.05, rates.lt(0.001)\n")
    assert sorted(value for _, value in _threshold_places(ast.parse(planted))) == [0.001, 0.05, 0.1, 0.25, 0.8, 0.8]


def test_every_p_value_threshold_names_its_own_test_source() -> None:
    """Issue 17, labels: every p-value bound was attributed to the ECB's traffic light, Spiegelhalter
    and Hosmer-Lemeshow included. Each now names the test's own source, and says where the levels
    are the project's choice."""
    sources = {metric: rule.source for metric, rule in policy.DEFAULT_POLICY.items()}
    assert "Hosmer and Lemeshow (2000)" in sources["hosmer_lemeshow_pvalue"]
    assert "Spiegelhalter (1986)" in sources["spiegelhalter_pvalue"]
    assert "BCBS Working Paper 14" in sources["binomial_pvalue"]
    assert "2.5.3.1" in sources["jeffreys_pvalue"]
    for metric in ("hosmer_lemeshow_pvalue", "spiegelhalter_pvalue", "herfindahl_change_pvalue"):
        assert "project default" in sources[metric], metric
    # the binomial test shares the Jeffreys test's null hypothesis: reported, so no grade counts twice
    binomial = policy.DEFAULT_POLICY["binomial_pvalue"]
    assert (binomial.amber, binomial.red) == (None, None) and "counts twice" in binomial.source


def test_every_test_states_its_null_hypothesis_and_every_judged_test_its_materiality() -> None:
    """Issue 17, labels and materiality: a p-value finding says what it tests, in one line; a test
    judged by default is amber or red only beyond a materiality bound with its own source."""
    for metric, rule in policy.DEFAULT_POLICY.items():
        if rule.pvalue or rule.significance is not None:
            assert rule.null_hypothesis and "\n" not in rule.null_hypothesis, metric
        judged = rule.pvalue and (rule.amber is not None or rule.red is not None)
        if judged:
            assert rule.effect and rule.immaterial is not None, metric
            assert "project default" in rule.immaterial_source or "(" in rule.immaterial_source, metric
    assert policy.DEFAULT_POLICY["calibration_pvalue"].immaterial == policy.OBSERVED_EXPECTED_IMMATERIAL
