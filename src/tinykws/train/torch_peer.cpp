#include "tinykws/train/torch_peer.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <stdexcept>

#include "tinykws/frontend/frontend.h"
#include "tinykws/train/network.h"

namespace tkws {

void torch_set_num_threads(int intra_op, int inter_op) {
  at::set_num_threads(intra_op);
  at::set_num_interop_threads(inter_op);
}

// ---- the front end ----------------------------------------------------------------------------

struct TorchFrontend::Impl {
  torch::Tensor window, mel, dct_t, mean, inv_std;  // mel [bins][M], dct_t [M][K]
  int n_fft = 0, hop = 0, length = 0;
  float log_offset = 1e-6f, scale = 1.0f;
  bool power = false, mfcc = true;
  std::string error;

  explicit Impl(const Model& m) {
    const FrontendConfig& c = m.frontend;
    n_fft = c.effective_fft_length(), hop = c.frame_step, length = c.frame_length;
    if (length != n_fft) {  // stft's centred window padding differs from tf.signal's
      error = "torch front end: frame_length != fft_length not supported here";
      return;
    }
    log_offset = c.log_offset, scale = 32768.0f / c.pcm_divisor;
    power = c.spectrum == SpectrumKind::kPower, mfcc = c.kind == FeatureKind::kMfcc;
    window = torch::hann_window(length, torch::TensorOptions().dtype(torch::kFloat32));
    const int bins = c.num_bins(), M = c.num_mel_bins;
    // The runtime front end's own matrix (frontend/frontend.h), [bins][M].
    std::vector<float> w = mel_weight_matrix(M, bins, c.sample_rate, c.lower_hz, c.upper_hz);
    mel = torch::from_blob(w.data(), {bins, M}, torch::kFloat32).clone();
    const int K = mfcc ? c.num_mfcc : M;
    dct_t = torch::zeros({M, K});
    auto dw = dct_t.accessor<float, 2>();
    for (int k = 0; k < K; ++k)
      for (int n = 0; n < M; ++n)
        dw[n][k] = static_cast<float>(std::sqrt(2.0 / M) *
                                      std::cos(std::numbers::pi * k * (2 * n + 1) / (2.0 * M)));
    if (!m.norm_mean.empty()) {
      mean = torch::tensor(m.norm_mean);
      inv_std = torch::tensor(m.norm_inv_std);
    }
  }

  // clip [samples] -> normalised features [frames][K]
  torch::Tensor operator()(const torch::Tensor& clip) const {
    auto spec = torch::stft(clip * scale, n_fft, hop, length, window, /*normalized=*/false,
                            /*onesided=*/true, /*return_complex=*/true);  // [bins][frames]
    auto mag = power ? torch::abs(spec).square() : torch::abs(spec);
    auto x = torch::log(torch::matmul(mag.t(), mel) + log_offset);  // [frames][M]
    if (mfcc) x = torch::matmul(x, dct_t);
    if (mean.defined()) x = (x - mean) * inv_std;
    return x;
  }
  torch::Tensor operator()(const float* clip, size_t samples) const {
    return (*this)(torch::from_blob(const_cast<float*>(clip), {static_cast<int64_t>(samples)}));
  }
};

TorchFrontend::TorchFrontend(const Model& m) : impl_(std::make_unique<Impl>(m)) {}
TorchFrontend::TorchFrontend(TorchFrontend&&) noexcept = default;
TorchFrontend& TorchFrontend::operator=(TorchFrontend&&) noexcept = default;
TorchFrontend::~TorchFrontend() = default;

const std::string& TorchFrontend::error() const {
  return impl_->error;
}

namespace {
std::vector<float> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  const float* p = c.data_ptr<float>();
  return std::vector<float>(p, p + c.numel());
}
}  // namespace

std::vector<float> TorchFrontend::features(const float* clip, size_t samples) const {
  c10::InferenceMode guard;
  return to_vector((*impl_)(clip, samples));
}

void TorchFrontend::features_discard(const float* clip, size_t samples) const {
  c10::InferenceMode guard;
  (*impl_)(clip, samples);
}

// ---- the network ------------------------------------------------------------------------------

struct TorchNet::Impl {
  mutable KwsNet net{nullptr};  // eval mode (forward is not const in torch, but pure here)
  int frames = 0, features = 0;

  torch::Tensor input(const float* x) const {
    return torch::from_blob(const_cast<float*>(x), {1, 1, frames, features});
  }
  torch::Tensor probs(const torch::Tensor& x) const { return torch::softmax(net->forward(x), 1); }
};

