// Post-training quantisation of an exported float Model (host side, torch-free): the TFLite
// int8 scheme of REFERENCE.md §3. Calibration runs the float model with the tinykws runtime.
#pragma once
#include "tinykws/format/model.h"

namespace tkws {

// Returns an int8 model computing what `float_model` computes:
//  - BatchNorm folded into the preceding conv / depthwise conv / dense (per output channel),
//  - weights symmetric int8 in [-127, 127], zero point 0, per output channel for conv and
//    depthwise conv, per tensor for dense,
//  - activations asymmetric int8 per tensor, ranges calibrated on `calib` ([n][frames][features],
//    already normalised) and nudged to include 0,
//  - biases int32 with scale s_in * s_w, zero point 0; softmax output scale 1/256, zp -128.
// Throws std::invalid_argument when the graph holds an op it cannot quantise.
Model quantize_int8(const Model& float_model, const float* calib, int n);

}  // namespace tkws
