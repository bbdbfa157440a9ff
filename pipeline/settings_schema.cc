#include "pipeline/settings_schema.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "base/errors.h"
#include "io/encoder.h"

namespace sy::pipeline {
namespace {

std::string number_text(double v) {
  std::ostringstream out;
  out << std::setprecision(12) << v;
  return out.str();
}

std::string list_text(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const engine::Preset& p : engine::presets()) names.push_back(p.name);
  return names;
}

// "keep": the input's own container, decided when the file is read (a video stays a video).
constexpr std::string_view kKeepFormat = "keep";

std::vector<std::string> format_names() {
  std::vector<std::string> names;
  for (const io::FormatInfo& f : io::output_formats()) names.emplace_back(f.name);
  names.emplace_back(kKeepFormat);
  return names;
}

std::vector<SettingSpec> make_specs() {
  std::vector<SettingSpec> rows;
  rows.push_back({SettingKind::kPreset, "preset", "--preset", "sound", "",
                  "Starting point of the sound; every other sound setting overrides one of its values."});
  for (const engine::EngineSettingSpec& e : engine::engine_setting_specs()) {
    SettingSpec row{e.is_curve() ? SettingKind::kCurve : SettingKind::kEngine, e.json, e.flag, "sound", e.unit, e.help, &e};
    row.api = e.json != "seed";  // a CLI option for reproducing the legacy path exactly
    rows.push_back(row);
  }
  rows.push_back({SettingKind::kFormat, "format", "--format", "encoding", "",
                  "Output format (the CLI takes it from -o's extension when not given); keep writes "
                  "the input's own container, so a video stays a video with its picture copied. aac, wave and "
                  "matroska are other names for m4a, wav and mkv; opus is Opus in an Ogg file (no Ogg Vorbis)."});
  rows.push_back({SettingKind::kBitrate, "bitrate", "--bitrate", "encoding", "bit/s",
                  "Bit rate of lossy formats, e.g. 192k (a plain number below 1000 means kbit/s); "
                  "lossless formats ignore it."});
  SettingSpec vbr{SettingKind::kVbr, "vbr", "--vbr", "encoding", "",
                  "MP3 variable bit rate quality, 0 (best) to 9, instead of a constant bit rate."};
  vbr.api = false;
  rows.push_back(vbr);
  rows.push_back({SettingKind::kPreview, "preview", "--preview", "encoding", "seconds",
                  "An excerpt instead of the whole song: {seconds, start?}, `seconds` long, from "
                  "`start` (seconds into the song) or, without it, from the loudest part."});
  return rows;
}

[[noreturn]] void refuse(const SettingSpec& spec, SettingNames names, const std::string& what) {
  throw std::invalid_argument(std::string(spec.name(names)) + " " + what);
}

double number_of(const SettingSpec& spec, SettingNames names, const nlohmann::json& v) {
  if (!v.is_number()) refuse(spec, names, "must be a number");
  return v.get<double>();
}

std::string string_of(const SettingSpec& spec, SettingNames names, const nlohmann::json& v) {
  if (!v.is_string()) refuse(spec, names, "must be one of " + list_text(spec.choices()));
  return v.get<std::string>();
}

void apply_engine(const SettingSpec& spec, SettingNames names, const nlohmann::json& v,
                  engine::EngineSettings* s) {
  const engine::EngineSettingSpec& e = *spec.engine;
  if (e.is_choice()) {
    const std::string text = string_of(spec, names, v);
    try {
      e.set_choice(*s, text);
    } catch (const std::invalid_argument& err) {
      refuse(spec, names, err.what());
    }
    return;
  }
  const double x = number_of(spec, names, v);
  if (e.set_integer != nullptr) {
    // Checked here: the field is not a double that engine::validate could read back.
    if (!engine::in_range(e, x)) throw std::invalid_argument(engine::range_message(e, names, x));
    e.set_integer(*s, x);
    return;
  }
  s->*e.number = x;  // ranges are checked together by engine::validate
}

const engine::Preset& classic() { return engine::presets().front(); }

constexpr std::string_view kCurves = "curves";

void apply_curve(const SettingSpec& spec, SettingNames names, const nlohmann::json& v, engine::EngineSettings* s) {
  const std::string shape = "must be a list of [seconds, value] pairs";
  if (!v.is_array()) refuse(spec, names, shape);
  // Checked before reading them all: an API body could hold millions.
  if (v.size() > engine::kMaxKeyframes)
    refuse(spec, names, "takes at most " + std::to_string(engine::kMaxKeyframes) + " keyframes (got " +
                            std::to_string(v.size()) + ")");
  engine::Keyframes keys;
  for (const nlohmann::json& pair : v) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_number())
      refuse(spec, names, shape);
    keys.push_back({pair[0].get<double>(), pair[1].get<double>()});
  }
  s->*spec.engine->curve = std::move(keys);  // checked together by engine::validate
}

