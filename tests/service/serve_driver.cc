// `serve` and `worker` alone, for the service tests: the same commands the surroundyou binary
// registers (serve's render children run this binary's `worker`), without waiting for the
// rest of the CLI.
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"surroundyou serve and worker (test driver)", "surroundyou"};
  app.require_subcommand(1);
  sy::cli::CommandContext ctx;
  sy::cli::add_serve_command(app, ctx);
  sy::cli::add_worker_command(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return ctx.exit_code;
}
