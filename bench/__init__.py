"""The gateway benchmark: `python -m bench.gateway` (see bench/README.md)."""
