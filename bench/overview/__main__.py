"""`.venv/bin/python -m bench.overview`: see the package's docstring."""

import sys

from bench.overview.command import main

if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: the server was stopped and the database dropped", file=sys.stderr)
        sys.exit(130)
