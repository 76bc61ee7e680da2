"""One line on stderr when numba starts compiling one of underact's kernels: the first run on a machine pauses.

The environments' fused steps, the compiled population rollouts and the renderer are numba kernels cached on disk
(`cache=True`, in `__pycache__`): the first use after an install compiles them, 6–17 s in which nothing else
would show. numba announces a real compilation (not a cache load) with its "numba:compile" event; the listener
registered here prints, once per process, which kernel is compiling, through tqdm so a progress bar stays intact.
"""

from __future__ import annotations

import sys

from numba.core import event
from tqdm import tqdm

#: The packages whose kernels are announced (numba's own helpers and other libraries' kernels are not).
OURS = ("underact.",)


class _FirstCompile(event.Listener):
    def __init__(self) -> None:
        self.announced = False

    def on_start(self, e: event.Event) -> None:
        if self.announced:
            return
        func = getattr(e.data.get("dispatcher"), "py_func", None)
        module = getattr(func, "__module__", "") or ""
        if module.startswith(OURS):
            self.announced = True
            name = f"{module}.{func.__name__}"
            tqdm.write(f"underact: compiling {name} and the kernels it calls (first run only: 6–17 s, "
                       "then cached)", file=sys.stderr)

    def on_end(self, e: event.Event) -> None:
        pass


LISTENER = _FirstCompile()
event.register("numba:compile", LISTENER)
