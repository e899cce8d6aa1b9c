"""Errors the engine raises: each says what failed and where, so a user can act on it."""
from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class NotFound(EngineError):
    """A case, task or category does not exist, or is outside what the actor may see."""


class UnknownCategory(NotFound):
    def __init__(self, code: str, problems: list | None = None):
        self.code = code
        self.problems = problems or []
        detail = f"; its definition has errors: {self.problems[0]}" if self.problems else ""
        super().__init__(f"unknown or unavailable category {code!r}{detail}")


class Forbidden(EngineError):
    """The actor may see the object but may not do this to it."""


class ConflictError(EngineError):
    """Someone else changed the case first; reload and try again. Nothing was saved."""


class TaskNotReady(ConflictError):
    def __init__(self, task_id: str, state: str):
        self.task_id = task_id
        self.state = state
        super().__init__(f"task {task_id} is {state}, not ready: it was completed or withdrawn by someone else")


@dataclass(frozen=True)
class FieldError:
    """One invalid form field: `field` is a dotted path ('' for the whole form)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field or '(form)'}: {self.message}"


class FormInvalid(EngineError):
    """Submitted form data does not satisfy the task's JSON Schema. Nothing was changed."""

    def __init__(self, form: str, errors: list[FieldError]):
        self.form = form
        self.errors = errors
        super().__init__(f"form {form!r} is invalid: " + "; ".join(str(e) for e in errors))


class ProcessError(EngineError):
    """The process definition failed while running (a script or condition raised).

    The case was rolled back to its state before the attempt.
    """

    def __init__(self, element_id: str | None, message: str):
        self.element_id = element_id
        super().__init__(f"{element_id or 'process'}: {message}")


class VersionError(EngineError):
    """Publishing, rolling back or migrating a process version is not possible as asked."""


class NoVersion(NotFound):
    """No version of a category is published for a jurisdiction or any level above it."""


class MigrationRefused(VersionError):
    """A running case cannot be moved to the version asked for; the message says why."""
