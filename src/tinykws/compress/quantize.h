// Post-training quantisation of an exported float Model (host side, torch-free): the TFLite
// int8 scheme of docs/training.md. Calibration runs the float model with the tinykws runtime.
#pragma once
#include "tinykws/format/model.h"

namespace tkws {

// Returns an int8 model computing what `float_model` computes:
//  - BatchNorm folded into the preceding conv / depthwise conv / dense (per output channel);
//    conv, MaxPool2D, BatchNorm with every scale >= 0 [, Relu] is first reordered to conv,
//    BatchNorm [, Relu], MaxPool2D (exact: both are non-decreasing per channel, so they commute
//    with the max); any other BatchNorm with no conv / dense right before it (a negative scale,
//    after a GlobalAvgPool, ...) becomes a 1x1 DepthwiseConv2D (stride 1, valid) with weight =
//    scale, bias = shift: y = scale[c] * x + shift[c], each channel's weight one value at +-127,
//  - weights symmetric int8 in [-127, 127], zero point 0, per output channel for conv and
//    depthwise conv, per tensor for dense,
//  - activations asymmetric int8 per tensor, ranges calibrated on `calib` ([n][frames][features],
//    already normalised) and nudged to include 0,
//  - biases int32 with scale s_in * s_w, zero point 0; softmax output scale 1/256, zp -128.
// Details (model.h "int8 models" states the result's semantics):
//  - a ReLU right after a conv / dense / standalone BatchNorm (or after a conv's or dense's
//    BatchNorm) becomes its fused activation;
//  - MaxPool2D, AvgPool2D and a Relu elsewhere keep their input's scale and zero point
//    (TFLite); GlobalAvgPool and the weighted ops get their own calibrated ranges;
//  - every weighted op gets a bias (named after the weight when the float op had none);
//  - equal float weights of a channel give equal int8 values and 0 stays exactly 0, so pruned
//    and clustered weights keep their zeros and at most k distinct values per output channel;
//  - an all-zero weight channel takes the tensor's largest channel scale.
// Inputs beyond the calibrated ranges are clipped at run time, as in TFLite.
// Throws std::invalid_argument for an int8 or invalid model, non-float tensors, no calibration
// data, or non-finite calibration activations.
Model quantize_int8(const Model& float_model, const float* calib, int n);

// float16 storage: every float32 tensor rounded to binary16 (values and dtype); other tensors
// as they are.
void to_float16(Model& m);

}  // namespace tkws
