"""Batch removal, Qt-free: ``plan`` (inputs -> output paths, skip rules), ``engine`` (the
threaded run the CLI uses), ``queue`` (the GUI batch page's editable queue on top of the engine)."""
