"""Files the servers and the CLI create (databases, logs, secrets) hold health data or keys: owner-only."""

from __future__ import annotations

import os
from pathlib import Path

# Taken from every permission a new file or directory would otherwise have: group and others get nothing.
OWNER_ONLY_UMASK = 0o077


def owner_only_files() -> None:
    """Make every file this process creates from now on readable by its owner alone."""
    os.umask(OWNER_ONLY_UMASK)


def create_owner_only(path: Path) -> None:
    """Create `path` empty and owner-only if it does not exist yet, whatever the process's umask; an existing
    file is left as it is. SQLite gives its journal and write-ahead log the database file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
