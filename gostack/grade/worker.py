"""The grading worker: one learner's code, one exercise, one throw-away process.

Started by :mod:`gostack.grade.sandbox` as ``python -I .../gostack/grade/worker.py``; it reads
its job (JSON) on stdin and answers on a pipe whose file descriptor and nonce are in the job.
Its stdout and stderr go to a scratch file that the grader only quotes, never parses.

Order of events, and why:

1. Resource limits on itself (CPU, address space, file size, no core dumps).
2. Imports everything the harness and the learner's code need (gostack, the catalogue, the
   standard modules the learner imports), while it can still read them.
3. Switches gostack's reference implementations off: the code object of each reference
   function is replaced by a tripwire that raises an audit event and then ReferenceUsed.
   Every path to the reference (module attribute, ``gs.Stages()`` default,
   ``gs.REFERENCE``) reaches the same function object, so every path is switched off; the
   original code is dropped. The event is recorded by the audit hook (step 6), which learner
   code cannot reach or remove, and the harness reports it: nothing a learner can touch holds
   the channel or its nonce, so a call cannot be hidden, nor a report forged.
4. Takes a snapshot of gostack's modules and classes (and builtins) to detect monkeypatching.
5. When started as root, becomes an unprivileged user id (one per grading slot) with
   RLIMIT_NPROC = 1: the kernel then refuses any fork, thread or process it would start.
   Imports lead through O_PATH descriptors on the Python installation's folders, opened
   first, so a Python under a private home stays importable and the folders above it closed.
6. Installs an audit hook (``sys.addaudithook``; hooks cannot be removed) that refuses:
   processes (fork, exec, spawn, system, subprocess), signals to other processes, sockets,
   ctypes, changes of limits or directory, new audit hooks, tracing and profiling hooks,
   reading files or listing folders outside the Python installation (gostack's own source
   included) and writing outside the scratch folder, and changes to gostack's functions and
   classes. While learner
   code runs it also refuses every way to reach a stack frame (``sys._getframe``,
   ``tb_frame``, ``gi_frame``...) and the garbage collector's object lists, so learner code
   cannot climb into the simulator that calls it.
7. Runs the learner's definitions (top-level statements share one time budget), checks the
   functions, then calls them on each case with a per-case alarm and reports each result as
   plain JSON. A case that runs out of time fails alone; later cases whose rules (tags) all
   already timed out are skipped, as they cannot change a score.

Nothing the worker reports is trusted for scoring: the grader compares the returned values
with the reference outputs it computed itself, on inputs it drew itself.
"""

from __future__ import annotations

import os
import sys


class ReferenceUsed(RuntimeError):
    """Raised by a tripwire: the learner's code called gostack's reference implementation."""


REFERENCE_EVENT = "gostack.grade.reference"  # the audit event a tripwire raises
QUOTED_BYTES = 4000  # of what the code printed before the first hidden case, for feedback

# Builtins the harness needs where no learner code may run, bound now: learner code can
# rebind any name in the builtins module (no audit event), never these module globals.
_type, _len, _isinstance, _issubclass, _object, _id = (
    type, len, isinstance, issubclass, object, id)
_str, _int, _float, _bytes, _list, _tuple, _dict, _frozenset = (
    str, int, float, bytes, list, tuple, dict, frozenset)
_getattr, _any, _range, _compile, _exec = getattr, any, range, compile, exec
_set, _map = set, map
_ONLY_STR = frozenset({str})
_PermissionError, _ImportError = PermissionError, ImportError
_OSError, _FileNotFoundError, _TypeError, _ValueError = (
    OSError, FileNotFoundError, TypeError, ValueError)
_TRACEBACK = BaseException.__dict__["__traceback__"]  # a C descriptor: no learner code


def _c_json():
    import _json

    return _json.encode_basestring_ascii


_ENCODE_STR, _INT_REPR, _FLOAT_REPR = _c_json(), int.__repr__, float.__repr__
_INF = float("inf")


def _dumps(obj: object, depth: int = 0) -> str:
    """JSON for the worker's messages from C primitives bound at start: learner code can swap
    json's encoder (a module attribute), and then forge any message `send` writes."""
    t = _type(obj)
    if t is _str:
        return _ENCODE_STR(obj)
    if obj is None or obj is True or obj is False:
        return "null" if obj is None else "true" if obj is True else "false"
    if t is _int:
        return _INT_REPR(obj)
    if t is _float:
        if obj != obj:
            return "NaN"
        return "Infinity" if obj == _INF else "-Infinity" if obj == -_INF else _FLOAT_REPR(obj)
    if depth > 100:
        raise _ValueError("nested too deeply")
    if t is _list or t is _tuple:
        return "[" + ", ".join([_dumps(x, depth + 1) for x in obj]) + "]"
    if t is _dict:
        items = []
        for k, v in obj.items():
            if _type(k) is not _str:
                raise _TypeError("a key that is not a str")
            items.append(_ENCODE_STR(k) + ": " + _dumps(v, depth + 1))
        return "{" + ", ".join(items) + "}"
    raise _TypeError("not plain data")


class FrameRefused(PermissionError, ValueError):
    """What ``sys._getframe`` raises while grading. Also a ValueError, which is what it raises
    past the top of the stack: the standard library's callers that only want a module name
    (``collections.namedtuple``, the functional APIs of ``enum`` and ``typing``) catch that
    and do without, so honest code that uses them runs as in Jupyter, and no frame leaks."""


class _CaseTimeout(BaseException):
    """The per-case alarm: a BaseException so that `except Exception` does not swallow it."""


