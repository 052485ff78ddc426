"""Rate limiters: in memory (one process) or in Redis (shared by every process)."""
