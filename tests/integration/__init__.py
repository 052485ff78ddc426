"""Adapters against real infrastructure: SQLite, PostgreSQL, local fake upstreams."""
