"""The `bizgraph` command line (typer): main.py is the entry point and registers one module per
area of commands; running.py runs each command against one container."""
