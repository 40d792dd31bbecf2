"""Landlock (Linux 5.13 and later): a process gives up, for good, its access to the filesystem
outside a few folders, and every process it execs inherits that. Root or not.

The grader starts each worker (or fork server) as ``python -I landlock.py SPEC -- PROGRAM...``:
this script restricts itself as SPEC says, then execs PROGRAM. It needs ctypes for the system
calls, which is why it is a separate process image that exec replaces: the worker never loads
ctypes (a loaded ``_ctypes`` lets Python code read and write raw memory without an audit
event). SPEC is JSON: ``read`` folders (read files, list folders), ``exec`` paths (run and
map: the interpreter and the dynamic loader's libraries), ``files`` (read only, like the
devices) and ``write`` folders (everything but devices, sockets, FIFOs and links). Paths that
do not exist are skipped. TCP bind and connect are refused too where the ABI knows them (4+).

It imports nothing of gostack: it runs by path, before gostack may be importable.
"""

from __future__ import annotations

import json
import os
import sys

# System call numbers: the same on every Linux architecture since 5.x (new calls share them).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
_RULE_PATH_BENEATH = 1
_VERSION = 1  # landlock_create_ruleset flag: return the ABI version

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3 and 5
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # all a file can take
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
_WRITE = (READ_FILE | READ_DIR | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG
          | REFER | TRUNCATE)


def _libc():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return ctypes, libc


def abi() -> int:
    """The kernel's Landlock ABI version, 0 when it has none (too old, disabled, or refused by
    a seccomp filter as in some containers). For the grader: it loads ctypes, run it there."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        _, libc = _libc()
        version = libc.syscall(_CREATE_RULESET, None, 0, _VERSION)
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def restrict(spec: dict) -> int:
    """Restrict this process (and what it execs) to ``spec``. Returns the ABI used; raises
    OSError when the kernel refuses."""
    ctypes, libc = _libc()
    version = libc.syscall(_CREATE_RULESET, None, 0, _VERSION)
    if version < 1:
        raise OSError(ctypes.get_errno(), "Landlock is not available")
    handled = (1 << 13) - 1
    handled |= (REFER if version >= 2 else 0) | (TRUNCATE if version >= 3 else 0)
    handled |= IOCTL_DEV if version >= 5 else 0
    net = _NET_BIND_TCP | _NET_CONNECT_TCP if version >= 4 else 0
    attr = (ctypes.c_uint64 * 2)(handled, net)
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), 16 if net else 8, 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    try:
        for key, rights in (("read", READ_FILE | READ_DIR), ("exec", EXECUTE | READ_FILE),
                            ("files", READ_FILE), ("write", _WRITE)):
            for path in spec.get(key, ()):
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:  # not there: nothing to allow
                    continue
                try:
                    allowed = rights & handled
                    if not os.path.isdir(f"/proc/self/fd/{fd}"):
                        allowed &= _FILE_RIGHTS
                    rule = PathBeneath(allowed, fd)
                    if libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH,
                                    ctypes.byref(rule), 0) < 0:
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
                finally:
                    os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        if libc.syscall(_RESTRICT_SELF, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return version


def main(argv: list[str]) -> None:
    spec, sep, *program = argv
    if sep != "--" or not program:
        raise SystemExit("usage: landlock.py SPEC -- PROGRAM [ARGS...]")
    try:
        restrict(json.loads(spec))
    except OSError as e:  # fail closed: the grader asked for it, so it must hold
        os.write(2, f"gostack: Landlock restriction failed: {e}\n".encode())
        os._exit(70)
    os.execv(program[0], program)


if __name__ == "__main__":
    main(sys.argv[1:])
