"""`bizgraph backup` and `bizgraph restore` (docs/operations.md, "Backups and restore").

SQLite: the online backup API copies the database in one step, i.e. inside one read transaction,
so the copy is a consistent snapshot while the gateway keeps writing (WAL: readers never block
the writer). PostgreSQL: `pg_dump --format=custom` (one repeatable-read snapshot) and
`pg_restore`, the connection passed in PG* environment variables so `ps` never shows a password.

A backup is written to a temporary file next to its path and renamed into place, so a crash
never leaves a half-written file under the final name.

The operations are in operations.py; what both backends share in common.py; one module per
backend."""
