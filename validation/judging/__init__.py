"""Judging: the policy's thresholds and the judgement of each finding into a status.

- :mod:`~validation.judging.policy`: default thresholds per metric with their sources, and ``judge``;
- :mod:`~validation.judging.findings`: raw findings and their judged form in ``results.json``.

May import: :mod:`validation.errors`; when a policy is built, the check registry, for the rules
third-party checks declare for their own metrics. Every threshold number lives here.
"""
