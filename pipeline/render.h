#pragma once
// decode -> fixed blocks -> 8D engine -> loudness -> limiter -> encode, streaming.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/settings.h"
#include "io/decoder.h"
#include "io/encoder.h"
#include "pipeline/excerpt.h"
#include "pipeline/file_report.h"

namespace sy::engine {
class BinauralFilterCache;
}

namespace sy::pipeline {

// kChecking: the delivered file is decoded and measured, and rendered again when the encoder
// moved its loudness or peaks off target.
enum class Stage { kOpening, kAnalysing, kRendering, kChecking, kFinishing, kDone };
// "opening", "analysing", "rendering", "checking", "finishing", "done"
std::string stage_name(Stage s);

struct RenderOptions {
  engine::EngineSettings engine;
  io::EncodeOptions encode;          // format/bitrate; sample_rate is filled in by the pipeline
  io::InputLimits limits;
  bool overwrite = false;       // replace an existing output
  bool keep_tail = false;        // let the room ring out instead of a short fade
  bool normalize = true;         // two-pass loudness normalisation + limiter
  bool gain_only = false;        // foundation mode: a plain gain stage instead of the engine
  std::size_t block_frames = 1024;
  std::string sofa_path;         // empty: the default HRTF set
  Excerpt excerpt;               // default: the whole song
  // Write the input's own container (encode.format is then only a default for the bit rate):
  // a video stays a video. Callers that name the output resolve it with output_format().
  bool keep_format = false;
  // Binaural filter designs shared with other renders of this process (not owned). A
  // process that renders more than once keeps one; null: this render designs its own.
  engine::BinauralFilterCache* filter_cache = nullptr;
};

struct Progress {
  Stage stage = Stage::kOpening;
  double fraction = 0;           // 0..1 over the whole render
  double seconds_done = 0;       // of audio, in the current pass
  double seconds_total = 0;      // of audio (estimate until decoded)
  double realtime_factor = 0;    // audio seconds per wall second so far
  double eta_seconds = -1;       // -1 when unknown
};
using ProgressFn = std::function<void(const Progress&)>;

struct RenderResult {
  std::int64_t frames = 0;       // written to the output
  int sample_rate = 0;
  double duration_seconds = 0;
  double input_lufs = 0;         // loudness of the rendered 8D mix before normalisation
  double output_gain_db = 0;     // gain applied to reach the target
  double wall_seconds = 0;
  std::int64_t bytes = 0;        // output file size
  std::vector<std::string> warnings;  // what was left out of the input (an oversized cover, ...) or
                                      // not there (a trim's end past the song's)
  double tempo_bpm = 0;          // with beat sync: the song's tempo as found (or given); else 0
  std::string motion_note;       // why the motion is not what was asked, e.g. no clear beat
  double excerpt_start_seconds = 0;  // where the excerpt began in the song (0: the start)
  int encodes = 0;               // of the whole song (not the pilot): 1, or more when the delivered file was off target
  FileReport report;             // measured on the delivered file
};

// Renders `input` into `output`. Writes to a temporary file beside `output` and renames it
// only on success; on any failure or cancellation nothing is left behind. For a lossy format
// a few seconds of the loudest part are encoded first (the pilot) and the gain and ceiling
// make up for what the encoder does to loudness and peaks, so the song is encoded once. The
// encoded file is decoded again and measured (RenderResult::report); with normalisation on,
// when it still missed the loudness target by more than 0.2 LU or went over the true-peak
// ceiling, the final pass runs again with the gain and ceiling corrected by what was measured.
// Throws base::InputError (bad input, exit 3), base::Cancelled, or std::runtime_error.
// The format `input` is written in: encode.format, or with keep_format the input's own
// container (io::kept_format); an excerpt of a video is audio (M4A), as the picture is not cut.
io::OutputFormat output_format(const std::string& input, const RenderOptions& options);

RenderResult render_file(const std::string& input, const std::string& output,
                         const RenderOptions& options, const ProgressFn& progress = {},
                         const std::atomic<bool>* cancel = nullptr);

}  // namespace sy::pipeline
