"""Which third-party family an unnamed ONNX file belongs to, from its graph's outputs.

File names are the first clue for third-party models (rembg's ``isnet-general-use.onnx``...),
but the same file downloaded from a model hub is often just ``model.onnx``, or carries a
vendor's name. The families differ in what their graphs return, and that survives renaming:

* U²-Net (Qin et al. 2020): a 320x320 input and seven 1-channel 320x320 maps (d0 + 6 sides);
* IS-Net / DIS (Qin et al. 2022): a 1024x1024 input, six 1-channel 1024x1024 side outputs,
  then the decoder's feature maps (many channels, lower resolution);
* BiRefNet: a 1024x1024 input and one 1-channel logits map (not squashed in the graph).

When the outputs fit none of these (a re-export keeping only the first map, say), a probe run
on a grey image tells a probability map (every value in [0, 1]) from logits; it builds an
onnxruntime session, so it is the last resort and its answer is cached with the spec.
"""

from __future__ import annotations

import numpy as np

from desktop_app.core.onnx_inspect import ModelHeader, TensorSig

U2NET_SIZE = (320, 320)
DIS_SIZE = (1024, 1024)
_FLOAT16 = 10


def _is_map(sig: TensorSig, hw: tuple[int, int]) -> bool:
    """A 1-channel N x 1 x H x W output at the input's resolution (symbolic sizes allowed)."""
    if sig.shape is None or len(sig.shape) != 4 or sig.shape[1] != 1:
        return False
    return all(not isinstance(d, int) or d == want for d, want in zip(sig.shape[2:], hw, strict=True))


def convention_from_signature(header: ModelHeader, hw: tuple[int, int] | None) -> str | None:
    """The family whose output signature ``header`` has, or None when it is not conclusive."""
    outs = header.outputs
    if hw is None or not outs:
        return None
    maps = [_is_map(o, hw) for o in outs]
    if hw == U2NET_SIZE and len(outs) == 7 and all(maps):
        return "u2net"
    if hw == DIS_SIZE and len(outs) >= 6 and all(maps[:6]) and not any(maps[6:]):
        return "isnet"
    if hw == DIS_SIZE and len(outs) == 1 and maps[0]:
        # one map: already a probability if the graph ends in a sigmoid, else BiRefNet's logits
        return "isnet" if header.output_ops[:1] == ("Sigmoid",) else "birefnet"
    return None


def probe_is_probability(header: ModelHeader, hw: tuple[int, int], output_index: int = 0) -> bool:
    """Run the model once on a mid-grey image: True if the output lies in [0, 1] (a probability,
    the IS-Net way), False for logits (BiRefNet). Raises ModelError if the model cannot run."""
    from desktop_app.core.session import get_session  # onnxruntime: only when a probe is needed

    session = get_session(header.path)
    inp = header.inputs[0]
    dtype = np.float16 if inp.elem_type == _FLOAT16 else np.float32
    grey = np.zeros((1, 3, *hw), dtype)  # 0.5 grey after ImageNet-style normalisation is ~0
    out = np.asarray(session.run([header.outputs[output_index].name], {inp.name: grey})[0], np.float32)
    finite = out[np.isfinite(out)]
    return finite.size > 0 and float(finite.min()) >= -1e-3 and float(finite.max()) <= 1.0 + 1e-3
