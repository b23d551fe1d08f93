#!/usr/bin/env python3
"""Runs a .tflite file with Arm NN's TFLite parser on the CpuRef backend (Debian python3-pyarmnn;
run with /usr/bin/python3). Arm NN aborts the process on graphs it cannot run, so callers run
this script as a child process.

usage: armnn_run.py MODEL.tflite IN.f32 N OUT.f32
IN.f32: N inputs, float32, each of the model's input shape, back to back.
OUT.f32: N outputs, float32, back to back. Prints the input and output shapes.
"""
import sys

import numpy as np
import pyarmnn as ann


def main():
    model, in_path, n, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    parser = ann.ITfLiteParser()
    network = parser.CreateNetworkFromBinaryFile(model)
    in_name = parser.GetSubgraphInputTensorNames(0)[0]
    out_name = parser.GetSubgraphOutputTensorNames(0)[0]
    in_info = parser.GetNetworkInputBindingInfo(0, in_name)
    out_info = parser.GetNetworkOutputBindingInfo(0, out_name)
    runtime = ann.IRuntime(ann.CreationOptions())  # one runtime per process
    opt, _ = ann.Optimize(network, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(),
                          ann.OptimizerOptions())
    net_id, _ = runtime.LoadNetwork(opt)
    in_shape = tuple(in_info[1].GetShape()[i] for i in range(in_info[1].GetNumDimensions()))
    x = np.fromfile(in_path, dtype=np.float32).reshape((n,) + in_shape)
    outs = []
    for i in range(n):
        inputs = ann.make_input_tensors([in_info], [x[i]])
        outputs = ann.make_output_tensors([out_info])
        runtime.EnqueueWorkload(net_id, inputs, outputs)
        outs.append(ann.workload_tensors_to_ndarray(outputs)[0].astype(np.float32).ravel())
    np.stack(outs).astype(np.float32).tofile(out_path)
    print("input", in_name, in_shape, "output", out_name, outs[0].shape)


if __name__ == "__main__":
    main()
