"""JUnit XML for CI servers and schedulers: one test case per finding.

A red finding is a ``<failure>``; a check that could not run is one test case with an ``<error>``;
``not_applicable`` checks are ``<skipped>``. Test suites are packs (``model.version``); a test case's
class name is ``model.version.check`` and its name ``metric[subject]``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterable


def junit_document(results: Iterable[tuple[dict[str, Any], str]]) -> ET.ElementTree:
    """Build the XML from ``(results.json document, pack path)`` pairs."""
    root = ET.Element("testsuites", name="validation")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for doc, pack in results:
        model = doc["model"]
        suite = ET.SubElement(root, "testsuite", name=f"{model['name']}.{model['version']}")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for check in doc["checks"]:
            classname = f"{model['name']}.{model['version']}.{check['name']}"
            if check["status"] == "error":
                case = ET.SubElement(suite, "testcase", classname=classname, name="execution")
                error = check.get("error") or {}
                element = ET.SubElement(case, "error", message=str(error.get("reason", "")), type=str(error.get("kind", "")))
                element.text = error.get("traceback") or ""
                counts["tests"] += 1
                counts["errors"] += 1
                continue
            if check["status"] == "not_applicable":
                case = ET.SubElement(suite, "testcase", classname=classname, name="applicability")
                ET.SubElement(case, "skipped", message=str(check.get("reason", "")))
                counts["tests"] += 1
                counts["skipped"] += 1
                continue
            for finding in check["findings"]:
                case = ET.SubElement(suite, "testcase", classname=classname,
                                     name=f"{finding['metric']}[{finding['subject']}]")
                counts["tests"] += 1
                detail = (f"value {finding['value']} (amber {finding['amber']}, red {finding['red']}, "
                          f"{finding['direction']}); pack {pack}")
                if finding["status"] == "red":
                    ET.SubElement(case, "failure", message=f"{finding['metric']} is red", type="red").text = detail
                    counts["failures"] += 1
                else:
                    ET.SubElement(case, "system-out").text = f"{finding['status']}: {detail}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    return ET.ElementTree(root)


def write_junit(path: str | Path, results: Iterable[tuple[dict[str, Any], str]]) -> None:
    """Write the JUnit XML file (parent folders created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = junit_document(results)
    ET.indent(document)
    document.write(target, encoding="utf-8", xml_declaration=True)
