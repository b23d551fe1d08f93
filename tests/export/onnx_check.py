#!/usr/bin/env python3
"""Checks an .onnx file with onnx.checker (Debian python3-onnx; run with /usr/bin/python3) and
prints its opset, input and output shapes and metadata_props as JSON.

usage: onnx_check.py MODEL.onnx
"""
import json
import sys

import onnx


def shape(v):
    return [d.dim_value for d in v.type.tensor_type.shape.dim]


def main():
    m = onnx.load(sys.argv[1])
    onnx.checker.check_model(m, full_check=True)  # full_check: also runs shape inference
    print(json.dumps({
        "opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0],
        "inputs": {v.name: shape(v) for v in m.graph.input},
        "outputs": {v.name: shape(v) for v in m.graph.output},
        "metadata": {p.key: p.value for p in m.metadata_props},
        "ops": sorted({n.op_type for n in m.graph.node}),
    }))


if __name__ == "__main__":
    main()
