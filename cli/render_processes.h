#pragma once
// Render processes from the configuration: the limits each render runs under, and the
// children `serve` supervises (this binary's `worker` command on the same settings).
#include <filesystem>
#include <string>

#include "service/config.h"
#include "worker/render_limits.h"
#include "worker/supervisor.h"

namespace sy::cli {

worker::RenderLimits render_limits(const service::Config& config);

// `count` children running `<this binary> worker --jobs 1` with serve's configuration file
// (if any) and environment, and serve's data directory.
worker::SupervisorOptions render_children(const service::Config& config,
                                          const std::string& config_file, int count);

}  // namespace sy::cli
