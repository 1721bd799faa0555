"""JSON Schemas of the project's two documents, generated from the models that read and write them:
the spec (:class:`~validation.inputs.spec.SpecFile`, with each registered check's parameters) and
``results.json`` (:class:`~validation.judging.results.Results`). ``validation schema spec|results``
prints them; ``docs/schemas/`` keeps them in the repository (a test says they are current).
"""

from __future__ import annotations

from typing import Any

KINDS = ("spec", "results")


def spec_schema() -> dict[str, Any]:
    """The spec's schema; ``checks`` lists every registered check with its parameters."""
    from validation.checks import REGISTRY
    from validation.inputs.spec import SpecFile

    schema = SpecFile.model_json_schema()
    definitions = schema.setdefault("$defs", {})
    properties: dict[str, Any] = {}
    for check in REGISTRY:
        params = check.params.model_json_schema()
        definitions.update(params.pop("$defs", {}))
        params["description"] = check.description
        properties[check.name] = {"anyOf": [params, {"type": "null"}]}
    names = {"enum": list(properties)}
    schema["properties"]["checks"] = {
        "title": "Checks", "description": "the checks to run: a list of names, or a mapping name -> parameters",
        "anyOf": [{"type": "array", "items": names, "uniqueItems": True},
                  {"type": "object", "properties": properties, "additionalProperties": False}],
        "default": schema["properties"]["checks"].get("default"),
    }
    schema["title"] = "Validation spec"
    return schema


def results_schema() -> dict[str, Any]:
    from validation.judging.results import Results

    schema = Results.model_json_schema()
    schema["title"] = "results.json"
    return schema


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``kind`` (``spec`` or ``results``)."""
    if kind == "spec":
        return spec_schema()
    if kind == "results":
        return results_schema()
    raise ValueError(f"unknown schema {kind!r}; one of: {', '.join(KINDS)}")
