// `serve` and `worker` alone, for the service tests: the same commands the surroundyou binary
// registers (serve's render children run this binary's `worker`), without waiting for the
// rest of the CLI.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

int main(int argc, char** argv) {
  // A server under a small open-file limit it cannot raise (the connection-limit tests):
  // soft and hard set before serve starts, as a constrained host would.
  if (const char* n = std::getenv("SY_TEST_OPEN_FILES")) {
    const rlimit limit{std::strtoul(n, nullptr, 10), std::strtoul(n, nullptr, 10)};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) std::perror("setrlimit");
  }
  CLI::App app{"surroundyou serve and worker (test driver)", "surroundyou"};
  app.require_subcommand(1);
  sy::cli::CommandContext ctx;
  sy::cli::add_serve_command(app, ctx);
  sy::cli::add_worker_command(app, ctx);
  return sy::cli::run(app, ctx, argc, argv);
}
