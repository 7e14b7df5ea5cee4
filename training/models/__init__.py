"""Model definitions. Each model is built from a plain config dataclass so a checkpoint can
rebuild it exactly (nanoGPT style: the checkpoint stores ``model_config``)."""
