"""The latent page: the generator panel with its sliders, seed row, interpolation box, dialogs,
worker jobs and the main-window hook (``window``)."""
