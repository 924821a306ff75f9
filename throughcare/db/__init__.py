"""The case database: the engine and its sessions, the tables (SQLAlchemy models), and the Alembic migrations."""
