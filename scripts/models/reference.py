#!/usr/bin/env python3
"""Reference outputs of Google's LiteRT runtime for each .tflite model on a fixed input
(scikit-image's astronaut portrait, resized), so that our ONNX models — and the Rust code
that runs them — can be checked against the original. Writes reference/*.f32 and
reference.json in the models directory."""
import json
import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

# name -> (input side, input range) as MediaPipe feeds each model.
MODELS = {
    "face_detection_short_range": (128, (-1.0, 1.0)),
    "face_detection_full_range_sparse": (192, (-1.0, 1.0)),
    "face_landmark": (192, (0.0, 1.0)),
    "iris_landmark": (64, (0.0, 1.0)),
    "selfie_segmentation": (256, (0.0, 1.0)),
}


def main(out):
    os.makedirs(f"{out}/reference", exist_ok=True)
    img = Image.open(f"{out}/astronaut.png").convert("RGB")
    index = {}
    for name, (side, (lo, hi)) in MODELS.items():
        x = np.asarray(img.resize((side, side), Image.BILINEAR), dtype=np.float32) / 255.0 * (hi - lo) + lo
        x = x[None]
        it = Interpreter(model_path=f"{out}/{name}.tflite", num_threads=1)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        x.astype("<f4").tofile(f"{out}/reference/{name}.input.f32")
        outputs = {}
        for d in it.get_output_details():
            y = it.get_tensor(d["index"]).astype("<f4")
            y.tofile(f"{out}/reference/{name}.{d['name']}.f32")
            outputs[d["name"]] = list(y.shape)
        index[name] = {"input": list(x.shape), "outputs": outputs}
    json.dump(index, open(f"{out}/reference.json", "w"), indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
