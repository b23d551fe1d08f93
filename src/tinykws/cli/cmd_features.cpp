#include <memory>

#include "tinykws/audio/wav.h"
#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"
#include "tinykws/common/npy.h"
#include "tinykws/config/config.h"
#include "tinykws/format/tkws.h"
#include "tinykws/frontend/frontend.h"

namespace tkws::cli {

Runner add_features(CLI::App& app) {
  struct Args {
    std::string config, model, wav, out;
    bool normalized = false;
  };
  auto a = std::make_shared<Args>();
  auto* c = app.add_option("--config", a->config, "Take the front end from this config");
  auto* m = app.add_option("--model", a->model, "Take the front end from this model file");
  c->excludes(m);
  app.add_option("wav", a->wav, "Input clip (WAV)")->required();
  app.add_option("--out", a->out, "Output .npy file: float32 [frames][features]")->required();
  app.add_flag("--normalized", a->normalized,
               "Apply the model's feature normalisation (what the network sees; --model only)");
  return [a] {
    if (a->config.empty() == a->model.empty())
      throw InputError("features: give exactly one of --config or --model");
    FrontendConfig fe;
    std::vector<float> mean, inv_std;
    if (!a->config.empty()) {
      if (a->normalized) throw InputError("features: --normalized needs --model");
      fe = load_config(a->config).frontend;
    } else {
      Model model = read_model(a->model);
      fe = model.frontend;
      if (a->normalized) mean = model.norm_mean, inv_std = model.norm_inv_std;
    }
    std::vector<float> clip = read_audio(a->wav, fe.sample_rate);
    fit_length(clip, fe.clip_samples);
    Frontend front(fe);
    std::vector<float> feats(static_cast<size_t>(front.num_frames()) * front.num_features());
    front.compute(clip.data(), feats.data());
    const int k = front.num_features();
    if (!mean.empty())
      for (size_t i = 0; i < feats.size(); ++i)
        feats[i] = (feats[i] - mean[i % k]) * inv_std[i % k];
    write_npy(a->out, feats.data(),
              {static_cast<size_t>(front.num_frames()), static_cast<size_t>(k)});
    return 0;
  };
}

}  // namespace tkws::cli