// "1:30" -> 90, "1:02:03.5" -> 3723.5, "75" -> 75; false when it is not a time.
bool parse_clock(std::string_view text, double* seconds) {
  double total = 0;
  int parts = 0;
  while (true) {
    const std::size_t colon = text.find(':');
    const std::string_view part = text.substr(0, colon);
    if (part.empty() || part.find_first_not_of("0123456789.") != std::string_view::npos) return false;
    double v = 0;
    const auto r = std::from_chars(part.data(), part.data() + part.size(), v);
    if (r.ec != std::errc{} || r.ptr != part.data() + part.size()) return false;
    // Minutes and seconds after the first part stay below 60.
    if (parts > 0 && v >= 60) return false;
    total = total * 60 + v;
    if (++parts > 3) return false;
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
  }
  *seconds = total;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A preview long enough to judge the sound, short enough to come back in seconds.
constexpr double kPreviewMinSeconds = 1;
constexpr double kPreviewMaxSeconds = 300;
constexpr double kPreviewMaxStart = 24 * 3600;

// {seconds, start?} -> the excerpt; the normalised object back.
nlohmann::json apply_preview(const SettingSpec& spec, SettingNames names, const nlohmann::json& v,
                             Excerpt* excerpt) {
  if (!v.is_object()) refuse(spec, names, "must be an object {seconds, start?}");
  for (const auto& [key, value] : v.items())
    if (key != "seconds" && key != "start") refuse(spec, names, "has no field '" + key + "' (it takes seconds and start)");
  const auto seconds = v.find("seconds");
  if (seconds == v.end() || !seconds->is_number()) refuse(spec, names, "needs seconds, a number");
  const double length = seconds->get<double>();
  if (!(length >= kPreviewMinSeconds && length <= kPreviewMaxSeconds))
    refuse(spec, names, "seconds must be between " + number_text(kPreviewMinSeconds) + " and " +
                            number_text(kPreviewMaxSeconds) + " (got " + number_text(length) + ")");
  nlohmann::json normalized{{"seconds", length}};
  excerpt->length_seconds = length;
  excerpt->from_loudest = true;
  if (const auto start = v.find("start"); start != v.end() && !start->is_null()) {
    if (!start->is_number()) refuse(spec, names, "start must be a number of seconds");
    const double at = start->get<double>();
    if (!(at >= 0 && at <= kPreviewMaxStart))
      refuse(spec, names, "start must be between 0 and " + number_text(kPreviewMaxStart) + " seconds (got " +
                              number_text(at) + ")");
    excerpt->from_loudest = false;
    excerpt->start_seconds = at;
    normalized["start"] = at;
  }
  return normalized;
}

}  // namespace

bool SettingSpec::is_number() const {
  if (kind == SettingKind::kVbr) return true;
  return kind == SettingKind::kEngine && !engine->is_choice();
}

std::vector<std::string> SettingSpec::choices() const {
  switch (kind) {
    case SettingKind::kPreset: return preset_names();
    case SettingKind::kFormat: return format_names();
    case SettingKind::kEngine:
      if (engine->is_choice()) return {engine->choices.begin(), engine->choices.end()};
      return {};
    default: return {};
  }
}

const std::vector<SettingSpec>& setting_specs() {
  static const std::vector<SettingSpec> rows = make_specs();
  return rows;
}

const SettingSpec* find_setting(std::string_view json) {
  for (const SettingSpec& s : setting_specs())
    if (s.json == json) return &s;
  return nullptr;
}

