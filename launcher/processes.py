"""How the launcher starts a child it owns: out of the terminal's reach, never outliving it."""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when the launcher dies, even by SIGKILL.

    libc is loaded here, in the parent: loading a library between fork and exec can deadlock.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return die_with_parent


def owned_child_options() -> dict[str, Any]:
    """Keyword arguments for `subprocess.Popen`.

    A process group of its own, so that Ctrl-C at the terminal reaches only the launcher, which
    then stops the children in order (gateway, services, broker) rather than all at once.
    """
    options: dict[str, Any] = {"process_group": 0}
    hook = _die_with_parent_hook()
    if hook is not None:
        options["preexec_fn"] = hook
    return options
