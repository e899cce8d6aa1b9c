"""Copies of processes/ with county variants written into them, for the variant and version tests."""
from __future__ import annotations

import shutil
from pathlib import Path

from engine.actors import Actor
from engine.forms import FormLibrary
from engine.registry import ProcessRegistry
from tests.conftest import ROOT

HANDLING_ROLES = ("clerk", "analyst", "mediator", "director", "manager", "designer")


def copy_processes(tmp_path: Path) -> Path:
    """processes/ (with its real variants 150200 包头市 and 150202 东河区) copied into tmp_path."""
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", processes)
    return processes


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(processes: Path) -> ProcessRegistry:
    return ProcessRegistry(processes, FormLibrary(ROOT / "forms"))


def staff_at(code: str, username: str | None = None) -> Actor:
    """Someone holding every handling role (and designer) at jurisdiction `code`."""
    return Actor.of(username or f"staff{code}", HANDLING_ROLES, code, f"{code} 综治中心")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
