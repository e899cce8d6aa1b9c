"""Fengqiao's case engine: definitions, cases, deadlines, timers and storage.

Plain Python over SpiffWorkflow and SQLAlchemy; nothing here knows that Flask exists.
"""
