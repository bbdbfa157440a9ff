#pragma once
// What a finished file sounds like, measured on the delivered file itself (decoded again after
// encoding): what the CLI prints after each file and the API returns as `result.report`.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/audio_view.h"
#include "engine/settings.h"
#include "io/encoder.h"

namespace sy::engine {
class LoudnessMeter;
}

namespace sy::pipeline {

struct FileReport {
  double integrated_lufs = 0;    // EBU R128; -inf for silence
  double true_peak_dbtp = 0;     // 4x oversampled, both channels; -inf for silence
  double loudness_range_lu = 0;  // EBU Tech 3342
  // Left against right over the whole file (Pearson): 1 mono, 0 unrelated, below 0 the
  // channels cancel when summed to mono.
  double correlation = 0;
  // How far the sound swings between the ears: the spread (5th to 95th percentile) of the
  // level difference between left and right above 1.5 kHz, where the head shadows, in 50 ms
  // windows. A plain stereo mix reads a few dB; a source circling the head, 10 dB and more.
  double rotation_depth_db = 0;
};

// Accumulates a FileReport from audio handed over in blocks of any size. Memory is fixed
// (histograms, not lists), so any length of song can be measured.
class ReportMeter {
 public:
  explicit ReportMeter(int sample_rate);
  ~ReportMeter();
  ReportMeter(const ReportMeter&) = delete;
  ReportMeter& operator=(const ReportMeter&) = delete;

  void add(engine::ConstAudioView audio);
  FileReport report() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Measures a file while an io::Encoder writes it, from the encoder's own packets decoded on
// the encoder's thread for it: give listener() to io::Encoder::open, read report() after the
// encoder's finish(). The numbers measure_file() reads from the finished file.
class WrittenFileMeter {
 public:
  io::DecodedAudioFn listener();
  // Throws std::runtime_error when no audio came back.
  FileReport report() const;

 private:
  std::unique_ptr<ReportMeter> meter_;  // made at the first audio: its rate comes with it
};

// Decodes `path` (a file we wrote: no size or length limit) and measures it. Throws
// std::runtime_error when it cannot be read back.
FileReport measure_file(const std::string& path);

// {integrated_lufs, true_peak_dbtp, loudness_range_lu, correlation, rotation_depth_db} for
// the CLI (kFlag), {integratedLufs, truePeakDbtp, loudnessRange, correlation, rotationDepthDb}
// for the API (kJson); rounded to what a person reads, null where silence has no value.
nlohmann::json report_json(const FileReport& report, engine::SettingNames names);

}  // namespace sy::pipeline
