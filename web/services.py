"""The engine objects the web layer uses, kept on the app."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from engine.assignment import Assignments
from engine.clock import Clock
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime


@dataclass
class Services:
    registry: ProcessRegistry
    runtime: CaseRuntime
    clock: Clock
    assignments: Assignments


def services() -> Services:
    return current_app.extensions["fengqiao"]
