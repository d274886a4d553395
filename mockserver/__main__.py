"""`python -m mockserver --help`."""

from mockserver.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
