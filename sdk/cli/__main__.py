"""``python -m hookwire.cli``: the same as the ``hookwire`` console script."""

from hookwire.cli import main

raise SystemExit(main())
