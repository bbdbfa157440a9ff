// surroundyou: turns songs into 8D audio. Thin main: arguments -> pipeline / service / worker.
#include <memory>

#include "cli/commands.h"
#include "cli/help_formatter.h"

int main(int argc, char** argv) {
  CLI::App app{"SurroundYou: turns a song into 8D audio that circles your head on headphones.\n"
               "Binaural rotation with measured HRTFs, bass kept centred, a room, loudness to -14 LUFS.",
               "surroundyou"};
  // Before the commands are added: each takes a copy of the app's formatter.
  app.formatter(std::make_shared<sy::cli::HelpFormatter>());
  app.set_version_flag("--version", std::string("surroundyou ") + SY_VERSION);
  app.require_subcommand(1);
  sy::cli::CommandContext ctx;
  sy::cli::add_render_command(app, ctx);
  sy::cli::add_probe_command(app, ctx);
  sy::cli::add_presets_command(app, ctx);
  sy::cli::add_serve_command(app, ctx);
  sy::cli::add_worker_command(app, ctx);
  // After the commands: CLI11 copies a footer set earlier into each, where it does not apply.
  app.footer("Run `surroundyou COMMAND --help` for the options of a command.\n"
             "Exit status: 0 success, 2 usage error, 3 input unreadable/unsupported/over a limit, 1 other failure, "
             "130 interrupted (Ctrl-C).");
  return sy::cli::run(app, ctx, argc, argv);
}
