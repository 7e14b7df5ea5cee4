"""UI pieces every page uses: workers, settings, numpy <-> QImage views, the model chooser and
small widgets."""
