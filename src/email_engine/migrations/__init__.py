"""Alembic migrations: the only way the schema is created.

Each domain has its own branch (``branch_labels=("<domain>",)``) starting from the core revision,
so domains add tables independently; ``email-engine db upgrade`` upgrades every head.
"""
