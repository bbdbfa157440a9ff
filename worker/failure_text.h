#pragma once
// What a job's `error` says when an attempt fails. Clients read it (the job's JSON, its event
// stream, the page), so it is a sentence for the person who sent the song: never an
// exception's own text, which can carry the server's paths, SQL, a database's or the store's
// host and key names. The detail goes to the log under the job id instead (issue 11).
#include <exception>
#include <string>

namespace sy::worker {

// Where in an attempt the failure happened: it decides the sentence.
enum class AttemptStep {
  kPreparing,  // the scratch folder, the job's settings
  kFetching,   // the upload from the store
  kRendering,  // decode, render, encode, check (progress reports to the queue included)
  kStoring,    // the result to the store
  kRecording,  // the outcome to the queue
};

// The sentence for a failure at `step`: the text of base::InputError as it is (written for
// users, about the file), a fixed sentence for anything else.
std::string failure_text(AttemptStep step, const std::exception& error);

// The invalid settings a worker found (the API checks them first; a job queued by an older
// version may still carry one): the schema's own text, which names the setting.
std::string settings_failure_text(const std::exception& error);

}  // namespace sy::worker
