#include "engine/filter_store.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/log.h"
#include "engine/crossover.h"
#include "engine/spherical_harmonics.h"

namespace sy::engine {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'S', 'Y', 'B', 'F', 'I', 'L', 'T', '2'};
// Far above any real design (16 channels of 512 frames, a dozen sections): a damaged length
// field must not size an allocation.
constexpr std::uint64_t kMaxChannels = 64;
constexpr std::uint64_t kMaxValues = 1 << 20;
constexpr std::uint64_t kMaxKeyBytes = 1 << 16;
// Each rebuild or upgrade of the program keys new files; past this many the oldest go.
constexpr std::size_t kMaxStoredFiles = 32;
// The longest filter a design makes is BinauralDecoderDesign::max_length (512 by default);
// a stored one longer than this is not ours.
constexpr std::size_t kMaxFilterFrames = 1 << 14;
// A half-written file of a process killed mid-store is removed once it is this old.
constexpr auto kStaleTemporary = std::chrono::minutes(10);

// "<size> <modification time in ns>", or empty when the file cannot be read.
std::string file_identity(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return {};
  const auto time = fs::last_write_time(path, ec);
  if (ec) return {};
  return std::to_string(size) + " " + std::to_string(time.time_since_epoch().count());
}

std::string file_name(const std::string& key) {
  std::ostringstream name;
  name << std::hex << std::hash<std::string>{}(key) << ".filters";
  return name.str();
}

class Writer {
 public:
  explicit Writer(std::ostream& out) : out_(out) {}
  template <typename T>
  void value(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.write(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <typename T>
  void values(const std::vector<T>& v) {
    value<std::uint64_t>(v.size());
    out_.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  }

 private:
  std::ostream& out_;
};

class Reader {
 public:
  explicit Reader(std::istream& in) : in_(in) {}
  template <typename T>
  bool value(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    return static_cast<bool>(in_.read(reinterpret_cast<char*>(&v), sizeof v));
  }
  template <typename T>
  bool values(std::vector<T>& v, std::uint64_t max) {
    std::uint64_t n = 0;
    if (!value(n) || n > max) return false;
    v.resize(n);
    return static_cast<bool>(in_.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T))));
  }
  bool at_end() { return in_.peek() == std::char_traits<char>::eof(); }

 private:
  std::istream& in_;
};

// Removes the least recently written files past kMaxStoredFiles (other processes may be
// doing the same: a file already gone is fine).
void prune(const fs::path& dir) {
  std::error_code ec;
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  const auto now = fs::file_time_type::clock::now();
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    std::error_code entry_ec;
    const auto time = it->last_write_time(entry_ec);
    if (entry_ec) continue;
    if (path.filename().string().find(".filters.tmp.") != std::string::npos) {
      if (now - time > kStaleTemporary) fs::remove(path, entry_ec);
      continue;
    }
    if (path.extension() == ".filters") files.emplace_back(time, path);
  }
  if (files.size() <= kMaxStoredFiles) return;
  std::sort(files.begin(), files.end());
  for (std::size_t i = 0; i + kMaxStoredFiles < files.size(); ++i) fs::remove(files[i].second, ec);
}

}  // namespace

std::string stored_filters_key(const std::string& sofa_path, double sample_rate, const BinauralDecoderDesign& design) {
  const std::string program = file_identity("/proc/self/exe");
  const std::string hrtf = file_identity(sofa_path);
  if (program.empty() || hrtf.empty()) return {};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  // A structured binding names every member: a field added to the design breaks this line
  // until the key holds it too.
  const auto& [basis, horizontal_speakers, sphere_speakers, max_re, magnitude_fit_hz, magnitude_fit_floor,
               diffuse_coherence, orbit_elevation_degrees, orbit_weight, level_match_low_hz, level_match_high_hz,
               max_length, diffuse_field_eq, equal_loudness, side_balance, pair_width_degrees, crossover_hz] = design;
  std::ostringstream key;
  key.precision(17);
  key << "program " << exe.string() << ' ' << program << "\nhrtf " << sofa_path << ' ' << hrtf << "\nrate "
      << sample_rate << "\ndesign " << static_cast<int>(basis) << ' ' << horizontal_speakers << ' '
      << sphere_speakers << ' ' << max_re << ' ' << magnitude_fit_hz << ' ' << magnitude_fit_floor << ' '
      << diffuse_coherence << ' ' << orbit_elevation_degrees << ' ' << orbit_weight << ' '
      << level_match_low_hz << ' ' << level_match_high_hz << ' ' << max_length << ' ' << diffuse_field_eq << ' '
      << equal_loudness << ' ' << side_balance << ' ' << pair_width_degrees << ' ' << crossover_hz << '\n';
  return key.str();
}

