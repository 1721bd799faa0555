"""The kernel every check runs in: this environment's Python, whatever kernelspecs are installed.

papermill looks kernels up by name; a ``python3`` kernelspec installed elsewhere on the machine
(``~/.local/share/jupyter/kernels``) would silently run the checks in another environment. This
kernel manager ignores kernelspecs altogether and starts ``sys.executable -m ipykernel_launcher``,
so nothing is registered globally and the checks see exactly the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

KERNEL_NAME = "python3"
"""The name papermill is given; the spec behind it is always :data:`ENVIRONMENT_KERNEL`."""

ENVIRONMENT_KERNEL = KernelSpec(
    # the kernel's own log (start-up notices, shutdown chatter) is not evidence: keep it quiet;
    # cell output, warnings and errors are recorded in the executed notebook as always
    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
          "--IPKernelApp.log_level=CRITICAL"],
    display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} ({sys.prefix})",
    language="python",
    metadata={"debugger": False},
)


class EnvironmentKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel is always this environment's Python.

    It talks to the kernel over IPC sockets in a private temporary folder rather than TCP on
    localhost: no port is opened, and no other user of the machine can connect to the kernel.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._socket_dir = tempfile.mkdtemp(prefix="validation-kernel-")
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("ip", os.path.join(self._socket_dir, "kernel"))
        super().__init__(**kwargs)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources  # the async manager's public name for it

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        """Start the kernel with its process's standard error discarded: what a cell prints is
        recorded in the notebook (it travels over the kernel's sockets), while the process's own
        stream carries only the kernel's logging, such as ipykernel 7.4's shutdown race
        (``ZMQError: Socket operation on non-socket``, fixed upstream in ipykernel PR 1518), which
        would otherwise print a traceback on the terminal of a run that succeeded."""
        kw.setdefault("stderr", subprocess.DEVNULL)
        await super()._async_launch_kernel(kernel_cmd, **kw)

    @property
    def kernel_spec(self) -> KernelSpec:
        return ENVIRONMENT_KERNEL