# Modules the learner's code may not import during grading (processes, native code, network,
# signals). Their import raises ImportError.
BLOCKED_MODULES = frozenset({
    "subprocess", "_posixsubprocess", "multiprocessing", "_multiprocessing", "concurrent",
    "ctypes", "_ctypes", "cffi", "socket", "_socket", "ssl", "_ssl", "signal", "_signal",
    "pty", "asyncio", "_asyncio", "_xxsubinterpreters", "faulthandler", "pdb", "webbrowser",
    "gc",
    # Native modules that reach files, terminals or raw memory without an audit event.
    "readline", "_posixshmem", "_testcapi", "_testinternalcapi", "_testbuffer",
    "_testimportmultiple", "_testmultiphase", "_ctypes_test", "_xxtestfuzz", "_curses",
    "_curses_panel", "curses", "_dbm", "_gdbm", "dbm", "_sqlite3", "sqlite3", "termios",
    "tty", "_tkinter", "tkinter", "nis", "spwd", "syslog", "ossaudiodev", "xxsubtype",
})
# Standard modules the worker imports for the learner (before it loses the right to read them).
PRELOADABLE = frozenset({
    "math", "cmath", "itertools", "functools", "collections", "dataclasses", "typing",
    "enum", "operator", "bisect", "heapq", "copy", "random", "re", "string", "fractions",
    "decimal", "statistics", "numbers", "array", "struct", "textwrap", "pprint", "abc",
    "contextlib", "types", "warnings", "time", "datetime", "json", "numpy", "sys", "os",
    "inspect", "gostack",
})
_ALWAYS_DENIED = {
    "os.system": "running a shell command",
    "os.exec": "running another program",
    "os.posix_spawn": "starting a process",
    "os.spawn": "starting a process",
    "os.fork": "starting a process",
    "os.forkpty": "starting a process",
    "subprocess.Popen": "starting a process",
    "os.kill": "sending a signal",
    "os.killpg": "sending a signal",
    "signal.pthread_kill": "sending a signal",
    "os.chdir": "changing directory",
    "os.chmod": "changing permissions",
    "os.chown": "changing owners",
    "os.chroot": "changing the root directory",
    "os.symlink": "making a link",
    "os.link": "making a link",
    "resource.setrlimit": "changing the resource limits",
    "resource.prlimit": "changing the resource limits",
    "sys.addaudithook": "adding an audit hook",
    "sys.settrace": "installing a trace function",
    "sys.setprofile": "installing a profile function",
    "socket.__new__": "opening a network socket",
    "ctypes.dlopen": "loading native code",
    "ctypes.dlsym": "loading native code",
    "ctypes.cdata": "reading raw memory",
    "mmap.__new__": "mapping memory",
    "setopencodehook": "replacing the code loader",
    "cpython.PyInterpreterState_New": "starting an interpreter",
    "_thread.start_new_thread": "starting a thread",
    "builtins.breakpoint": "starting a debugger",
}
_FS_EVENTS = ("os.remove", "os.rmdir", "os.mkdir", "os.rename", "os.truncate",
              "os.utime", "os.mkfifo", "os.mknod", "os.listxattr", "os.setxattr",
              "os.removexattr", "shutil.copyfile", "shutil.copymode", "shutil.copystat",
              "shutil.copytree", "shutil.move", "shutil.rmtree", "shutil.make_archive",
              "shutil.unpack_archive")
_GUARDED = {
    "sys._getframe": "inspecting the call stack",
    "sys._current_frames": "inspecting the call stack",
    "gc.get_objects": "walking the garbage collector's objects",
    "gc.get_referrers": "walking the garbage collector's objects",
    "gc.get_referents": "walking the garbage collector's objects",
}
_FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
# os functions for which CPython raises no audit event, so the hook cannot judge them: they
# are taken away (files and FIFOs anywhere the uid may write; memory outside RLIMIT_AS).
_UNAUDITED = ("mkfifo", "mknod", "memfd_create", "posix_fallocate")
_MAX_WRITTEN_FILES = 32  # files opened for writing in the scratch folder, per worker
LOADER_EVENT = "gostack.grade.load"  # how the import wrappers ask the hook for a module
# _imp's module constructors, replaced: the originals live only in the audit hook's closure,
# so these wrappers hold nothing worth stealing; the hook decides what may be loaded.
_LOADER_SOURCE = """
def create_builtin(spec):
    return _load("builtin", spec)


def create_dynamic(spec, file=None):
    return _load("dynamic", spec)


def _load(kind, spec):
    name, origin = spec.name, getattr(spec, "origin", None)
    box = []
    _audit(_EVENT, kind, name, origin, box)
    if not box:
        raise ImportError(f"module {name!r} is not available while grading")
    return box[0]
"""
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_DEVICES = frozenset({"/dev/null", "/dev/urandom", "/dev/random", "/dev/zero"})


