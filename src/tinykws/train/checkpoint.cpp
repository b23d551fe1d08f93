#include "tinykws/train/checkpoint.h"

#include <sstream>

#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"

using json = nlohmann::json;

namespace tkws {

namespace {

constexpr int kCheckpointVersion = 1;

std::vector<EpochRecord> history_from_json(const json& a) {
  std::vector<EpochRecord> h;
  for (auto& e : a) {
    EpochRecord r;
    r.epoch = e.at("epoch");
    r.phase = e.at("phase");
    r.lr = e.at("lr");
    r.train_loss = e.at("train_loss");
    r.train_acc = e.at("train_acc");
    r.val_loss = e.at("val_loss");
    r.val_acc = e.at("val_acc");
    r.val_score = e.value("val_score", r.val_acc);
    r.sparsity = e.at("sparsity");
    r.seconds = e.at("seconds");
    h.push_back(r);
  }
  return h;
}

void write_tensors(torch::serialize::OutputArchive& ar, const std::string& prefix,
                   const std::vector<torch::Tensor>& ts) {
  ar.write(prefix + "_n", torch::tensor(static_cast<int64_t>(ts.size())));
  for (size_t i = 0; i < ts.size(); ++i) ar.write(prefix + "_" + std::to_string(i), ts[i]);
}

std::vector<torch::Tensor> read_tensors(torch::serialize::InputArchive& ar,
                                        const std::string& prefix) {
  torch::Tensor n;
  ar.read(prefix + "_n", n);
  std::vector<torch::Tensor> ts(n.item<int64_t>());
  for (size_t i = 0; i < ts.size(); ++i) ar.read(prefix + "_" + std::to_string(i), ts[i]);
  return ts;
}

// Loads a checkpoint archive; a damaged file is an InputError naming it.
void open_checkpoint(const std::string& path, torch::serialize::InputArchive& ar) {
  try {
    ar.load_from(path);
  } catch (const std::exception& e) {
    throw InputError(
        path + ": cannot read checkpoint (damaged?): " + std::string(e.what()).substr(0, 200));
  }
}

}  // namespace

json history_json(const std::vector<EpochRecord>& h) {
  json a = json::array();
  for (auto& e : h)
    a.push_back({{"epoch", e.epoch},
                 {"phase", e.phase},
                 {"lr", e.lr},
                 {"train_loss", e.train_loss},
                 {"train_acc", e.train_acc},
                 {"val_loss", e.val_loss},
                 {"val_acc", e.val_acc},
                 {"val_score", e.val_score},
                 {"sparsity", e.sparsity},
                 {"seconds", e.seconds}});
  return a;
}

void save_checkpoint(const std::string& path, KwsNet& net, torch::optim::Optimizer& opt,
                     const TrainState& st, const std::string& config_text) {
  torch::serialize::OutputArchive ar;
  ar.write("version", torch::tensor(static_cast<int64_t>(kCheckpointVersion)));
  ar.write("config", c10::IValue(config_text));
  write_tensors(ar, "model", snapshot_state(*net));
  write_tensors(ar, "ema", st.ema);
  write_tensors(ar, "best", st.best);
  write_tensors(ar, "masks", st.masks);
  write_tensors(ar, "centroids", st.centroids);
  write_tensors(ar, "cbest_latent", st.cbest_latent);
  write_tensors(ar, "cbest_centroids", st.cbest_centroids);
  torch::serialize::OutputArchive oa;
  opt.save(oa);
  ar.write("optim", oa);
  json meta = {{"epoch_done", st.epoch_done},        {"step", st.step},
               {"best_epoch", st.best_epoch},        {"best_acc", st.best_acc},
               {"best_loss", st.best_loss},          {"cbest_epoch", st.cbest_epoch},
               {"cbest_acc", st.cbest_acc},          {"cbest_loss", st.cbest_loss},
               {"since_best", st.since_best},        {"early_stopped", st.early_stopped},
               {"history", history_json(st.history)}};
  ar.write("meta", c10::IValue(meta.dump()));
  // In memory, then atomically to disk with a clear error: libtorch's file writer ends the
  // process (std::terminate) when a write fails, e.g. on a full disk.
  std::ostringstream bytes;
  ar.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

std::vector<torch::Tensor> read_selected_weights(const std::string& path) {
  torch::serialize::InputArchive ar;
  open_checkpoint(path, ar);
  return read_tensors(ar, "best");
}

void load_checkpoint(const std::string& path, TrainState& st, std::vector<torch::Tensor>& model,
                     torch::serialize::InputArchive& optim, const std::string& config_text) {
  torch::serialize::InputArchive ar;
  open_checkpoint(path, ar);
  c10::IValue cfg, meta;
  ar.read("config", cfg);
  if (cfg.toStringRef() != config_text)
    throw InputError(path +
                     ": checkpoint was written with a different config; resume needs "
                     "the same config (and --seed/--epochs/--threads)");
  model = read_tensors(ar, "model");
  st.ema = read_tensors(ar, "ema");
  st.best = read_tensors(ar, "best");
  st.masks = read_tensors(ar, "masks");
  st.centroids = read_tensors(ar, "centroids");
  st.cbest_latent = read_tensors(ar, "cbest_latent");
  st.cbest_centroids = read_tensors(ar, "cbest_centroids");
  ar.read("optim", optim);
  ar.read("meta", meta);
  json m = json::parse(meta.toStringRef());
  st.epoch_done = m.at("epoch_done");
  st.step = m.at("step");
  st.best_epoch = m.at("best_epoch");
  st.best_acc = m.at("best_acc");
  st.best_loss = m.at("best_loss");
  st.cbest_epoch = m.at("cbest_epoch");
  st.cbest_acc = m.at("cbest_acc");
  st.cbest_loss = m.at("cbest_loss");
  st.since_best = m.at("since_best");
  st.early_stopped = m.at("early_stopped");
  st.history = history_from_json(m.at("history"));
}

}  // namespace tkws
