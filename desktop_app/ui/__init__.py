"""PySide6 user interface: the main window at this level, one folder per page (``editor``,
``batch``, ``latent``) and the pieces they share (``shared``)."""