def _make_hook(state: dict, scratch: str, read_roots: tuple[str, ...],
               deny_roots: tuple[str, ...], ref_names: frozenset = frozenset(),
               loaders: dict | None = None, loaded: frozenset = frozenset(),
               owned: frozenset = frozenset(), root_paths: tuple = ()):
    """The audit hook. ``state["guard"]`` is True while learner code may be running.

    Learner code runs in this interpreter and can rebind any module attribute (os.path's
    helpers, this module's globals), so the hook uses none at call time: its policy is
    copied into its closure here, and paths are resolved by the kernel (an O_PATH open and
    /proc/self/fd) through C functions captured now. ``root_paths`` pairs a read root with
    the /proc/self/fd path the worker opened on it (see `_import_through_fds`): native code
    is loaded through it, since the sandbox uid may not reach the root by its name.
    """
    import posix

    # Builtins as closure variables: learner code can rebind builtins.type or builtins.int,
    # and the checks below would then lie; these names were bound before any learner code.
    type, isinstance, getattr, any, id = _type, _isinstance, _getattr, _any, _id  # noqa: A001
    str, int, bytes, list = _str, _int, _bytes, _list  # noqa: A001
    PermissionError, ImportError = _PermissionError, _ImportError  # noqa: A001
    OSError, FileNotFoundError = _OSError, _FileNotFoundError  # noqa: A001
    sep = "/"
    p_open, p_close, p_readlink = posix.open, posix.close, posix.readlink
    o_path = os.O_PATH | os.O_CLOEXEC
    fs_encoding = sys.getfilesystemencoding()
    function_type = type(_make_hook)
    module_type = type(sys)
    type_dict = type.__dict__["__dict__"]
    ref_event, guarded, frame_attrs = REFERENCE_EVENT, dict(_GUARDED), _FRAME_ATTRS
    always_denied, blocked, fs_events = dict(_ALWAYS_DENIED), BLOCKED_MODULES, _FS_EVENTS
    write_flags, devices = _WRITE_FLAGS, _DEVICES
    listing, nul = ("os.listdir", "os.scandir"), "\x00"
    root_paths = tuple((str(r), str(v)) for r, v in root_paths)
    resolving = [False]  # our own O_PATH open raises an "open" event too
    written = [0]
    max_written = _MAX_WRITTEN_FILES
    loader_event, loaders = LOADER_EVENT, dict(loaders or {})
    namespace = type(sys.implementation)  # SimpleNamespace, a C type
    builtin_names = frozenset(sys.builtin_module_names)

    frame_refused = FrameRefused

    def deny(what: str) -> None:
        raise PermissionError(f"not allowed while grading: {what}")

    def inside(path: str, roots: tuple[str, ...]) -> bool:
        for r in roots:
            if path == r or path.startswith(r + sep):
                return True
        return False

    def lexical(p: object) -> str:
        """``p`` normalized as text, relative to scratch (the worker's folder). Only to word
        the refusal of a path the kernel would not resolve for us: it never lets one in."""
        if type(p) is bytes:
            p = p.decode(fs_encoding, "surrogateescape")
        if type(p) is not str:
            return ""
        parts: list = []
        for part in (p if p.startswith(sep) else scratch + sep + p).split(sep):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        return sep + sep.join(parts)

    def kernel_path(p: str) -> str:
        fd = p_open(p, o_path)
        try:
            return p_readlink(f"/proc/self/fd/{fd}")
        finally:
            p_close(fd)

    def resolve(p: object, relative_ok: bool) -> str:
        """Where ``p`` really is: symbolic links and .. followed by the kernel; a path that
        does not exist yet resolves through its folder."""
        if type(p) is bytes:
            p = p.decode(fs_encoding, "surrogateescape")
        if type(p) is not str:
            deny("a path that is not a plain str")
        if not p.startswith(sep) and not relative_ok:
            deny("os.open with a relative path")
        if not p or "\x00" in p:
            deny("an empty path or one with a NUL byte")
        resolving[0] = True
        try:
            try:
                return kernel_path(p)
            except FileNotFoundError:
                head, _, tail = p.rpartition(sep)
                if tail in ("", ".", ".."):
                    raise
                folder = kernel_path(head or (sep if p.startswith(sep) else "."))
                return folder.rstrip(sep) + sep + tail
        except OSError:  # no such folder, or not ours to look into: inside no root
            return "\x00" + p
        finally:
            resolving[0] = False

    def gostack_owned(obj: object) -> bool:
        if id(obj) in owned:  # gostack's functions and classes as they were at start: a
            return True       # function's __module__ can be rewritten without an event
        if type(obj) is function_type:
            mod = obj.__module__
        elif isinstance(obj, type):
            mod = type_dict.__get__(obj).get("__module__")
        else:
            return False
        return type(mod) is str and (mod == "gostack" or mod.startswith("gostack."))

    refs = state["refs"]

    def hook(event: str, args: tuple) -> None:
        if event == loader_event:  # an import wants a new built-in or extension module
            kind, name, origin, box = (args + (None,) * 4)[:4]
            real = loaders.get(kind) if type(kind) is str else None
            if (real is None or type(name) is not str or type(box) is not list or box
                    or (origin is not None and type(origin) is not str)):
                return
            parts = name.split(".")
            if any(part in blocked for part in parts):  # PyInit_ takes the last part
                return
            if kind == "builtin" and (name in loaded or name not in builtin_names):
                return  # a second posix would bring back what the worker took away
            if kind == "dynamic":  # native code runs unaudited: only the installation's own
                if type(origin) is not str or not origin.startswith(sep):
                    return
                origin = resolve(origin, relative_ok=False)
                if (not inside(origin, read_roots) or inside(origin, (scratch,))
                        or inside(origin, deny_roots)
                        or not origin.rpartition(sep)[2].startswith(parts[-1] + ".")):
                    return
                for root, via in root_paths:  # the same file, reached through the root's fd
                    if inside(origin, (root,)):
                        through = via + origin[len(root):]
                        if resolve(through, relative_ok=False) == origin:  # fd not swapped
                            origin = through
                            break
            box.append(real(namespace(name=name, origin=origin)))
            return
        if event == ref_event:  # a tripwire fired (or the learner named one: their loss)
            name = args[0] if args and type(args[0]) is str else None
            if name in ref_names and name not in refs:
                refs.append(name)
            return
        if event == "open":
            if resolving[0]:
                return
            path, mode, flags = args
            if type(path) is int:
                return
            full = resolve(path, relative_ok=mode is not None)
            write = (type(mode) is str and any(c in mode for c in "wax+")) or (
                mode is None and type(flags) is int and flags & write_flags)
            if inside(full, (scratch,)):
                if write:
                    written[0] += 1
                    if written[0] > max_written:
                        deny(f"opening more than {max_written} files for writing")
                return
            shown = full.lstrip("\x00")
            if write:
                deny(f"writing {shown} (only the scratch folder is writable)")
            if full in devices:
                return
            if inside(full, deny_roots) or (full.startswith("\x00") and inside(
                    lexical(path), deny_roots)):  # the same words however private its folder
                deny(f"reading {shown} (gostack's source is not available while grading)")
            if not inside(full, read_roots):
                deny(f"reading {shown}")
            return
        if event in listing:  # names in a folder (classmates' submissions...): only ours
            p = args[0] if args else None
            if p is None or type(p) is int:  # the working folder, or a folder opened above
                return
            full = resolve(p, relative_ok=True)
            if inside(full, (scratch,)) or (inside(full, read_roots)
                                            and not inside(full, deny_roots)):
                return
            deny(f"listing {full.lstrip(nul)} (only the scratch folder and the Python "
                 "installation can be listed)")
        if event == "import":
            name = args[0]
            if type(name) is str and (name in blocked or name.split(".")[0] in blocked):
                raise ImportError(f"module {name!r} is not available while grading")
            return
        what = always_denied.get(event)
        if what is not None:
            deny(what)
        if event in ("object.__setattr__", "object.__delattr__"):
            if args[1] == "__class__" and (type(args[0]) is module_type
                                           or gostack_owned(type(args[0]))):
                deny("changing the class of a module or of gostack's objects")
            if gostack_owned(args[0]):
                deny(f"changing {args[1]} of gostack's {getattr(args[0], '__qualname__', '?')}")
            return
        if event in fs_events:
            for p in args[:2] if event in ("os.rename", "shutil.copyfile", "shutil.move",
                                            "shutil.copytree") else args[:1]:
                if type(p) is int:
                    continue
                if not inside(resolve(p, relative_ok=True), (scratch,)):
                    deny(f"{event} outside the scratch folder")
            return
        if state["guard"]:
            what = guarded.get(event)
            if what is not None:
                if event == "sys._getframe":
                    raise frame_refused(f"not allowed while grading: {what}")
                deny(what)
            if event == "object.__getattr__" and args[1] in frame_attrs:
                deny("inspecting the call stack")

    return hook


