"""The browser tests' contents manager: JupyterLab's own, except that it writes nothing.

The test server serves the checkout itself (as `make lab` does), and the tests type answers
into exercise cells and run every lesson. Autosave is off in the server's private settings;
this is the second lock: every save, new file, copy, rename or delete through the server is
refused with 403 and logged with REFUSED, which the session's teardown turns into a failure
(labserver.JupyterLab.refused_writes). The checkpoint JupyterLab makes on opening a file is
answered without being written. The server process alone loads this module, from a private
folder on its PYTHONPATH (labserver copies it there).
"""

from __future__ import annotations

from datetime import datetime, timezone

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError

MARK = "gostack-e2e REFUSED"


class ReadOnlyContentsManager(AsyncLargeFileManager):
    def _refuse(self, what: str, path: str):
        self.log.warning("%s %s %s", MARK, what, path)
        raise HTTPError(403, f"the browser tests write nothing to the checkout ({what} {path})")

    async def save(self, model, path=""):
        self._refuse("save", path)

    async def delete_file(self, path):
        self._refuse("delete", path)

    async def rename_file(self, old_path, new_path):
        self._refuse("rename", f"{old_path} -> {new_path}")

    async def create_checkpoint(self, path):
        # JupyterLab asks for one each time it opens a file: answered as if made, nothing
        # written (it would land in .ipynb_checkpoints/ beside the notebook).
        return {"id": "checkpoint", "last_modified": datetime.now(timezone.utc)}

    async def restore_checkpoint(self, checkpoint_id, path):
        self._refuse("restore checkpoint", path)

    async def delete_checkpoint(self, checkpoint_id, path):
        self._refuse("delete checkpoint", path)
