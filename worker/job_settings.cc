#include "worker/job_settings.h"

#include "pipeline/settings_schema.h"

namespace sy::worker {

JobSettings parse_job_settings(const nlohmann::json& settings, const io::InputLimits& limits) {
  JobSettings out;
  out.normalized = pipeline::apply_settings(settings, pipeline::SettingNames::kJson, &out.options);
  out.options.limits = limits;
  out.format = io::format_name(out.options.encode.format);
  return out;
}

}  // namespace sy::worker
