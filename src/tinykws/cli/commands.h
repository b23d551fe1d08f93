// `tinykws` subcommands. Each registers its flags on a CLI11 subcommand and returns the
// function that runs it. Flags map one to one onto config/option struct fields.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace tkws::cli {

using Runner = std::function<int()>;

Runner add_train(CLI::App& app);
Runner add_eval(CLI::App& app);
Runner add_predict(CLI::App& app);
Runner add_features(CLI::App& app);
Runner add_info(CLI::App& app);
Runner add_report(CLI::App& app);       // cmd_report.cpp
Runner add_search(CLI::App& app);       // cmd_search.cpp (with `search merge`)
Runner add_quantize(CLI::App& app);     // cmd_quantize.cpp
Runner add_listen(CLI::App& app);       // cmd_listen.cpp
Runner add_stream_eval(CLI::App& app);  // cmd_stream_eval.cpp
Runner add_make_stream(CLI::App& app);  // cmd_make_stream.cpp
Runner add_export(CLI::App& app);       // cmd_export.cpp

// The default data folders: $TINYKWS_DATA (folders separated by ':'), else every folder of
// ../shared/data/{speech_commands_updown,speech_commands_others} that exists (looked for from
// the current folder, then from the source tree), else none (the command then asks for --data).
std::vector<std::string> default_data_dirs();
// `given` (repeated --data) when not empty, else default_data_dirs(); InputError when none.
std::vector<std::string> require_data_dirs(const std::vector<std::string>& given);
// Registers a repeatable --data option on `app`.
CLI::Option* add_data_option(CLI::App& app, std::vector<std::string>& dirs);

}  // namespace tkws::cli
