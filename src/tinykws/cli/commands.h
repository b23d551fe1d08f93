// `tinykws` subcommands. Each registers its flags on a CLI11 subcommand and returns the
// function that runs it. Flags map one to one onto config/option struct fields.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace tkws::cli {

using Runner = std::function<int()>;

Runner add_train(CLI::App& app);
Runner add_eval(CLI::App& app);
Runner add_predict(CLI::App& app);
Runner add_features(CLI::App& app);
Runner add_info(CLI::App& app);
Runner add_report(CLI::App& app);    // cmd_report.cpp
Runner add_search(CLI::App& app);    // cmd_search.cpp (with `search merge`)
Runner add_quantize(CLI::App& app);  // cmd_quantize.cpp
Runner add_export(CLI::App& app);    // cmd_export.cpp

// $TINYKWS_DATA, else ../shared/data/speech_commands_updown (from the current folder, then
// from the source tree) when it exists, else "" (the command then asks for --data).
std::string default_data_dir();
std::string require_data_dir(const std::string& given);  // InputError when none is known

}  // namespace tkws::cli
