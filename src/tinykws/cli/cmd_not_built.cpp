// Built instead of cmd_train.cpp, cmd_quantize.cpp and cmd_search.cpp when tinykws is configured
// with -DTINYKWS_WITH_TRAINING=OFF (no libtorch): the commands stay listed, and running one says
// it is not part of this build (exit code 2).
#include <cstdio>

#include "tinykws/cli/commands.h"

namespace tkws::cli {

namespace {

Runner not_built(CLI::App& app) {
  app.description(app.get_description() + " [not built: TINYKWS_WITH_TRAINING=OFF]");
  app.allow_extras();
  app.prefix_command();  // accept any arguments: the command only reports that it is absent
  const std::string name = app.get_name();
  return [name] {
    std::fprintf(stderr,
                 "tinykws: error: '%s' is not built: this tinykws was configured with "
                 "-DTINYKWS_WITH_TRAINING=OFF (no libtorch); use a build with training\n",
                 name.c_str());
    return 2;
  };
}

}  // namespace

Runner add_train(CLI::App& app) {
  return not_built(app);
}
Runner add_quantize(CLI::App& app) {
  return not_built(app);
}
Runner add_search(CLI::App& app) {
  return not_built(app);
}

}  // namespace tkws::cli
