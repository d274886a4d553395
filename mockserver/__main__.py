"""`python -m hookwire.mockserver --help`."""

from hookwire.mockserver.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
