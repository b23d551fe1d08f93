// The run report's own charts (internal to eval/; report.cpp places them on the page).
#pragma once
#include <string>
#include <vector>

#include "tinykws/format/model.h"
#include "tinykws/format/tkws.h"

namespace tkws {

// The confusion matrix cm[true][predicted] as <svg id="chart-confusion">: correct cells in
// blues, errors in reds, darker for a larger share of the row. cm is labels.size() squared.
std::string confusion_svg(const std::vector<std::string>& labels,
                          const std::vector<std::vector<int>>& cm);

// Histogram of latency samples (ms, non-empty) with the median marked, as
// <svg id="chart-latency">; the range ends at the 99th percentile, the rest in the last bin.
std::string latency_svg(std::vector<double> v);

// Stored bytes per tensor (beside the same tensor dense) and its share of zeros, as
// <svg id="chart-tensors">; st = describe_storage(m).
std::string tensors_svg(const Model& m, const std::vector<TensorStorage>& st);

}  // namespace tkws
