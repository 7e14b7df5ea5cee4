"""The batch page: the queue table (``model``), its worker jobs, thumbnails, options panel,
layout and the main-window hook (``window``)."""
