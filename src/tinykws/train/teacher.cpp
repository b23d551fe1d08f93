// Knowledge distillation: the teacher phase of a run (run_state.h) and the teacher's soft
// targets for the student's batches.
#include <filesystem>

#include "tinykws/common/error.h"
#include "tinykws/format/tkws.h"
#include "tinykws/train/run_state.h"

namespace fs = std::filesystem;

namespace tkws {

void prepare_teacher(TrainRun& r) {
  const Config& cfg = r.cfg;
  if (!cfg.distill.enabled) return;
  std::string tpath;
  if (cfg.distill.teacher == "self") {  // a wider copy of this config, without compression
    Config tcfg = cfg;
    tcfg.distill = DistillConfig{};
    tcfg.prune = PruneConfig{};
    tcfg.cluster = ClusterConfig{};
    tcfg.quantize = QuantizeConfig{};
    tcfg.model.width_multiplier *= cfg.distill.teacher_width;
    tcfg.text = cfg.text + "\n# distillation teacher of this config\n";
    TrainOptions topt = r.opt;
    topt.out_dir = (fs::path(r.opt.out_dir) / "teacher").string();
    topt.stop_after_epoch = 0;
    r.progress.message("distillation: training the teacher in " + topt.out_dir);
    train_model(tcfg, topt);
    tpath = (fs::path(topt.out_dir) / "model.tkws").string();
    r.teacher.checkpoint = (fs::path(topt.out_dir) / "checkpoint.pt").string();
  } else {
    fs::path p(cfg.distill.teacher);
    tpath = p.is_absolute() ? p.string() : (fs::path(cfg.source).parent_path() / p).string();
  }
  Model tm = read_model(tpath);
  if (tm.labels != r.data->plan.labels || !(tm.frontend == cfg.frontend))
    throw InputError(tpath + ": the teacher's front end or labels differ from this config's");
  r.teacher.pipeline = std::make_unique<KwsPipeline>();
  if (auto s = r.teacher.pipeline->create(tm); !s.ok())
    throw InputError(tpath + ": the runtime cannot run the teacher: " + s.message);
  r.teacher.mean = tm.norm_mean;
  r.teacher.inv_std = tm.norm_inv_std;
}

torch::Tensor teacher_probs(TrainRun& r, const torch::Tensor& xb) {
  const TrainData& d = *r.data;
  const FeatureStats& stats = d.stats;
  const size_t per = d.per;
  Teacher& t = r.teacher;
  t.input.resize(per);
  auto x = xb.contiguous();
  const int64_t B = x.size(0);
  auto out = torch::empty({B, static_cast<int64_t>(d.plan.labels.size())});
  const float* px = x.data_ptr<float>();
  for (int64_t i = 0; i < B; ++i) {
    // Back to raw features (student normalisation undone), then the teacher's normalisation.
    for (size_t j = 0; j < per; ++j) {
      size_t k = j % d.coeffs;
      float raw = r.cfg.train.normalize ? px[i * per + j] / stats.inv_std[k] + stats.mean[k]
                                        : px[i * per + j];
      t.input[j] = t.mean.empty() ? raw : (raw - t.mean[k]) * t.inv_std[k];
    }
    t.pipeline->network(t.input.data(), out[i].data_ptr<float>());
  }
  return out;
}

}  // namespace tkws
