"""Inputs: what the user gives, read and checked where it enters.

- :mod:`~validation.inputs.spec`: the YAML spec, validated and resolved per model version;
- :mod:`~validation.inputs.samples`: the reference and current samples, loaded and checked;
- :mod:`~validation.inputs.artifacts`: model files, hashed and loaded safely;
- :mod:`~validation.inputs.loaders`: each model format read by its own library's loader;
- :mod:`~validation.inputs.model_frames`: rows prepared for a model (column order, categories);
- :mod:`~validation.inputs.sql`: SQL sources snapshotted to parquet at planning;
- :mod:`~validation.inputs.storage`: local paths and fsspec URLs;
- :mod:`~validation.inputs.profile`: reference profiles (drift bins and counts built once);
- :mod:`~validation.inputs.starter`: a starter spec inferred from a data file (``validation init``).

May import: :mod:`validation.errors`, :mod:`validation.metrics` (column kinds, bins), each other,
:mod:`validation.judging` (which metrics take thresholds) and, when a spec is loaded,
:mod:`validation.checks` (each check validates its own parameters). Never imports execution,
reporting or governance.
"""
