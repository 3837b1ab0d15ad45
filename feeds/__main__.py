"""`python -m feeds` is the `feedsmith` command."""

from feeds.cli import main

raise SystemExit(main())
