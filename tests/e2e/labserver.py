"""A throwaway JupyterLab for the browser tests, started exactly as `make lab` starts it.

The command line is gostack.lab.command(), the one `make lab` runs: the kit's folder as the
server's root (so the links between lessons, exercises and README resolve as they do for a
learner) and lesson 00 as the default page. The tests add only what a throwaway server needs:
loopback, a random port and token, no browser, and window.jupyterapp for reading the outputs.

The checkout is served as is, and stays as it is:
- autosave is off in the server's private JupyterLab settings, and the server's contents
  manager (readonly_contents.py) refuses every write, logging it; `refused_writes()` lists them
  and the session fails if there is any;
- Jupyter, IPython, Matplotlib and JupyterLab settings and workspaces are private directories
  under a temporary folder, so nothing a learner has configured leaks in and nothing leaks out.
The server runs in a process group of its own and dies with its parent (PR_SET_PDEATHSIG), so
`stop()` or even a killed pytest leaves no jupyter-lab or kernel behind.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("gostack") is None:  # not installed: the checkout's own
    sys.path.append(str(ROOT))

from gostack import lab as make_lab  # noqa: E402  (the command line of `make lab`)

LOOPBACK = "127.0.0.1"
READONLY = Path(__file__).resolve().parent / "readonly_contents.py"
MARK = "gostack-e2e REFUSED"  # readonly_contents.MARK (that module imports jupyter_server)

# JupyterLab user settings: no news or update checks (they would leave loopback and pop a toast
# over the notebook). Written under the private JUPYTERLAB_SETTINGS_DIR.
# Autosave off: the tests type into cells of the checkout's own notebooks.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "autosave": False,
    },
}
# page_config.json: no build check, no announcements, no extension manager (it queries PyPI).
PAGE_CONFIG = {
    "buildCheck": False,
    "buildAvailable": False,
    "disabledExtensions": {
        "@jupyterlab/apputils-extension:announcements": True,
        "@jupyterlab/extensionmanager-extension": True,
    },
}
# Server side: no announcements feed, no update check, no PyPI extension manager (each of them
# would fetch from outside).
# And a contents manager that writes nothing (readonly_contents.py).
LAB_CONFIG = {
    "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
               "extension_manager": "readonly"},
    "ServerApp": {"contents_manager_class":
                  "gostack_e2e_readonly.ReadOnlyContentsManager"},
}


# What the tests must leave exactly as they found it: the course and the README.
WATCHED = ("notebooks", "exercises", "solutions", "README.md")


def snapshot(root: Path = ROOT) -> dict[str, str]:
    """{relative path: sha256} of every file under WATCHED (checkpoints and new files too)."""
    found = {}
    for name in WATCHED:
        top = root / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for f in files:
            found[f.relative_to(root).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return found


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def free_port() -> int:
    """A port that was free on loopback a moment ago (the server fails loudly if it lost it)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


try:  # looked up before any fork: the child runs only the call
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def _die_with_parent() -> None:  # runs in the child, between fork and exec
    if _prctl is not None:
        _prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1


