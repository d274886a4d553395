"""``python -m sdk.cli``: the same as the ``hookwire`` console script."""

from sdk.cli import main

raise SystemExit(main())
