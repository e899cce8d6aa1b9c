"""A problem found in a definition file, reported as `file:line element-id: message`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    element_id: str | None
    message: str
    severity: str = "error"  # error / warning

    def __str__(self) -> str:
        where = f"{self.file}:{self.line if self.line is not None else '?'}"
        return f"{where} {self.element_id or '-'}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"
