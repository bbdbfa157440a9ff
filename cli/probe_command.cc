#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "io/decoder.h"
#include "base/errors.h"
#include "base/sizes.h"

namespace sy::cli {

namespace {

std::string human_bytes(std::int64_t b) {
  char buf[32];
  if (b >= 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(b) / (1024.0 * 1024.0));
  else if (b >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(b) / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(b));
  return buf;
}

std::string duration_text(double s) {
  if (!(s > 0)) return "unknown";
  const long total = static_cast<long>(s);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%ld:%02ld.%01ld (%.3f s)", total / 60, total % 60,
                static_cast<long>((s - static_cast<double>(total)) * 10), s);
  return buf;
}

}  // namespace

void add_probe_command(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("probe", "Print what an audio file holds: format, codec, rate, length, tags, cover");
  struct Args {
    std::string input;
    bool json = false;
    std::string max_size = "200M";
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("INPUT", args->input, "Audio file to inspect")->required();
  cmd->add_flag("--json", args->json, "Print JSON for machines");
  // As render's --max-size: a size people write, not only a count of bytes.
  cmd->add_option("--max-size", args->max_size,
                  "Refuse files larger than this: 200M (the default), 1.5G, 512k (1k = 1024 bytes) or bytes")
      ->option_text("SIZE");
  cmd->footer("Exit status: 0 success, 2 usage error, 3 input unreadable, unsupported or over a limit, 1 other failure.");
  cmd->callback([args, &ctx] {
    const std::optional<std::int64_t> max_size = base::parse_size(args->max_size);
    if (!max_size) {
      std::fprintf(stderr, "error: --max-size must be a size like 200M or 1.5G (got '%s')\n", args->max_size.c_str());
      ctx.exit_code = kExitUsage;
      return;
    }
    try {
      io::InputLimits limits;
      limits.max_bytes = *max_size;
      io::AudioInfo info = io::probe(args->input, limits);
      for (const std::string& w : info.warnings) std::fprintf(stderr, "warning: %s (%s)\n", w.c_str(), args->input.c_str());
      if (args->json) {
        nlohmann::json tags = nlohmann::json::object();
        for (const auto& [k, v] : info.metadata.tags) tags[k] = v;
        nlohmann::json j = {{"path", info.path},
                            {"container", info.container},
                            {"codec", info.codec},
                            {"sample_rate", info.sample_rate},
                            {"channels", info.channels},
                            {"channel_layout", info.channel_layout},
                            {"duration_seconds", info.duration_seconds},
                            {"bit_rate", info.bit_rate},
                            {"file_size", info.file_size},
                            {"tags", tags}};
        if (!info.metadata.cover.empty())
          j["cover_art"] = {{"mime", info.metadata.cover.mime}, {"bytes", info.metadata.cover.data.size()}};
        else
          j["cover_art"] = nullptr;
        std::printf("%s\n", j.dump(2).c_str());
      } else {
        std::printf("file:       %s (%s)\n", info.path.c_str(), human_bytes(info.file_size).c_str());
        std::printf("container:  %s\n", info.container.c_str());
        std::printf("audio:      %s, %d Hz, %d channel%s%s%s\n", info.codec.c_str(), info.sample_rate, info.channels,
                    info.channels == 1 ? "" : "s", info.channel_layout.empty() ? "" : " ",
                    info.channel_layout.empty() ? "" : ("(" + info.channel_layout + ")").c_str());
        std::printf("duration:   %s\n", duration_text(info.duration_seconds).c_str());
        if (info.bit_rate > 0) std::printf("bit rate:   %.0f kbit/s\n", static_cast<double>(info.bit_rate) / 1000.0);
        for (const auto& [k, v] : info.metadata.tags) std::printf("%-11s %s\n", (k + ":").c_str(), v.c_str());
        if (!info.metadata.cover.empty())
          std::printf("cover art:  %s, %s\n", info.metadata.cover.mime.c_str(),
                      human_bytes(static_cast<std::int64_t>(info.metadata.cover.data.size())).c_str());
      }
      ctx.exit_code = kExitOk;
    } catch (const base::InputError& e) {
      std::fprintf(stderr, "error: %s (%s)\n", e.what(), args->input.c_str());
      ctx.exit_code = kExitBadInput;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s (%s)\n", e.what(), args->input.c_str());
      ctx.exit_code = kExitFailure;
    }
  });
}

}  // namespace sy::cli
