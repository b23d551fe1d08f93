#include <cstdio>
#include <memory>

#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"
#include "tinykws/config/config.h"
#include "tinykws/train/trainer.h"

namespace tkws::cli {

Runner add_train(CLI::App& app) {
  struct Args {
    std::string config, out;
    std::vector<std::string> data;
    int64_t seed = -1;
    int epochs = 0, threads = 0, io_threads = 0;
    bool resume = false, quiet = false, show_defaults = false, show_config = false;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--config", a->config, "Config file (TOML), e.g. configs/default.toml");
  add_data_option(app, a->data);
  app.add_option("--out", a->out, "Run folder: model.tkws, metrics.json, checkpoint.pt");
  app.add_option("--seed", a->seed, "Override train.seed")->check(CLI::NonNegativeNumber);
  app.add_option("--epochs", a->epochs, "Override train.epochs")->check(CLI::PositiveNumber);
  app.add_option("--threads", a->threads, "Override train.threads (torch intra-op threads)")
      ->check(CLI::Range(1, 256));
  app.add_option("--io-threads", a->io_threads, "Clip loading / feature workers (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--resume", a->resume, "Continue a killed run from OUT/checkpoint.pt");
  app.add_flag("--quiet", a->quiet, "No progress output");
  app.add_flag("--print-defaults", a->show_defaults, "Print every config setting's default");
  app.add_flag("--print-config", a->show_config,
               "Print --config with its base configs merged (what the run records), then exit");
  return [a] {
    if (a->show_defaults) {
      std::fputs(config_defaults_toml().c_str(), stdout);
      return 0;
    }
    if (a->config.empty()) throw InputError("train: --config FILE.toml is required");
    if (a->show_config) {
      const std::string text = resolve_config_text(a->config);
      parse_config(text, a->config);  // the same checks as a run
      std::fputs(text.c_str(), stdout);
      return 0;
    }
    if (a->out.empty()) throw InputError("train: --out DIR is required");
    Config cfg = load_config(a->config);
    if (a->seed >= 0) cfg.train.seed = static_cast<uint64_t>(a->seed);
    if (a->epochs > 0) cfg.train.epochs = a->epochs;
    if (a->threads > 0) cfg.train.threads = a->threads;
    cfg.validate();
    TrainOptions opt;
    opt.data_dirs = require_data_dirs(a->data);
    opt.out_dir = a->out;
    opt.resume = a->resume;
    opt.progress = !a->quiet;
    opt.io_threads = a->io_threads;
    TrainResult r = train_model(cfg, opt);
    std::printf("%s/model.tkws: validation accuracy %.2f %% (epoch %d), %zu bytes, %.1f s\n",
                a->out.c_str(), 100.0 * r.runtime_val_acc, r.best_epoch, r.model_bytes, r.seconds);
    return 0;
  };
}

}  // namespace tkws::cli