def _read_roots() -> tuple[str, ...]:
    """The folders of the Python installation on sys.path (standard library, lib-dynload,
    site-packages), as real paths: all that learner code may read besides its scratch."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return tuple(sorted({os.path.realpath(p) for p in sys.path if p and any(
        os.path.realpath(p) == q or os.path.realpath(p).startswith(q + os.sep)
        for q in prefixes)}))


def _import_through_fds(read_roots: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Keep the read roots importable for the sandbox uid, and nothing more.

    A Python under a private home (pyenv or conda in a 0700 ~) cannot be reached by name
    once the worker has dropped root: every import the worker did not do itself (logging,
    unicodedata, a module's lazy import) would fail. So each read root is opened now
    (O_PATH) and sys.path, and the ``__path__`` of every package loaded from a root, lead
    through ``/proc/self/fd/N``: the kernel walks from the folder itself, and skips the
    permission checks of the folders above it, which stay closed to the uid. Lists are
    changed in place (gostack's own are watched for monkeypatching). Returns (root, fd path)
    pairs, longest root first, for the audit hook's native-module loader."""
    via = {}
    for root in read_roots:
        try:
            fd = os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:  # a zip or a folder that is not there
            continue
        via[root] = f"/proc/self/fd/{fd}"
    pairs = tuple(sorted(via.items(), key=lambda rv: -len(rv[0])))

    def through(p: object) -> object:
        if type(p) is not str or not p.startswith(os.sep):
            return p
        real = os.path.realpath(p)
        for root, fd_path in pairs:
            if real == root or real.startswith(root + os.sep):
                return fd_path + real[len(root):]
        return p

    sys.path[:] = [through(p) for p in sys.path]
    for module in list(sys.modules.values()):
        path = getattr(module, "__path__", None)
        if type(path) is list:
            path[:] = [through(p) for p in path]
    return pairs


def _tripwire_code(dotted: str, fn):
    """A code object that reports a call of ``dotted`` and raises, named like the original."""
    message = (f"{dotted} is gostack's reference implementation; it is switched off while "
               "grading: write your own")
    src = (f"def _tripwire(*args, **kwargs):\n"
           f"    __gostack_tripwire__({dotted!r})\n"
           f"    raise __gostack_reference_used__({message!r})\n")
    module = compile(src, f"<{dotted}: switched off while grading>", "exec")
    code = next(c for c in module.co_consts if hasattr(c, "co_code"))
    changes = {"co_name": fn.__name__}
    if hasattr(code, "co_qualname"):
        changes["co_qualname"] = fn.__qualname__
    return code.replace(**changes)


def _owned_ids(modules: list) -> set[int]:
    """ids of gostack's functions and classes (and the functions in its classes): the hook
    refuses changes to them whatever their __module__ later says."""
    ids = set()
    for mod in modules:
        if not mod.__name__.startswith("gostack"):
            continue
        for value in list(vars(mod).values()):
            if (type(value) is type(_owned_ids) or isinstance(value, type)) and str(
                    getattr(value, "__module__", "")).startswith("gostack"):
                ids.add(id(value))
            if isinstance(value, type) and id(value) in ids:
                for member in list(vars(value).values()):
                    member = getattr(member, "__func__", member)
                    if type(member) is type(_owned_ids):
                        ids.add(id(member))
    return ids


