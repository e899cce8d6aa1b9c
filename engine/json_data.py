"""Case data as plain JSON values."""
from __future__ import annotations

import json
from typing import Any


def json_copy(data: Any, *, lenient: bool = False) -> Any:
    """A deep copy holding only JSON values.

    Task data is shared by reference inside SpiffWorkflow, so whatever is kept (event log, case
    row, documents) is copied. Strict copies refuse non-JSON values (submitted form data must be
    JSON already); lenient ones store them as strings (data a script may have produced).
    """
    return json.loads(json.dumps(data, ensure_ascii=False, default=str if lenient else None))
