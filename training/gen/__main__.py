"""``python -m training.gen ...``: the same commands as ``python -m training gen ...``."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