def _snapshot(modules: list) -> list[tuple[str, object, tuple]]:
    """(namespace label, container, ((label, key, value), ...)) for every namespace whose
    entries' replacement is a patch: modules, gostack's classes, and gostack's instances at
    module level (an instance as (instance, its __dict__): that dict can be swapped whole with
    no audit event)."""
    snap = []
    for mod in modules:
        d = vars(mod)
        name = mod.__name__
        snap.append((name, d, tuple((f"{name}.{k}", k, v) for k, v in list(d.items()))))
        for key, value in list(d.items()):
            if isinstance(value, type) and getattr(value, "__module__", "").startswith("gostack"):
                snap.append((f"{name}.{key}", value, tuple(
                    (f"{name}.{key}.{ck}", ck, cv) for ck, cv in list(vars(value).items()))))
            elif type(value).__module__.startswith("gostack") and hasattr(value, "__dict__"):
                inner = vars(value)
                snap.append((f"{name}.{key}", (value, inner), tuple(
                    (f"{name}.{key}.{ik}", ik, iv) for ik, iv in list(inner.items()))))
    return snap


def _changed(snap: list, modules: list[tuple[str, object]], sys_modules: dict) -> list[str]:
    """The snapshot's entries that changed. Runs with no alarm set, so no learner code may run
    in it: a namespace holding a key that is not a plain str (whose __eq__ a lookup would
    call) is itself a change, and is not looked into."""
    missing = _object()
    out = []
    for where, container, entries in snap:
        if _type(container) is _tuple:  # an instance, and its __dict__ as it was
            instance, d = container
            if _object.__getattribute__(instance, "__dict__") is not d:
                out.append(where + ": its __dict__ was replaced")
                continue
        elif _type(container) is _dict:
            d = container
        else:  # a class: its namespace, read through the C descriptor
            d = _type.__dict__["__dict__"].__get__(container)
        if _set(_map(_type, d)) - _ONLY_STR:  # C loops: no method of a key is called
            out.append(where + ": a name that is not a plain str")
            continue
        get = d.get
        for label, key, value in entries:
            if get(key, missing) is not value:
                out.append(label)
    if _set(_map(_type, sys_modules)) - _ONLY_STR:  # a lookup below would call its __eq__
        out.append("sys.modules: a name that is not a plain str")
        return out
    for name, mod in modules:
        if sys_modules.get(name) is not mod and name != "__main__":
            out.append(f"sys.modules[{name!r}]")
    return out


def _import_gostack(import_path: str | None) -> None:
    """Import the grader's own gostack, from the folder the grader names (not another copy the
    Python knows, such as an editable install elsewhere), by its files: under Landlock that
    folder cannot be listed (it may hold the submissions), only gostack's own folder is
    readable. The folder also goes last on sys.path: it never shadows the standard library."""
    if not import_path or "gostack" in sys.modules:
        return
    if import_path not in sys.path:
        sys.path.append(import_path)
    package = os.path.join(import_path, "gostack")
    init = os.path.join(package, "__init__.py")
    if not os.path.exists(init):
        return
    import importlib.util

    spec = importlib.util.spec_from_file_location("gostack", init,
                                                  submodule_search_locations=[package])
    module = importlib.util.module_from_spec(spec)
    sys.modules["gostack"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["gostack"]
        raise


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _preimport() -> None:
    """What every job needs, imported once (by a fork server, before any fork)."""
    import ast  # noqa: F401
    import builtins  # noqa: F401
    import difflib  # noqa: F401
    import inspect  # noqa: F401
    import json  # noqa: F401
    import linecache  # noqa: F401
    import resource  # noqa: F401
    import signal  # noqa: F401

    import gostack  # noqa: F401
    import gostack.exercises  # noqa: F401
    import gostack.problems  # noqa: F401
    from gostack.grade import catalog, notebook  # noqa: F401


def zygote(sock_fd: int, import_path: str | None = None) -> None:
    """A fork server for one grading slot: imports once, then forks one worker per request.

    It never runs learner code and never sees the instructor's secret; each child starts the
    normal bootstrap (limits, tripwires, privileges, audit hook) on the job it is handed.
    Requests arrive on a Unix socket with three file descriptors: the job (a pipe), the
    answer pipe and the output file. The zygote answers with the child's pid, then with its
    exit status and CPU time once it has reaped it.
    """
    import json
    import socket

    _import_gostack(import_path)  # as main() does: the grader's gostack, no other
    _preimport()
    sock = socket.socket(fileno=sock_fd)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
        except OSError:
            break
        if not msg or len(fds) != 3:
            break
        req = json.loads(msg)
        pid = os.fork()
        if pid == 0:
            status = 70
            try:
                sock.close()
                os.setsid()
                job_fd, chan_fd, out_fd = fds
                os.dup2(out_fd, 1)
                os.dup2(out_fd, 2)
                os.close(out_fd)
                os.chdir(req["scratch"])
                os.environ.update(HOME=req["scratch"], TMPDIR=req["scratch"])
                main(job_fd, chan_fd)
                status = 0
            finally:
                os._exit(status)
        for fd in fds:
            os.close(fd)
        sock.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        # Reap only when the grader says so: until then the child stays a zombie at worst,
        # so the pid the grader kills cannot have been reused by another process.
        try:
            go_on = sock.recv(1) == b"r"
        except OSError:
            go_on = False
        if not go_on:  # the grader is gone: nobody else will stop this child
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, 9)
                except OSError:
                    pass
            os.waitpid(pid, 0)
            break
        _, status, usage = os.wait4(pid, 0)
        sock.sendall(json.dumps({"status": status,
                                 "cpu": usage.ru_utime + usage.ru_stime}).encode() + b"\n")
    os._exit(0)