namespace {

bool finite(double v) { return std::isfinite(v); }

// What the renderer sizes buffers and loops from: a stored file that passed the key check
// may still be damaged (no checksum guards its values) or written by a process that was
// not ours, so every value is checked against what a design can produce.
bool plausible(const BinauralFilters& f) {
  if (f.channel_filters.empty()) return false;
  const std::size_t length = f.channel_filters.front().size();
  if (length == 0 || length > kMaxFilterFrames) return false;
  for (const auto& filter : f.channel_filters) {
    if (filter.size() != length) return false;
    if (!std::all_of(filter.begin(), filter.end(), [](float v) { return finite(v); })) return false;
  }
  if (f.low_frequency_delay >= length || f.arrival_delay >= length) return false;
  if (!finite(f.bass_gain) || std::abs(f.bass_gain) > 100.0f) return false;
  if (f.loudness_correction.size() != f.channel_filters.size() ||
      !std::all_of(f.loudness_correction.begin(), f.loudness_correction.end(), [](float v) { return finite(v); }))
    return false;
  if (!f.side_gain.empty() && f.side_gain.size() != f.channel_filters.size()) return false;
  if (!std::all_of(f.side_gain.begin(), f.side_gain.end(), [](float v) { return finite(v) && std::abs(v) < 100.0f; }))
    return false;
  if (f.side_equaliser.size() > MidSideCrossover::kMaxSideSections) return false;
  return std::all_of(f.side_equaliser.begin(), f.side_equaliser.end(), [](const Biquad& b) {
    return finite(b.b0) && finite(b.b1) && finite(b.b2) && finite(b.a1) && finite(b.a2) && finite(b.z1) &&
           finite(b.z2);
  });
}

}  // namespace

std::optional<BinauralFilters> load_stored_filters(const std::string& dir, const std::string& key) {
  if (dir.empty() || key.empty()) return std::nullopt;
  std::ifstream in(fs::path(dir) / file_name(key), std::ios::binary);
  if (!in) return std::nullopt;
  Reader r(in);
  char magic[sizeof kMagic];
  if (!in.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof magic) != 0) return std::nullopt;
  std::vector<char> stored_key;
  if (!r.values(stored_key, kMaxKeyBytes) || std::string(stored_key.begin(), stored_key.end()) != key)
    return std::nullopt;
  BinauralFilters f;
  std::int32_t basis = 0;
  std::uint64_t channels = 0, low_delay = 0, arrival = 0;
  if (!r.value(basis) || (basis != static_cast<int>(AmbisonicBasis::kHorizontal) &&
                          basis != static_cast<int>(AmbisonicBasis::kSphere)))
    return std::nullopt;
  f.basis = static_cast<AmbisonicBasis>(basis);
  if (!r.value(channels) || channels != ambisonic_channels(f.basis) || channels > kMaxChannels) return std::nullopt;
  f.channel_filters.resize(channels);
  for (auto& filter : f.channel_filters)
    if (!r.values(filter, kMaxValues)) return std::nullopt;
  if (!r.value(low_delay) || !r.value(arrival) || !r.value(f.bass_gain)) return std::nullopt;
  f.low_frequency_delay = low_delay;
  f.arrival_delay = arrival;
  if (!r.values(f.loudness_correction, kMaxValues) || !r.values(f.side_gain, kMaxValues) ||
      !r.values(f.side_equaliser, kMaxValues) || !r.at_end())
    return std::nullopt;
  if (!plausible(f)) return std::nullopt;
  return f;
}

void store_filters(const std::string& dir, const std::string& key, const BinauralFilters& f) {
  if (dir.empty() || key.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path path = fs::path(dir) / file_name(key);
  // Unique per process and thread: two processes storing the same design at once each
  // rename a whole file into place.
  std::ostringstream tmp_name;
  tmp_name << path.filename().string() << ".tmp." << ::getpid() << '.'
           << std::hash<std::thread::id>{}(std::this_thread::get_id());
  const fs::path tmp = fs::path(dir) / tmp_name.str();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    Writer w(out);
    out.write(kMagic, sizeof kMagic);
    w.values(std::vector<char>(key.begin(), key.end()));
    w.value<std::int32_t>(static_cast<int>(f.basis));
    w.value<std::uint64_t>(f.channel_filters.size());
    for (const auto& filter : f.channel_filters) w.values(filter);
    w.value<std::uint64_t>(f.low_frequency_delay);
    w.value<std::uint64_t>(f.arrival_delay);
    w.value(f.bass_gain);
    w.values(f.loudness_correction);
    w.values(f.side_gain);
    w.values(f.side_equaliser);
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      base::log::warn("cannot keep the designed filters", {{"folder", dir}});
      return;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    base::log::warn("cannot keep the designed filters", {{"folder", dir}, {"error", ec.message()}});
    return;
  }
  prune(dir);
}

}  // namespace sy::engine
