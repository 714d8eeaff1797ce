"""Alembic environment and revisions of the aadbot schema (a package so installs ship them)."""
