// The `tinykws` Python module: a thin pybind11 layer over the C API (runtime/tinykws.h).
//   m = tinykws.Model("model.tkws")
//   m.labels                      -> ["down", "up"]
//   m.predict(samples)            -> {"down": 0.02, "up": 0.98}
//   m.features(samples)           -> float32 array [frames, features] (before normalisation)
//   d = tinykws.Detector(m, threshold=0.7, hop_ms=50)   (options: tinykws.h, "Streaming")
//   d.push(samples)               -> [(time_s, label, score), ...] detections so far
// samples: 1-D float32 numpy array at m.sample_rate, int16 scale / 32768 (shorter clips are
// zero-padded at the end, longer ones cut). Wrong dtype or shape: ValueError; a file that is not a
// model: ValueError naming it; an unreadable file: OSError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "tinykws.h"

namespace py = pybind11;

namespace {

// A contiguous 1-D float32 array with at least one sample, else ValueError.
py::array_t<float, py::array::c_style> checked_samples(const py::object& obj, const char* fn) {
  if (!py::isinstance<py::array>(obj))
    throw py::value_error(std::string(fn) + ": samples must be a 1-D float32 numpy array, got " +
                          std::string(py::str(py::type::of(obj).attr("__name__"))));
  const py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!py::dtype::of<float>().is(a.dtype()))
    throw py::value_error(std::string(fn) + ": samples must be float32 (int16 / 32768), got " +
                          std::string(py::str(a.dtype())));
  if (a.ndim() != 1)
    throw py::value_error(std::string(fn) + ": samples must be 1-D (mono), got " +
                          std::to_string(a.ndim()) + " dimensions");
  if (a.size() == 0) throw py::value_error(std::string(fn) + ": no samples");
  return py::array_t<float, py::array::c_style>::ensure(a);
}

class PyModel {
 public:
  explicit PyModel(const std::string& path) {
    if (tinykws_status s = tinykws_open_file(path.c_str(), &m_); s != TINYKWS_OK) {
      const std::string msg = tinykws_last_error(nullptr);
      if (s != TINYKWS_ERROR_IO) throw py::value_error(msg);
      PyErr_SetString(PyExc_OSError, msg.c_str());
      throw py::error_already_set();
    }
    for (int i = 0; i < tinykws_num_labels(m_); ++i) labels_.emplace_back(tinykws_label(m_, i));
  }
  ~PyModel() { tinykws_close(m_); }
  PyModel(const PyModel&) = delete;
  PyModel& operator=(const PyModel&) = delete;

  const std::vector<std::string>& labels() const { return labels_; }
  int sample_rate() const { return tinykws_sample_rate(m_); }
  int clip_samples() const { return tinykws_clip_samples(m_); }
  bool is_int8() const { return tinykws_is_int8(m_) != 0; }

  std::map<std::string, float> predict(const py::object& samples) {
    const auto x = checked_samples(samples, "predict");
    std::vector<float> probs(labels_.size());
    tinykws_status s;
    {
      py::gil_scoped_release release;
      s = tinykws_classify(m_, x.data(), static_cast<size_t>(x.size()), probs.data());
    }
    if (s != TINYKWS_OK) throw std::runtime_error(tinykws_last_error(m_));
    std::map<std::string, float> out;
    for (size_t i = 0; i < labels_.size(); ++i) out[labels_[i]] = probs[i];
    return out;
  }

  const tinykws_model* handle() const { return m_; }

  py::array_t<float> features(const py::object& samples) {
    const auto x = checked_samples(samples, "features");
    py::array_t<float> out({tinykws_num_frames(m_), tinykws_num_features(m_)});
    if (tinykws_features(m_, x.data(), static_cast<size_t>(x.size()), out.mutable_data()) !=
        TINYKWS_OK)
      throw std::runtime_error(tinykws_last_error(m_));
    return out;
  }

 private:
  tinykws_model* m_ = nullptr;
  std::vector<std::string> labels_;
};

class PyDetector {
 public:
  PyDetector(const PyModel& model, const py::kwargs& options) : labels_(model.labels()) {
    std::string opts;
    for (const auto& [k, v] : options) {
      if (!py::isinstance<py::int_>(v) && !py::isinstance<py::float_>(v) &&
          !py::isinstance<py::bool_>(v))
        throw py::value_error("Detector option " + std::string(py::str(k)) + " must be a number");
      char value[40];
      std::snprintf(value, sizeof value, "%.17g", v.cast<double>());
      opts += (opts.empty() ? "" : ",") + std::string(py::str(k)) + "=" + value;
    }
    if (tinykws_detector_create(model.handle(), opts.c_str(), &d_) != TINYKWS_OK)
      throw py::value_error(tinykws_detector_last_error(nullptr));
  }
  ~PyDetector() { tinykws_detector_close(d_); }
  PyDetector(const PyDetector&) = delete;
  PyDetector& operator=(const PyDetector&) = delete;

  std::vector<std::tuple<double, std::string, float>> push(const py::object& samples) {
    const auto x = checked_samples(samples, "push");
    tinykws_status s;
    {
      py::gil_scoped_release release;
      s = tinykws_detector_push(d_, x.data(), static_cast<size_t>(x.size()));
    }
    if (s != TINYKWS_OK) throw std::runtime_error(tinykws_detector_last_error(d_));
    std::vector<std::tuple<double, std::string, float>> out;
    tinykws_event ev[16];
    for (int k; (k = tinykws_detector_read(d_, ev, 16)) > 0;)
      for (int i = 0; i < k; ++i)
        out.emplace_back(ev[i].time_s, labels_.at(ev[i].label), ev[i].score);
    return out;
  }
  void reset() { tinykws_detector_reset(d_); }

 private:
  tinykws_detector* d_ = nullptr;
  std::vector<std::string> labels_;
};

}  // namespace

PYBIND11_MODULE(tinykws, mod) {
  mod.doc() = "tinykws keyword-spotting runtime (C API: tinykws.h)";
  mod.attr("__version__") = tinykws_version();
  py::class_<PyModel>(mod, "Model")
      .def(py::init<const std::string&>(), py::arg("path"), "Opens a .tkws model file")
      .def_property_readonly("labels", &PyModel::labels, "Class names, output order")
      .def_property_readonly("sample_rate", &PyModel::sample_rate, "Hz")
      .def_property_readonly("clip_samples", &PyModel::clip_samples, "Samples per clip")
      .def_property_readonly("is_int8", &PyModel::is_int8)
      .def("predict", &PyModel::predict, py::arg("samples"),
           "1-D float32 samples -> dict label -> probability")
      .def("features", &PyModel::features, py::arg("samples"),
           "1-D float32 samples -> float32 [frames, features] (before normalisation)");
  py::class_<PyDetector>(mod, "Detector")
      .def(py::init<const PyModel&, const py::kwargs&>(), py::arg("model"),
           "Streaming detector; keyword options override the model's detector settings "
           "(threshold, hop_ms, smoothing_ms, min_hops, refractory_ms, gate, gate_dbfs, "
           "gate_min_speech_ms, gate_hangover_ms, reuse_activations, shift_kept_rows)")
      .def("push", &PyDetector::push, py::arg("samples"),
           "1-D float32 samples -> list of (time_s, label, score) detections")
      .def("reset", &PyDetector::reset, "Start a new stream at time 0");
}
