"""Uploads kept between the check and 确认导入, so the confirmation imports exactly the checked file.

A checked upload waits server-side under a random token bound to the user's session; the form sends
the token back and only the session that checked the file can confirm it. The files hold personal
data, so each is readable by its owner only, none outlives KEEP_SECONDS, and a new upload replaces
the session's previous one.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, flash, redirect, session, url_for

KEEP_SECONDS = 3600


@dataclass(frozen=True)
class PendingUploads:
    """The kept uploads of one import page: in app.config[config_key], else instance/<subfolder>."""

    config_key: str
    subfolder: str
    session_key: str
    keep_seconds: int = KEEP_SECONDS

    def keep(self, data: bytes, suffix: str, filename: str) -> str:
        """Store a checked upload (owner-only) in place of the session's previous one; its token."""
        folder = self._folder()
        folder.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - self.keep_seconds
        for old in folder.iterdir():
            if old.is_file() and old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        previous = session.get(self.session_key)
        if previous and previous.get("token"):
            self._path(previous).unlink(missing_ok=True)
        token = secrets.token_hex(16)
        path = folder / f"{token}{suffix}"
        path.touch(mode=0o600)
        path.write_bytes(data)
        session[self.session_key] = {"token": token, "suffix": suffix, "filename": filename}
        return token

    def confirmed(self, token: str | None) -> tuple[str, Path] | None:
        """(filename, path) of the session's kept upload if `token` names it and it is still there."""
        pending = session.get(self.session_key) or {}
        path = self._path(pending)
        if not pending or token != pending.get("token") or not path.is_file():
            return None
        return pending["filename"], path

    def expired(self) -> Response:
        """Back to the page's upload form (its blueprint's `upload` view), saying the kept file is gone."""
        flash("待导入的文件已过期，请重新上传", "error")
        return redirect(url_for(".upload"))

    def forget(self) -> None:
        """Unbind the kept upload from the session; deleting the file is left to whoever imports it."""
        session.pop(self.session_key, None)

    def _folder(self) -> Path:
        return Path(current_app.config.get(self.config_key) or Path(current_app.instance_path) / self.subfolder)

    def _path(self, pending: dict) -> Path:
        return self._folder() / f"{pending.get('token', '')}{pending.get('suffix', '')}"
