"""The engine's processes end with sleuth, however sleuth ends (Ctrl-C, SIGTERM, kill -9).

vLLM starts its engine core (and, with several devices, its workers) as child processes. When
sleuth is killed they would be reparented to init and keep the model, the cores and the memory.
Linux's PR_SET_PDEATHSIG asks the kernel to send each child SIGKILL when its parent dies; it is set
in every child vLLM starts: in forked ones by an at-fork hook, in spawned ones by sleuth's vLLM
plugin, which vLLM loads first thing in each process it starts. Elsewhere than Linux, nothing is done.

Each child also leaves the terminal's process group. A terminal sends Ctrl-C to the whole
foreground group: the engine core would shut itself down at once, and sleuth's request in flight
would end in vLLM's EngineDeadError (with its traceback) before sleuth's own Ctrl-C handling could
say "interrupted". Out of the group, the engine keeps serving until sleuth stops, and dies with it.
"""

import ctypes
import multiprocessing
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
_tied = False


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when `parent_pid` (its parent) ends; die now if it already has."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if os.getppid() != parent_pid:  # the parent ended before the request was made
        os.kill(os.getpid(), signal.SIGKILL)
    try:
        os.setpgid(0, 0)  # Ctrl-C on the terminal is for sleuth; the engine ends when sleuth does
    except OSError:
        pass


def tie_children() -> None:
    """Tie this process to its parent if multiprocessing started it, and every child it forks to itself."""
    global _tied
    if _tied:
        return
    _tied = True
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with_parent(parent.pid)
    forking = {}
    os.register_at_fork(before=lambda: forking.__setitem__("pid", os.getpid()),
                        after_in_child=lambda: die_with_parent(forking["pid"]))
