"""`python -m feeds` is the `feedsmith` command."""

from feedsmith.cli import main

raise SystemExit(main())
