"""Clean-ups that must run when a grading process ends, pool workers included.

``atexit`` is not enough: multiprocessing's pool workers (and Dask's) leave through
``os._exit``, past it, and a function registered with it stays referenced (with everything it
holds) until the process ends. multiprocessing's finalizers run in both cases (the module
registers them with ``atexit`` in ordinary processes and calls them as a worker ends) and can
be cancelled once the work is done.
"""

from __future__ import annotations

from multiprocessing import util
from typing import Any, Callable

# Higher runs first: kernels before the scratch folders they use, the warm-kernel server last.
SPARE_KERNEL, KERNEL, FOLDER, ZYGOTE = 100, 50, 10, 1


def at_exit(fn: Callable[..., Any], *args: Any, order: int) -> Any:
    """Run ``fn(*args)`` when this process ends; ``.cancel()`` the returned handle when it is
    no longer needed (it then holds nothing)."""
    return util.Finalize(None, fn, args, exitpriority=order)