nlohmann::json apply_settings(const nlohmann::json& values, SettingNames names,
                              RenderOptions* options) {
  if (!values.is_null() && !values.is_object()) throw std::invalid_argument("settings must be an object");
  const nlohmann::json given = values.is_null() ? nlohmann::json::object() : values;
  for (const auto& [key, value] : given.items()) {
    if (key == kCurves) {
      if (!value.is_object()) throw std::invalid_argument("curves must be an object");
      for (const auto& [name, keys] : value.items()) {
        const SettingSpec* spec = find_setting(std::string(kCurves) + "." + name);
        if (spec == nullptr || spec->kind != SettingKind::kCurve)
          throw std::invalid_argument("unknown setting: curves." + name);
      }
      continue;
    }
    const SettingSpec* spec = find_setting(key);
    if (spec == nullptr || spec->kind == SettingKind::kCurve || (!spec->api && names == SettingNames::kJson))
      throw std::invalid_argument("unknown setting: " + key);
  }
  auto value_of = [&given](const SettingSpec& spec) -> const nlohmann::json* {
    if (spec.kind == SettingKind::kCurve) {
      const auto curves = given.find(std::string(kCurves));
      if (curves == given.end()) return nullptr;
      const auto it = curves->find(std::string(spec.engine->curve_key()));
      return it == curves->end() ? nullptr : &*it;
    }
    const auto it = given.find(std::string(spec.json));
    return it == given.end() ? nullptr : &*it;
  };

  // The preset first: everything else overrides one of its values.
  const SettingSpec& preset_spec = *find_setting("preset");
  std::string preset_name = classic().name;
  if (const nlohmann::json* v = value_of(preset_spec)) preset_name = string_of(preset_spec, names, *v);
  const engine::Preset* preset = engine::find_preset(preset_name);
  if (preset == nullptr)
    refuse(preset_spec, names, "must be one of " + list_text(preset_names()) + " (got '" + preset_name + "')");
  options->engine = preset->settings;

  const SettingSpec& format_spec = *find_setting("format");
  const nlohmann::json* format_value = value_of(format_spec);
  options->keep_format = format_value != nullptr && format_value->is_string() &&
                         format_value->get<std::string>() == kKeepFormat;
  if (format_value != nullptr && !options->keep_format) {
    const nlohmann::json* v = format_value;
    const std::string text = string_of(format_spec, names, *v);
    try {
      options->encode.format = io::parse_format(text);
    } catch (const base::UsageError&) {
      refuse(format_spec, names, "must be one of " + list_text(format_names()) + " (got '" + text + "')");
    }
  }
  const io::FormatInfo& format = io::format_info(options->encode.format);

  for (const SettingSpec& spec : setting_specs()) {
    const nlohmann::json* v = value_of(spec);
    if (v == nullptr) continue;
    if (spec.kind == SettingKind::kEngine) apply_engine(spec, names, *v, &options->engine);
    if (spec.kind == SettingKind::kCurve) apply_curve(spec, names, *v, &options->engine);
  }
  engine::validate(options->engine, names);

  const SettingSpec& bitrate_spec = *find_setting("bitrate");
  options->encode.bitrate = format.default_bitrate;
  if (const nlohmann::json* v = value_of(bitrate_spec)) {
    std::string text;
    if (v->is_string()) text = v->get<std::string>();
    else if (v->is_number()) text = number_text(v->get<double>());
    else refuse(bitrate_spec, names, "must look like 192k");
    options->encode.bitrate = io::parse_bitrate(text, options->encode.format, bitrate_spec.name(names));
  }
  const SettingSpec& vbr_spec = *find_setting("vbr");
  if (const nlohmann::json* v = value_of(vbr_spec)) {
    const double q = number_of(vbr_spec, names, *v);
    if (!(q >= 0 && q <= 9) || std::floor(q) != q) refuse(vbr_spec, names, "must be a whole number from 0 to 9");
    if (options->encode.format != io::OutputFormat::kMp3) refuse(vbr_spec, names, "applies to MP3 output only");
    options->encode.vbr_quality = static_cast<int>(q);
  }

  nlohmann::json normalized = engine_settings_json(options->engine);
  normalized["preset"] = preset_name;
  normalized["format"] = options->keep_format ? std::string(kKeepFormat) : std::string(format.name);
  if (format.lossy) normalized["bitrate"] = io::bitrate_text(options->encode.bitrate);
  const SettingSpec& preview_spec = *find_setting("preview");
  if (const nlohmann::json* v = value_of(preview_spec); v != nullptr && !v->is_null())
    normalized["preview"] = apply_preview(preview_spec, names, *v, &options->excerpt);
  return normalized;
}

