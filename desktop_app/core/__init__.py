"""Qt-free core of Seed Studio: image I/O, model conventions, inference, compositing, batch.

Everything here is plain Python + numpy/opencv/onnxruntime so that the CLI, the batch engine
and the GUI all call the same code. A test forbids Qt imports in this package.
"""
