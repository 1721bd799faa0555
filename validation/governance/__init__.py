"""Governance: evidence that cannot be changed unnoticed, and the record of runs and reviews.

- :mod:`~validation.governance.integrity`: manifests, hashes and signatures of packs;
- :mod:`~validation.governance.registry`: the SQLite registry of runs, findings and reviews;
- :mod:`~validation.governance.review`: a validator's conclusion, bound to the pack's content;
- :mod:`~validation.governance.regulatory`: what each check and metric serves in regulation.

May import: judging, errors, inputs (hashing files), checks (each check's regulatory basis) and, to
show a new review, reporting (the pack's index page).
"""
