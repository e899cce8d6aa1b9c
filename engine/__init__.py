"""Fengqiao's case engine: definitions, cases, deadlines, timers and storage.

Plain Python over SpiffWorkflow and SQLAlchemy; nothing here knows that Flask exists.
"""

# Registers the flush hook that keeps the monthly cockpit rollup (case_month_stat) in step with cases.
from . import case_rollup  # noqa: E402,F401
