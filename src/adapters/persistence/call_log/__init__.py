"""The hot path's writers of the CallLog port, one per backend (sqlite.py, postgres.py), each
with the SQL it sends in its own module (*_statements.py), built once at import; batching.py
holds the limits they share (docs/metering.md)."""
