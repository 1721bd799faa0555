"""Reporting: what people read.

- :mod:`~validation.reporting.pack`: a pack's folder from its executed tasks;
- :mod:`~validation.reporting.staging`: staging folders, moved into place when complete;
- :mod:`~validation.reporting.lineage`: input hashes, package versions, commit, user and host;
- :mod:`~validation.reporting.card`: the model card;
- :mod:`~validation.reporting.render`: HTML (nbconvert for notebooks, Jinja for the index);
- :mod:`~validation.reporting.display`: tables and figures inside notebooks;
- :mod:`~validation.reporting.plots`: the charts;
- :mod:`~validation.reporting.history`: runs over time and finding-by-finding comparisons;
- :mod:`~validation.reporting.junit`: JUnit XML for CI systems.

May import: inputs, judging, governance, errors, and checks (their headlines, card rows and output).
"""
