"""Point-and-click selection, Qt-free: ``engine`` (click model spec, guidance encoding, zoom-in
prediction) and ``session`` (the clicks of one object and their undo)."""
