#include "worker/failure_text.h"

#include <stdexcept>

#include "base/errors.h"

namespace sy::worker {

std::string failure_text(AttemptStep step, const std::exception& error) {
  if (const auto* input = dynamic_cast<const base::InputError*>(&error)) return input->what();
  // What failed is the server's, not the file's; the next attempt may well succeed.
  switch (step) {
    case AttemptStep::kPreparing:
      return "the server could not prepare the render (an error on the server, not in the file)";
    case AttemptStep::kFetching:
      return "the server could not read the upload from its storage (an error on the server, not in the file)";
    case AttemptStep::kRendering:
      return "the render failed on the server (an error on the server, not in the file)";
    case AttemptStep::kStoring:
      return "the server could not store the result (an error on the server, not in the file)";
    case AttemptStep::kRecording:
      return "the server could not record the result (an error on the server, not in the file)";
  }
  return "the render failed on the server";
}

std::string settings_failure_text(const std::exception& error) {
  if (dynamic_cast<const std::invalid_argument*>(&error) != nullptr)
    return std::string("invalid settings: ") + error.what();
  return "the job's settings cannot be read";
}

}  // namespace sy::worker
