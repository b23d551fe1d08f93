// The `tinykws` Python module: a thin pybind11 layer over the C API (runtime/tinykws.h).
//   m = tinykws.Model("model.tkws")
//   m.labels                      -> ["down", "up"]
//   m.predict(samples)            -> {"down": 0.02, "up": 0.98}
//   m.features(samples)           -> float32 array [frames, features] (before normalisation)
// samples: 1-D float32 numpy array at m.sample_rate, int16 scale / 32768 (shorter clips are
// zero-padded at the end, longer ones cut). Wrong dtype or shape: ValueError; a file that is not a
// model: ValueError naming it; an unreadable file: OSError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <string>
#include <vector>

#include "tinykws.h"

namespace py = pybind11;

namespace {

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
    const auto x = checked(samples, "predict");
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

  py::array_t<float> features(const py::object& samples) {
    const auto x = checked(samples, "features");
    py::array_t<float> out({tinykws_num_frames(m_), tinykws_num_features(m_)});
    if (tinykws_features(m_, x.data(), static_cast<size_t>(x.size()), out.mutable_data()) !=
        TINYKWS_OK)
      throw std::runtime_error(tinykws_last_error(m_));
    return out;
  }

 private:
  // A contiguous 1-D float32 array with at least one sample, else ValueError.
  static py::array_t<float, py::array::c_style> checked(const py::object& obj, const char* fn) {
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

  tinykws_model* m_ = nullptr;
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
}