def main(job_fd: int = 0, chan_fd: int | None = None) -> None:
    """One job, from bootstrap to the last case (one linear sequence, on purpose)."""
    import json

    job = json.loads(_read_all(job_fd).decode("utf-8"))
    os.close(job_fd)
    _import_gostack(job.get("import_path"))
    fd = int(job["fd"]) if chan_fd is None else chan_fd
    prefix = (job["nonce"] + " ").encode()
    dumps = _dumps
    write = os.write

    def send(obj: dict) -> None:
        data = prefix + dumps(obj).encode() + b"\n"
        while data:
            data = data[write(fd, data):]

    # 1. Limits.
    import resource

    cpu = max(1, int(job["cpu"] + 0.999))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mem = int(job["memory_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20, 16 << 20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    # 2. Imports.
    import ast
    import builtins
    import difflib
    import importlib
    import inspect
    import signal

    import gostack
    import gostack.exercises  # noqa: F401 - the learner's notebook imports it
    import gostack.problems  # noqa: F401
    from gostack.grade import catalog, notebook

    ex = catalog.BY_ID[job["exercise"]]
    # A module in sys.modules is imported again with no audit event: ctypes (memory read and
    # written at will) must never get there through a preload. numpy imports it if it can,
    # and does without it when the import fails.
    for name in ("ctypes", "_ctypes"):
        if sys.modules.get(name) is None:
            sys.modules[name] = None
    for name in job.get("preload", ()):
        if name in PRELOADABLE:
            try:
                importlib.import_module(name)
            except Exception:  # the learner's import will report it
                pass
    setitimer, itimer_real = signal.setitimer, signal.ITIMER_REAL
    import time

    monotonic = time.monotonic
    # The cases' tags, read before any learner code runs (a case dict can reach it).
    tagsets = [_frozenset(c.get("tags") or ()) for c in job["cases"]]
    # Hidden cases run with stdout and stderr on /dev/null, at the fd level: what the code
    # prints there (its arguments, say) must not reach the feedback, which quotes the output.
    hidden_case = [_type(c.get("id")) is _str and c["id"].startswith("h") for c in job["cases"]]
    # Where a filesystem sandbox refuses /dev/null, an anonymous memory file emptied after
    # each hidden case stands in for it; failing both, output stays where it was.
    real_fds, dup2, rewind = (os.dup(1), os.dup(2)), os.dup2, None
    try:
        devnull = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        try:
            devnull = os.memfd_create("hidden-case-output", os.MFD_CLOEXEC)
            ftruncate, lseek = os.ftruncate, os.lseek

            def rewind() -> None:
                ftruncate(devnull, 0)
                lseek(devnull, 0, 0)
        except (OSError, AttributeError):
            devnull = -1
    flushes = [(_type(s).flush, s) for s in (sys.stdout, sys.stderr) if s is not None]

    def to_fds(out: int, err: int) -> None:
        """Flush the streams (what was printed so far goes where it was meant to), then point
        fds 1 and 2 at ``out`` and ``err``. Only C code: the streams are the original ones."""
        if devnull < 0:
            return
        for flush, stream in flushes:
            try:
                flush(stream)
            except BaseException:
                pass
        try:
            dup2(out, 1)
            dup2(err, 2)
            if rewind is not None and out != devnull:
                rewind()
        except OSError:
            pass
    function_type = type(main)

    # 3. Tripwires on the reference implementations. The tripwire is reachable from learner
    # code (a module global), so it is C objects only: a partial of sys.audit, whose event
    # the hook records in `state`, which no learner-reachable object refers to.
    import functools

    state: dict = {"guard": False, "refs": []}
    tripwire = functools.partial(sys.audit, REFERENCE_EVENT)

    refs: dict[int, str] = {}
    for dotted in ex.tripwires:
        fn = catalog.resolve(dotted)
        refs[id(fn)] = dotted
        if type(fn) is function_type and not fn.__closure__:
            fn.__globals__["__gostack_tripwire__"] = tripwire
            fn.__globals__["__gostack_reference_used__"] = ReferenceUsed
            fn.__code__ = _tripwire_code(dotted, fn)
    ref_objects = [catalog.resolve(d) for d in ex.tripwires]  # keep them alive: ids stay valid
    del fn
    # The simulator's inline copy of the reference prologue would give learner code the
    # reference's answers without calling it: every prologue goes through the tripwire.
    import gostack.runtime

    gostack.runtime.INLINE_REFERENCE_PROLOGUE = False

    # No audit event, no judgement: these go (and step 6 keeps a second posix from
    # bringing them back).
    import _imp
    import posix

    for module in (os, posix):
        for name in _UNAUDITED:
            module.__dict__.pop(name, None)

    # Signal handlers receive stack frames: leave the learner no way to install one. The
    # harness keeps its own references (setitimer, and `signal` below, are locals).
    # The garbage collector goes too: it could time a collection (and so a learner's
    # __del__) into the one window where the harness reads frames, and walk every object.
    import gc

    gc_disable, gc_enable, gc_isenabled = gc.disable, gc.enable, gc.isenabled
    hidden = [m for m in (sys.modules.pop(n, None) for n in (
        "signal", "_signal", "faulthandler", "subprocess", "_posixsubprocess", "socket",
        "_socket", "gc")) if m is not None]
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if type(namespace) is dict:
            for key, value in list(namespace.items()):
                if any(value is h for h in hidden) or (
                        callable(value) and getattr(value, "__module__", None) in
                        ("_signal", "signal", "faulthandler", "_posixsubprocess", "_socket",
                         "socket", "gc")):
                    del namespace[key]
    del hidden, gc

    # 4. Snapshot for monkeypatch detection.
    watched = [m for n, m in sorted(sys.modules.items())
               if (n == "gostack" or n.startswith("gostack.")) and m is not None]
    watched.append(builtins)
    snap = _snapshot(watched)
    named = [(m.__name__, m) for m in watched]  # names read now: a module's can be rebound
    sys_modules = sys.modules

    # 5. Fewer rights. What the hook may let learner code read is decided first, by name,
    # while every folder can still be reached.
    scratch = os.path.realpath(os.getcwd())
    read_roots = _read_roots()
    deny_roots = (os.path.realpath(os.path.dirname(gostack.__file__)),)
    root_paths: tuple = ()
    uid = job.get("uid")
    if uid is not None and os.getuid() == 0:
        root_paths = _import_through_fds(read_roots)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))

    # 6. The audit hook.
    import linecache

    linecache.clearcache()
    loaders = {"builtin": _imp.create_builtin, "dynamic": _imp.create_dynamic}
    loaded = frozenset(n for n in sys.builtin_module_names if n in sys.modules)
    owned = frozenset(_owned_ids(watched))
    sys.addaudithook(_make_hook(state, scratch, read_roots, deny_roots,
                                frozenset(ex.tripwires), loaders, loaded, owned, root_paths))
    loader_ns: dict = {"_audit": sys.audit, "_EVENT": LOADER_EVENT}
    exec(_LOADER_SOURCE, loader_ns)
    _imp.create_builtin, _imp.create_dynamic = (loader_ns["create_builtin"],
                                                loader_ns["create_dynamic"])
    del loaders, loader_ns
    # From here on learner code may run at any moment (a __repr__, an __index__, a
    # __del__...): the guard stays on, except for describe()'s walk of a traceback.
    state["guard"] = True

    # 7. The learner's definitions. What the harness calls from here on is bound now: learner
    # code can rebind module attributes (gostack's are only checked between cases).
    cell_filename, select = notebook.cell_filename, notebook.select
    ast_parse, ast_module = ast.parse, ast.Module
    # The learner's __main__ is a module of its own: sys.modules["__main__"] must not hand
    # out this module's globals, which the harness reads while it runs.
    learner_main = type(sys)("__main__")
    ns: dict = learner_main.__dict__
    ns["__builtins__"] = builtins
    sys_modules["__main__"] = learner_main
    sources: dict[str, list[str]] = {}
    errors: list[str] = []
    skipped = 0

    def on_alarm(signum, frame):
        raise _CaseTimeout

    signal.signal(signal.SIGALRM, on_alarm)

    def describe(e: BaseException) -> dict:
        """Type, message and the learner's line of an exception (learner code may run in
        __str__ and friends: the guard stays on except for the walk of the traceback)."""
        try:
            kind = type(e).__name__ if type(type(e).__name__) is str else "an exception"
        except BaseException:
            kind = "an exception"
        try:
            msg = str(e)
            msg = msg if type(msg) is str else ""
        except BaseException:
            msg = ""
        where = ""
        tb = _TRACEBACK.__get__(e)  # a traceback or None, whatever e's class says
        collecting = gc_isenabled()
        gc_disable()  # no collection, so no learner finalizer, while the guard is off
        state["guard"] = False
        try:
            while tb is not None:  # C-level attributes of C objects: no learner code runs
                filename = tb.tb_frame.f_code.co_filename
                lineno = tb.tb_lineno
                if _type(filename) is _str and filename in sources:
                    lines = sources[filename]
                    text = lines[lineno - 1].strip() if 0 < lineno <= _len(lines) else ""
                    where = f"{filename.strip('<>')}, line {lineno}: {text}"
                tb = tb.tb_next
        finally:
            state["guard"] = True
            if collecting:
                gc_enable()
        return {"type": kind, "message": msg[:300], "where": where[:200]}

    # The top-level statements share one budget (a flood of slow cells costs that much at
    # most); each one also stops at twice the per-case alarm. Past the budget, the rest are
    # not run (the functions defined so far are still graded).
    per_statement = job["case_timeout"] * 2
    budget = float(job.get("definitions", per_statement * 2))
    budget_end = monotonic() + budget
    late: list[str] = []
    for number, source in job["cells"]:
        filename = cell_filename(number)  # exact str: describe() compares these unguarded
        try:
            tree = ast_parse(source, filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # the grader reports syntax errors from its own parse
        sources[filename] = source.split("\n")
        kept, n_skipped = select(tree)
        skipped += n_skipped
        for stmt in kept:
            left = budget_end - monotonic()
            if left < 0.05:  # not worth starting a statement
                late.append(f"cell {number}, line {stmt.lineno}")
                continue
            alarm = min(per_statement, left)
            send({"t": "stmt", "cell": number, "line": stmt.lineno})
            setitimer(itimer_real, alarm)
            try:
                _exec(_compile(ast_module([stmt], []), filename, "exec"), ns)
                setitimer(itimer_real, 0)
            except _CaseTimeout:
                shared = "" if alarm > per_statement - 0.05 else (
                    f" (the top-level statements share {budget:g} s)")
                errors.append(f"cell {number}, line {stmt.lineno}: stopped after "
                              f"{alarm:.2g} s{shared}")
            except BaseException as e:  # anything, SystemExit included
                setitimer(itimer_real, 0)
                d = describe(e)
                first = next((ln for ln in d["message"].splitlines() if ln.strip()), "")
                errors.append(f"cell {number}, line {stmt.lineno}: {d['type']}: {first}"[:300])

    if late:
        more = f" and {_len(late) - 1} more" if _len(late) > 1 else ""
        errors.append(f"{late[0]}{more}: not run, the top-level statements had used up "
                      f"their {budget:g} s")

    # The functions.
    fns = {}
    fatal = []
    for name, params in ex.functions:
        fn = ns.get(name, None)
        if fn is None:
            options = [k for k, v in list(ns.items()) if type(k) is str and callable(v)]
            close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
            hint = f" (there is a function named {close[0]!r}: a typo?)" if close else ""
            fatal.append(f"no function named {name!r}{hint}")
            continue
        if id(fn) in refs or (getattr(fn, "__module__", None) or "").startswith("gostack"):
            fatal.append(f"{name} is gostack's own {refs.get(id(fn), 'function')}: the "
                         "exercise is to write it yourself")
            send({"t": "ref", "name": refs.get(id(fn), name), "case": "definition"})
            continue
        if not callable(fn):
            fatal.append(f"{name} is a {type(fn).__name__}, not a function")
            continue
        try:
            inspect.signature(fn).bind(*params)
        except TypeError:
            try:
                shown = str(inspect.signature(fn))
            except BaseException:
                shown = "(...)"
            fatal.append(f"{name}{shown} cannot be called as {name}({', '.join(params)})")
            continue
        except BaseException:  # no signature: the calls will tell
            pass
        fns[name] = fn
    patched = _changed(snap, named, sys_modules)
    state["refs"].clear()  # a call while definitions ran only failed that statement
    send({"t": "ready", "errors": errors[:20], "skipped": skipped, "fatal": fatal,
          "patched": patched[:10]})
    if fatal or patched:
        send({"t": "done"})
        os._exit(0)

    # The cases, each under its own alarm: one that runs out of time fails alone. An aspect
    # scores all or nothing over the cases carrying its tag, so a later case whose tags all
    # belong to cases that already timed out cannot change a score: it is skipped, and the
    # time spent on timeouts is at most one alarm per rule.
    timed_out = _frozenset()
    # What the feedback quotes is read here, before the first hidden case, and sent on the
    # pipe: whatever learner code writes later, through any descriptor, is never quoted.
    quoted = False
    pread = os.pread

    def send_output() -> bool:
        to_fds(*real_fds)  # flushes the streams
        try:
            text = pread(real_fds[0], QUOTED_BYTES, 0).decode("utf-8", "replace")
        except OSError:
            text = ""
        send({"t": "output", "text": text})
        return True

    cases = job["cases"]
    start, n_cases = _int(job["start"]), _len(cases)  # no learner-replaceable call between
    for i in _range(start, n_cases):                 # cases: only the alarm's window is theirs
        tags = tagsets[i]
        if tags and tags <= timed_out:
            send({"t": "case", "i": i, "error": {"type": "no result", "message": (
                "skipped: a case of the same rule already ran out of time")}})
            continue
        quiet = hidden_case[i]
        if quiet and not quoted:
            quoted = send_output()
        if quiet:
            to_fds(devnull, devnull)
        send({"t": "start", "i": i})
        setitimer(itimer_real, job["case_timeout"])
        try:
            record = {"ok": ex.run(fns, cases[i])}
            setitimer(itimer_real, 0)
        except _CaseTimeout:
            timed_out = timed_out | tags
            record = {"error": {"type": "a time limit", "message":
                                f"no answer after {job['case_timeout']:g} s (an endless loop?)"}}
        except catalog.BadResult as e:
            setitimer(itimer_real, 0)
            record = {"bad": describe(e)["message"]}
        except BaseException as e:  # SystemExit, KeyboardInterrupt, anything
            setitimer(itimer_real, 0)
            record = {"error": describe(e)}
            kind = _type(e)  # issubclass on the type: an instance's __class__ is not asked
            if _issubclass(kind, MemoryError):
                record["error"]["message"] = f"ran out of memory (limit {job['memory_mb']} MB)"
            elif _issubclass(kind, SystemExit):
                record["error"]["message"] = "your code called sys.exit()"
        if quiet:  # describe() above may have run learner code: it printed nowhere too
            to_fds(*real_fds)
        record.update({"t": "case", "i": i})
        try:
            send(record)
        except Exception:  # learner objects got past the plain-data round trip
            send({"t": "case", "i": i, "bad": "the answer is not plain data"})
        for name in state["refs"]:  # tripwires that fired during this case, caught or not
            send({"t": "ref", "name": name})
        state["refs"].clear()
        # A snapshot check costs about half a millisecond: after every case when there are
        # few (the simulator's exercise), else after every 16th case and the last.
        patched = _changed(snap, named, sys_modules) if (
            n_cases <= 32 or (i - start) % 16 == 15 or i == n_cases - 1) else []
        if patched:
            send({"t": "patched", "what": patched[:10]})
            break
    if not quoted:
        send_output()
    send({"t": "done"})
    del ref_objects
    for stream in (sys.stdout, sys.stderr):  # what the learner printed, for the feedback
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(0)  # no atexit handlers, no finalizers: the learner's code gets no last word


if __name__ == "__main__":
    if sys.argv[1:2] == ["--zygote"]:
        zygote(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        main()
