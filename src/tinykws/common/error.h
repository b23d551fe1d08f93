// Host-side error tiers (docs/architecture.md: runtime code returns a Status and never throws).
//  - InputError: the user's input is wrong (bad file, bad config value, unknown label).
//    The CLI prints the message and exits with code 2.
//  - std::runtime_error (or anything else): a failure while doing valid work. Exit code 1.
#pragma once
#include <stdexcept>
#include <string>

namespace tkws {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace tkws
