"""Every step of storage/schema.py is a registered migration, applied in file order."""

from __future__ import annotations

import re
from pathlib import Path

from sqlite_utils import Database

SCHEMA = Path(__file__).resolve().parent.parent / "storage" / "schema.py"


def test_every_migration_function_is_registered_and_applied(db: Database) -> None:
    # A step merged without its decorator would silently never run on any database.
    defined = re.findall(r"^def (m\d{3}_\w+)\(", SCHEMA.read_text(), flags=re.M)
    applied = [name for (name,) in db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert sorted(applied) == sorted(defined)
    assert defined == sorted(defined), "append new steps at the end, numbered after the last"