TorchNet::TorchNet() = default;
TorchNet::TorchNet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TorchNet::TorchNet(TorchNet&&) noexcept = default;
TorchNet& TorchNet::operator=(TorchNet&&) noexcept = default;
TorchNet::~TorchNet() = default;

int TorchNet::frames() const {
  return impl_->frames;
}
int TorchNet::features() const {
  return impl_->features;
}

TorchNet TorchNet::random(const ModelConfig& cfg, int frames, int features, int num_labels,
                          uint64_t seed, Model& out) {
  auto impl = std::make_unique<Impl>();
  impl->frames = frames, impl->features = features;
  torch::manual_seed(seed);
  impl->net = KwsNet(cfg, frames, features, num_labels);
  {
    torch::NoGradGuard g;  // non-trivial BN (as tests/train RuntimeVsTorch) and dense bias
    for (auto& b : impl->net->named_buffers()) {
      if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.5, 0.5);
      if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
    }
    for (auto& p : impl->net->named_parameters()) {
      if (p.key().find("bias") != std::string::npos) p.value().uniform_(-0.3, 0.3);
      if (p.key().find("weight") != std::string::npos && p.value().dim() == 1)
        p.value().uniform_(0.5, 1.5);  // BN gamma
    }
  }
  impl->net->eval();
  impl->net->export_to(out);
  return TorchNet(std::move(impl));
}

TorchNet TorchNet::twin(const std::string& model_path, const Model& m, std::string* error) {
  if (m.is_int8()) {
    *error = "int8 model: no float peer";
    return {};
  }
  const auto cfg_path = std::filesystem::path(model_path).parent_path() / "config.toml";
  if (!std::filesystem::exists(cfg_path)) {
    *error = "no " + cfg_path.string() + " to build the torch module from";
    return {};
  }
  try {
    const Config cfg = load_config(cfg_path.string());
    auto impl = std::make_unique<Impl>();
    impl->frames = m.frontend.num_frames();
    impl->features = m.frontend.num_features();
    KwsNet net(cfg.model, impl->frames, impl->features, static_cast<int>(m.labels.size()));
    torch::NoGradGuard g;
    auto load = [&](torch::Tensor& dst, const std::string& name) {
      const int ti = m.find_tensor(name);
      if (ti < 0) throw std::runtime_error("tensor " + name + " not in the file");
      const Tensor& t = m.tensors[ti];
      if (static_cast<int64_t>(t.f32.size()) != dst.numel())
        throw std::runtime_error("tensor " + name + " has another size than the config's");
      dst.copy_(torch::from_blob(const_cast<float*>(t.f32.data()), dst.sizes()));
    };
    auto& layers = net->mutable_layers();
    for (size_t i = 0; i < layers.size(); ++i) {
      BuiltLayer& L = layers[i];
      const std::string n = "layer" + std::to_string(i);
      if (L.conv) {
        load(L.conv->weight, n + ".weight");
        if (L.spec.bias) load(L.conv->bias, n + ".bias");
      } else if (L.bn) {
        load(L.bn->weight, n + ".scale");
        load(L.bn->bias, n + ".shift");
        L.bn->running_mean.zero_();
        L.bn->running_var.fill_(1.0 - L.bn->options.eps());
      } else if (L.dense) {
        load(L.dense->weight, n + ".weight");
        if (L.spec.bias) load(L.dense->bias, n + ".bias");
      }
    }
    net->eval();
    impl->net = net;
    return TorchNet(std::move(impl));
  } catch (const std::exception& e) {
    *error = e.what();
    return {};
  }
}

TorchNet::Output TorchNet::forward(const float* x) const {
  c10::InferenceMode guard;
  const torch::Tensor logits = impl_->net->forward(impl_->input(x)).contiguous();
  Output r;
  r.logits = to_vector(logits);
  r.probs = to_vector(torch::softmax(logits, 1));
  return r;
}

void TorchNet::probs_discard(const float* x) const {
  c10::InferenceMode guard;
  impl_->probs(impl_->input(x));
}

TorchNet::ClipOutput TorchNet::run_clip(const TorchFrontend& fe, const float* clip,
                                        size_t samples) const {
  c10::InferenceMode guard;
  const torch::Tensor f = (*fe.impl_)(clip, samples).contiguous();
  ClipOutput r;
  r.features = to_vector(f);
  r.probs = to_vector(impl_->probs(f.view({1, 1, impl_->frames, impl_->features})));
  return r;
}

void TorchNet::run_clip_discard(const TorchFrontend& fe, const float* clip, size_t samples) const {
  c10::InferenceMode guard;
  impl_->probs((*fe.impl_)(clip, samples).view({1, 1, impl_->frames, impl_->features}));
}

}  // namespace tkws
