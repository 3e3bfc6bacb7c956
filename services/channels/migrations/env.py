"""Alembic's entry point for this stream of revisions (see services/kernel/migrate.py)."""

from services.kernel.migrate import run_env

run_env()