class JupyterLab:
    """`with JupyterLab() as lab:` starts a server on the kit, as `make lab` does, and stops it."""

    def __init__(self, root: Path = ROOT, base: Path | None = None):
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="gostack-e2e-"))
        self.root = Path(root)  # the server's root: the kit's folder, as for `make lab`
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log_path = self.base / "server.log"
        self.proc: subprocess.Popen | None = None

    # --- set-up -------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        d = self.base
        dirs = {
            "JUPYTER_CONFIG_DIR": d / "config",
            "JUPYTER_DATA_DIR": d / "data",
            "JUPYTER_RUNTIME_DIR": d / "runtime",
            "JUPYTERLAB_SETTINGS_DIR": d / "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": d / "lab-workspaces",
            "IPYTHONDIR": d / "ipython",
            "MPLCONFIGDIR": d / "matplotlib",
            "PYTHONPATH": d / "pylib",  # the server's read-only contents manager
        }
        for p in dirs.values():
            p.mkdir(parents=True, exist_ok=True)
        for rel, settings in LAB_SETTINGS.items():
            f = dirs["JUPYTERLAB_SETTINGS_DIR"] / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps(settings))
        labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
        labconfig.mkdir(exist_ok=True)
        (labconfig / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
        (dirs["JUPYTER_CONFIG_DIR"] / "jupyter_lab_config.json").write_text(json.dumps(LAB_CONFIG))
        shutil.copyfile(READONLY, dirs["PYTHONPATH"] / "gostack_e2e_readonly.py")

        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "IPYTHON", "MPL", "DISPLAY", "PYTHONPATH"))}
        env.update({k: str(v) for k, v in dirs.items()})
        # Kernels import the served checkout's gostack (an editable install points there too;
        # a copy of the kit served from elsewhere must not run the installed one).
        env["PYTHONPATH"] += os.pathsep + str(self.root)
        # Anything in the server or a kernel that honours proxy variables (urllib, requests,
        # httpx) and tries to leave loopback fails at once on a dead local port.
        dead = f"http://{LOOPBACK}:9"
        for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env[var] = dead
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def cmd(self) -> list[str]:
        """`make lab`'s command line (gostack.lab.command), plus what a throwaway server needs."""
        return make_lab.command(root=self.root, python=sys.executable, extra=[
            "--no-browser",
            f"--ServerApp.ip={LOOPBACK}",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",  # a lost port race fails, never moves silently
            f"--IdentityProvider.token={self.token}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: read the outputs' model
        ])

    def start(self, timeout: float = 120, tries: int = 3) -> JupyterLab:
        """Start the server and wait until it answers; on a lost port race, on another port."""
        for attempt in range(1, tries + 1):
            if self._start_once(timeout):
                return self
            if attempt < tries and "already in use" in self.log_tail():
                self.port = free_port()
                self.url = f"http://{LOOPBACK}:{self.port}"
                continue
            raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n"
                               + self.log_tail())
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> bool:
        """True once the server answers; False if it exited; raises if it never answers."""
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.cmd(), cwd=self.root, env=self.env(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for stop()
                preexec_fn=_die_with_parent,
            )
        (self.base / "server.pid").write_text(str(self.proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self.api("GET", "/api/status", timeout=2)
                return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.25)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n{tail}")

    # --- use ----------------------------------------------------------------------------

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 10):
        headers = {"Authorization": f"token {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        # A direct opener: no proxy, whatever the environment says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def path(self, relpath: str) -> str:
        """A file of the kit as the server names it (the same relative path: the server's root
        is the kit's folder). Each test opens it in a fresh workspace, and its kernel is shut
        down after the test, so the next test that opens it gets a new session and kernel."""
        if not (self.root / relpath).is_file():
            raise FileNotFoundError(relpath)
        return Path(relpath).as_posix()

    def start_kernel(self, relpath: str, kernel: str = "python3") -> None:
        """Start the notebook's session and kernel now, as JupyterLab would on opening it: the
        page then finds it and connects, and the kernel starts while the page loads."""
        self.api("POST", "/api/sessions", {"path": relpath, "name": Path(relpath).name,
                                           "type": "notebook", "kernel": {"name": kernel}},
                 timeout=60)

    def notebook_url(self, relpath: str) -> str:
        # A fresh workspace per page: JupyterLab restores no tab from an earlier test.
        return (f"{self.url}/lab/workspaces/t{secrets.token_hex(4)}/tree/{relpath}"
                f"?token={self.token}")

    def shutdown_all_sessions(self) -> None:
        try:
            for s in self.api("GET", "/api/sessions") or []:
                self.api("DELETE", f"/api/sessions/{s['id']}")
        except (OSError, urllib.error.URLError):
            pass

    def refused_writes(self) -> list[str]:
        """The writes the server refused (readonly_contents.py): each one a test that tried to
        save, create, rename or delete a file in the checkout."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [line.split(MARK, 1)[1].strip() for line in text.splitlines() if MARK in line]

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # --- tear-down ----------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM the server's process group (it shuts its kernels down), SIGKILL it if it
        lingers, then SIGKILL any kernel of ours still alive: jupyter_client starts kernels in
        sessions of their own, so they are found by their connection files in our runtime dir."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        for pid in self._our_kernels():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None

    def _our_kernels(self) -> list[int]:
        marker = str(self.base / "runtime").encode()
        pids = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if marker in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
        return pids

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()
