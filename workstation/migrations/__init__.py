"""Alembic migrations of the workstation database (run by ``Store.open``; no alembic.ini)."""
