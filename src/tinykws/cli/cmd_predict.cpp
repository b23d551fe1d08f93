#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "tinykws/audio/wav.h"
#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"

namespace tkws::cli {

Runner add_predict(CLI::App& app) {
  struct Args {
    std::string model;
    std::vector<std::string> files;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->model, "Model file (.tkws)")->required();
  app.add_flag("--json", a->json, "Print a JSON array instead of text");
  app.add_option("files", a->files, "WAV files")->required();
  return [a] {
    Model m = read_model(a->model);
    KwsPipeline pipe;
    if (auto s = pipe.create(m); !s.ok())
      throw InputError(a->model + ": the runtime cannot run this model: " + s.message);
    nlohmann::json out = nlohmann::json::array();
    std::vector<float> probs(m.labels.size());
    std::string failures;
    for (const auto& f : a->files) {
      std::vector<float> clip;
      try {
        clip = read_audio(f, m.frontend.sample_rate);
      } catch (const InputError& e) {
        failures += std::string("\n  ") + e.what();
        continue;
      }
      fit_length(clip, m.frontend.clip_samples);
      if (auto s = pipe.run(clip.data(), probs.data()); !s.ok())
        throw std::runtime_error(f + ": inference failed: " + s.message);
      int best = static_cast<int>(std::max_element(probs.begin(), probs.end()) - probs.begin());
      if (a->json) {
        nlohmann::json p;
        for (size_t i = 0; i < probs.size(); ++i) p[m.labels[i]] = probs[i];
        out.push_back({{"file", f},
                       {"label", m.labels[best]},
                       {"probability", probs[best]},
                       {"probabilities", p}});
      } else {
        std::printf("%s\t%s\t%.4f\n", f.c_str(), m.labels[best].c_str(), probs[best]);
      }
    }
    if (a->json) std::printf("%s\n", out.dump(2).c_str());
    if (!failures.empty()) throw InputError("some files could not be read:" + failures);
    return 0;
  };
}

}  // namespace tkws::cli
