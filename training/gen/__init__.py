"""Latent-slider generator (a VAE): ``cli`` (the ``gen`` commands), ``train`` (task, training,
sampling), ``export`` (ONNX pair, directions, mixture prior), ``losses``, ``figures``, ``config``."""
