"""``python -m symcnn``: the command line."""

from .cli import main

raise SystemExit(main())
