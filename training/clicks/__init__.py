"""Click-segmentation model (ClickNet): ``train`` (task and the train/eval/export commands),
``evaluate`` (NoC protocol and the GrabCut baseline), ``config`` (shared constants)."""
