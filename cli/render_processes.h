#pragma once
// Render processes from the configuration: the limits each render runs under, the children
// `serve` supervises (this binary's `worker` command on the same settings), and where every
// rendering process keeps FFTW's measured plans.
#include <filesystem>
#include <string>

#include "service/config.h"
#include "worker/render_limits.h"
#include "worker/supervisor.h"

namespace sy::cli {

// Where FFTW's measured plans are kept between runs: $SY_CACHE_DIR (empty: nowhere), else
// $XDG_CACHE_HOME/surroundyou, else ~/.cache/surroundyou; empty when there is no such place.
// The CLI and the render workers share the file: a worker that starts after any render on
// the machine plans its transforms from it instead of measuring them again (≈0.4 G
// instructions per process).
std::string fftw_wisdom_path();

// Where designed binaural filters are kept between runs (engine/filter_store.h): a folder
// beside the wisdom file, shared the same way (≈1.5 G instructions per process and setting
// saved); empty when there is no such place.
std::string filter_store_dir();

worker::RenderLimits render_limits(const service::Config& config);

// `count` children running `<this binary> worker --jobs 1` with serve's configuration file
// (if any) and environment, and serve's data directory.
worker::SupervisorOptions render_children(const service::Config& config,
                                          const std::string& config_file, int count);

}  // namespace sy::cli
