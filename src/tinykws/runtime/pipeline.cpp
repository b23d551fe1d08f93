#include "tinykws/runtime/pipeline.h"

#include <cstdint>
#include <utility>

namespace tkws {

KwsPipeline::KwsPipeline() = default;
KwsPipeline::~KwsPipeline() = default;
KwsPipeline::KwsPipeline(KwsPipeline&&) noexcept = default;
KwsPipeline& KwsPipeline::operator=(KwsPipeline&&) noexcept = default;

Status KwsPipeline::create(const Model& m, const InterpreterOptions& opt) {
  *this = KwsPipeline();
  if (std::string e = check_model(m); !e.empty())
    return Status::Error(StatusCode::kInvalidModel, "%s", e.c_str());
  Interpreter interp;
  Int8Network int8_net;
  size_t arena_bytes = 0;
  if (m.is_int8()) {
    Int8NetworkOptions o;
    o.reference = opt.kernels == KernelSet::kReference;
    o.fast_set = opt.fast_set;  // an index into int8_fast_kernel_sets() here
    if (Status s = int8_net.prepare(m, o); !s.ok()) return s;
    arena_bytes = int8_net.arena_bytes();
  } else {
    InterpreterOptions o = opt;
    o.input = ActShape{};  // the pipeline's input is always the front end's output
    if (Status s = interp.prepare(m, o); !s.ok()) return s;
    arena_bytes = interp.arena_bytes();
  }
  auto fe = std::make_unique<Frontend>(m.frontend);
  if (!fe->ok())
    return Status::Error(StatusCode::kInvalidModel, "front end: cannot build from the settings");
  if (fe->num_frames() != m.frontend.num_frames() ||
      fe->num_features() != m.frontend.num_features())
    return Status::Error(
        StatusCode::kInvalidModel, "front end: expected %dx%d features, it makes %dx%d",
        m.frontend.num_frames(), m.frontend.num_features(), fe->num_frames(), fe->num_features());

  constexpr size_t kAlign = 16;  // floats (64 bytes)
  arena_storage_.assign((arena_bytes + sizeof(float) - 1) / sizeof(float) + kAlign, 0.0f);
  const auto addr = reinterpret_cast<uintptr_t>(arena_storage_.data());
  arena_ = arena_storage_.data() + ((64 - addr % 64) % 64) / sizeof(float);
  interp_ = std::move(interp);
  int8_net_ = std::move(int8_net);
  int8_ = m.is_int8();
  frontend_ = std::move(fe);
  labels_ = m.labels;
  mean_ = m.norm_mean;
  inv_std_ = m.norm_inv_std;
  num_frames_ = m.frontend.num_frames();
  num_features_ = m.frontend.num_features();
  clip_samples_ = m.frontend.clip_samples;
  feats_.assign(static_cast<size_t>(num_frames_) * num_features_, 0.0f);
  return Status::Ok();
}

Status KwsPipeline::features(const float* clip, float* feats) noexcept {
  if (!frontend_) return Status::Error(StatusCode::kNotPrepared, "pipeline not created");
  if (!clip || !feats) return Status::Error(StatusCode::kInvalidArgument, "null clip or features");
  frontend_->compute(clip, feats);
  normalise(feats, num_frames_);
  return Status::Ok();
}

void KwsPipeline::normalise(float* rows, int n) const noexcept {
  normalise_features(rows, n > 0 ? static_cast<size_t>(n) : 0, num_features_,
                     mean_.empty() ? nullptr : mean_.data(),
                     inv_std_.empty() ? nullptr : inv_std_.data());
}

void KwsPipeline::release_network_memory() {
  std::vector<float>().swap(arena_storage_);
  std::vector<float>().swap(feats_);
  arena_ = nullptr;
}

Status KwsPipeline::network(const float* feats, float* probs) noexcept {
  if (!frontend_) return Status::Error(StatusCode::kNotPrepared, "pipeline not created");
  if (!arena_) return Status::Error(StatusCode::kNotPrepared, "pipeline's network memory released");
  if (int8_) return int8_net_.invoke(feats, probs, arena_, int8_net_.arena_bytes());
  return interp_.invoke(feats, probs, arena_, interp_.arena_bytes());
}

Status KwsPipeline::run(const float* clip, float* probs) noexcept {
  if (frontend_ && !arena_)
    return Status::Error(StatusCode::kNotPrepared, "pipeline's network memory released");
  if (Status s = features(clip, feats_.data()); !s.ok()) return s;
  return network(feats_.data(), probs);
}

}  // namespace tkws
