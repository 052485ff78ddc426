"""The application runtime: the machinery one running application owns, created and injected
by its container (api/container/) — the relay pool, the group commit of the per-call writes,
the snapshot cache of the configuration and the revision it watches. No module-level state:
two applications in one process share nothing here. Imports the standard library and the
domain only (tests/architecture); implements the ports of domain/runtime_ports.py."""