nlohmann::json engine_settings_json(const engine::EngineSettings& s) {
  nlohmann::json out = nlohmann::json::object();
  for (const SettingSpec& spec : setting_specs()) {
    if (!spec.api || (spec.kind != SettingKind::kEngine && spec.kind != SettingKind::kCurve)) continue;
    const engine::EngineSettingSpec& e = *spec.engine;
    if (spec.kind == SettingKind::kCurve) {
      // Only the curves in use: most settings have none.
      const engine::Keyframes& keys = s.*e.curve;
      if (keys.empty()) continue;
      nlohmann::json pairs = nlohmann::json::array();
      for (const engine::Keyframe& k : keys) pairs.push_back({k.seconds, k.value});
      out[std::string(kCurves)][std::string(e.curve_key())] = std::move(pairs);
      continue;
    }
    if (e.is_choice()) out[std::string(spec.json)] = e.get_choice(s);
    else if (e.get_integer != nullptr) out[std::string(spec.json)] = e.get_integer(s);
    else out[std::string(spec.json)] = s.*e.number;
  }
  return out;
}

nlohmann::json parse_curve_text(std::string_view text, std::string_view flag) {
  const std::string example = " must be TIME=VALUE pairs like \"0:00=10, 1:00=6\"";
  nlohmann::json pairs = nlohmann::json::array();
  std::string_view rest = text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    const std::size_t eq = item.find('=');
    double seconds = 0, value = 0;
    const std::string_view time = trim(item.substr(0, eq));
    const std::string_view number = eq == std::string_view::npos ? std::string_view() : trim(item.substr(eq + 1));
    const auto r = std::from_chars(number.data(), number.data() + number.size(), value);
    if (eq == std::string_view::npos || !parse_clock(time, &seconds) || number.empty() || r.ec != std::errc{} ||
        r.ptr != number.data() + number.size())
      throw std::invalid_argument(std::string(flag) + example + " (got '" + std::string(item) + "')");
    pairs.push_back({seconds, value});
    if (pairs.size() > engine::kMaxKeyframes)
      throw std::invalid_argument(std::string(flag) + " takes at most " + std::to_string(engine::kMaxKeyframes) +
                                  " keyframes");
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return pairs;
}

std::string range_text(const SettingSpec& spec) {
  switch (spec.kind) {
    case SettingKind::kPreset:
    case SettingKind::kFormat: return list_text(spec.choices());
    case SettingKind::kBitrate: {
      std::string out;
      for (const io::FormatInfo& f : io::output_formats()) {
        if (!f.lossy) continue;
        if (!out.empty()) out += ", ";
        out += std::string(f.name) + " " + io::bitrate_text(f.min_bitrate) + "–" + io::bitrate_text(f.max_bitrate);
      }
      return out;
    }
    case SettingKind::kVbr: return "0–9";
    case SettingKind::kCurve: {
      const engine::EngineSettingSpec& e = *spec.engine;
      std::string out = "TIME=VALUE, ...; values " + number_text(e.min) + "–" + number_text(e.max);
      if (!e.unit.empty()) out += " " + std::string(e.unit);
      return out;
    }
    case SettingKind::kPreview:
      return number_text(kPreviewMinSeconds) + "–" + number_text(kPreviewMaxSeconds) + " seconds";
    case SettingKind::kEngine: break;
  }
  const engine::EngineSettingSpec& e = *spec.engine;
  if (e.is_choice()) return list_text(spec.choices());
  std::string out = e.off_at_zero ? "0 (off) or " : "";
  out += number_text(e.min) + "–" + number_text(e.max);
  if (!e.unit.empty()) out += " " + std::string(e.unit);
  return out;
}

