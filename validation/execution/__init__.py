"""Execution: from specs to executed notebooks.

- :mod:`~validation.execution.pipeline`: check every input, plan, execute, assemble and record packs;
- :mod:`~validation.execution.workers`: one papermill run per task, in worker processes or on Dask;
- :mod:`~validation.execution.kernel`: the kernel started from this environment's interpreter;
- :mod:`~validation.execution.interrupts`: stopping cleanly on signals;
- :mod:`~validation.execution.scraps`: the one adapter to scrapbook (glue in notebooks, read back).

May import every other folder; nothing but the CLI imports it.
"""