nlohmann::json settings_schema_json() {
  const engine::EngineSettings defaults = classic().settings;
  nlohmann::json list = nlohmann::json::array();
  for (const SettingSpec& spec : setting_specs()) {
    if (!spec.api) continue;
    nlohmann::json row{{"name", spec.json}, {"flag", spec.flag}, {"description", spec.help}};
    if (!spec.unit.empty()) row["unit"] = spec.unit;
    const auto choices = spec.choices();
    if (!choices.empty()) {
      row["type"] = "string";
      row["enum"] = choices;
    }
    switch (spec.kind) {
      case SettingKind::kPreset: row["default"] = classic().name; break;
      case SettingKind::kFormat: row["default"] = io::format_name(io::OutputFormat::kMp3); break;
      case SettingKind::kBitrate: {
        row["type"] = "string";
        row["default"] = io::bitrate_text(io::format_info(io::OutputFormat::kMp3).default_bitrate);
        nlohmann::json ranges = nlohmann::json::object();
        for (const io::FormatInfo& f : io::output_formats())
          if (f.lossy) ranges[std::string(f.name)] = {{"minimum", f.min_bitrate}, {"maximum", f.max_bitrate}};
        row["ranges"] = ranges;
        break;
      }
      case SettingKind::kVbr: break;
      case SettingKind::kCurve: {
        // Keyframes: [[seconds, value], ...], each value within the range below.
        const engine::EngineSettingSpec& e = *spec.engine;
        row["type"] = "curve";
        row["minimum"] = e.min;
        row["maximum"] = e.max;
        row["maxKeyframes"] = engine::kMaxKeyframes;
        row["maxSeconds"] = engine::kMaxKeyframeSeconds;
        row["default"] = nlohmann::json::array();  // none: the fixed value applies
        break;
      }
      case SettingKind::kPreview:
        row["type"] = "object";
        row["properties"] = {
            {"seconds", {{"type", "number"}, {"minimum", kPreviewMinSeconds}, {"maximum", kPreviewMaxSeconds}}},
            {"start", {{"type", "number"}, {"minimum", 0}, {"maximum", kPreviewMaxStart}}}};
        row["required"] = {"seconds"};
        row["default"] = nullptr;  // the whole song
        row["nullable"] = true;
        break;
      case SettingKind::kEngine: {
        const engine::EngineSettingSpec& e = *spec.engine;
        if (e.is_choice()) {
          row["default"] = e.get_choice(defaults);
        } else {
          row["type"] = e.integer ? "integer" : "number";
          row["minimum"] = e.min;
          row["maximum"] = e.max;
          if (e.off_at_zero) row["offAtZero"] = true;
          row["default"] = e.get_integer != nullptr ? e.get_integer(defaults) : defaults.*e.number;
        }
        break;
      }
    }
    list.push_back(std::move(row));
  }
  return list;
}

nlohmann::json settings_openapi_schema() {
  nlohmann::json properties = nlohmann::json::object();
  nlohmann::json curves = nlohmann::json::object();
  for (const nlohmann::json& row : settings_schema_json()) {
    if (row["type"] == "curve") {
      std::string description = row["description"].get<std::string>();
      if (row.contains("unit")) description += " Unit of the values: " + row["unit"].get<std::string>() + ".";
      const nlohmann::json pair = {
          {"type", "array"},
          {"prefixItems", {{{"type", "number"}, {"minimum", 0}, {"maximum", row["maxSeconds"]}},
                           {{"type", "number"}, {"minimum", row["minimum"]}, {"maximum", row["maximum"]}}}},
          {"minItems", 2},
          {"maxItems", 2}};
      const std::string name = row["name"].get<std::string>();
      curves[name.substr(name.find('.') + 1)] = {{"type", "array"},
                                                 {"description", description + " [seconds, value] pairs, times increasing."},
                                                 {"maxItems", row["maxKeyframes"]},
                                                 {"items", pair}};
      continue;
    }
    nlohmann::json p{{"type", row["type"]}, {"description", row["description"]}};
    for (const char* field : {"enum", "minimum", "maximum", "default", "properties", "required", "nullable"})
      if (row.contains(field)) p[field] = row[field];
    if (row.value("offAtZero", false)) {
      // 0 sits outside [minimum, maximum] and is allowed too: say it the JSON-Schema way.
      p = {{"description", row["description"]}, {"default", row["default"]},
           {"oneOf", {{{"type", "number"}, {"enum", {0}}},
                      {{"type", "number"}, {"minimum", row["minimum"]}, {"maximum", row["maximum"]}}}}};
    }
    if (row.contains("unit")) p["description"] = row["description"].get<std::string>() + " Unit: " +
                                                  row["unit"].get<std::string>() + ".";
    properties[row["name"].get<std::string>()] = std::move(p);
  }
  if (!curves.empty())
    properties[std::string(kCurves)] = {{"type", "object"},
                                        {"description", "Settings that change over time, as keyframes."},
                                        {"default", nlohmann::json::object()},
                                        {"additionalProperties", false},
                                        {"properties", curves}};
  return {{"type", "object"}, {"additionalProperties", false}, {"properties", properties}};
}

}  // namespace sy::pipeline
