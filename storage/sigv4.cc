#include "storage/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <stdexcept>

namespace sy::storage {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::chrono::seconds kMaxExpires{7 * 24 * 3600};  // S3's own ceiling
constexpr std::chrono::seconds kClockSkew{15 * 60};

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  // SigV4 collapses inner runs of spaces into one.
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string date_part(std::string_view amz) { return std::string(amz.substr(0, 8)); }

std::string scope(const SigV4Credentials& c, std::string_view date) {
  return std::string(date) + "/" + c.region + "/" + c.service + "/aws4_request";
}

const std::string* find_param(const QueryParams& q, std::string_view name) {
  for (const auto& [k, v] : q)
    if (k == name) return &v;
  return nullptr;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::optional<std::string> uri_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<QueryParams> parse_query(std::string_view query) {
  QueryParams out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    auto key = uri_decode(part.substr(0, eq));
    auto value = uri_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
    if (!key || !value) return std::nullopt;
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len))
    throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string to_hex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // lengths are public (hex signatures are 64 chars)
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len, int* out) {
    const auto* first = s.data() + pos;
    // Digits only: from_chars would take a sign ("-999" as a year).
    if (!std::all_of(first, first + len, [](char c) { return c >= '0' && c <= '9'; })) return false;
    const auto r = std::from_chars(first, first + len, *out);
    return r.ec == std::errc{} && r.ptr == first + len;
  };
  std::tm tm{};
  int year = 0, mon = 0;
  if (!num(0, 4, &year) || !num(4, 2, &mon) || !num(6, 2, &tm.tm_mday) || !num(9, 2, &tm.tm_hour) ||
      !num(11, 2, &tm.tm_min) || !num(13, 2, &tm.tm_sec))
    return std::nullopt;
  // system_clock counts nanoseconds in 64 bits, which reach from 1678 to 2262 only.
  if (year < 1970 || year > 2200) return std::nullopt;
  if (mon < 1 || mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string canonical_request(std::string_view method, std::string_view path,
                              const QueryParams& query, const HeaderList& headers,
                              std::string_view payload_hash) {
  std::vector<std::pair<std::string, std::string>> q;
  q.reserve(query.size());
  for (const auto& [k, v] : query) q.emplace_back(uri_encode(k, false), uri_encode(v, false));
  std::sort(q.begin(), q.end());
  HeaderList h = headers;
  std::sort(h.begin(), h.end());

  std::string out;
  out.append(method).push_back('\n');
  out.append(uri_encode(path, true)).push_back('\n');
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (i) out.push_back('&');
    out.append(q[i].first).append("=").append(q[i].second);
  }
  out.push_back('\n');
  for (const auto& [k, v] : h) out.append(k).append(":").append(trim(v)).push_back('\n');
  out.push_back('\n');
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (i) out.push_back(';');
    out.append(h[i].first);
  }
  out.push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string sign(const SigV4Credentials& creds, std::string_view amz_date_str,
                 std::string_view canonical) {
  const std::string date = date_part(amz_date_str);
  std::string to_sign(kAlgorithm);
  to_sign.append("\n").append(amz_date_str).append("\n").append(scope(creds, date));
  to_sign.append("\n").append(sha256_hex(canonical));
  std::string key = hmac_sha256("AWS4" + creds.secret_key, date);
  key = hmac_sha256(key, creds.region);
  key = hmac_sha256(key, creds.service);
  key = hmac_sha256(key, "aws4_request");
  return to_hex(hmac_sha256(key, to_sign));
}

std::string presign_query(const SigV4Credentials& creds, const PresignInput& in) {
  const std::string date = amz_date(in.time);
  HeaderList headers = in.extra_headers;
  headers.emplace_back("host", in.host);
  std::sort(headers.begin(), headers.end());
  std::string signed_headers;
  for (const auto& h : headers) {
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += h.first;
  }
  QueryParams q = in.extra_query;
  q.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  q.emplace_back("X-Amz-Credential", creds.access_key + "/" + scope(creds, date_part(date)));
  q.emplace_back("X-Amz-Date", date);
  q.emplace_back("X-Amz-Expires", std::to_string(in.expires.count()));
  q.emplace_back("X-Amz-SignedHeaders", signed_headers);
  const std::string sig =
      sign(creds, date, canonical_request(in.method, in.path, q, headers, "UNSIGNED-PAYLOAD"));
  std::vector<std::pair<std::string, std::string>> enc;
  for (const auto& [k, v] : q) enc.emplace_back(uri_encode(k, false), uri_encode(v, false));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) out.append(out.empty() ? "" : "&").append(k).append("=").append(v);
  out.append("&X-Amz-Signature=").append(sig);
  return out;
}

PresignedRequest presigned_request(const SigV4Credentials& creds, const PresignInput& in,
                                   std::string_view base_url) {
  PresignedRequest out;
  out.method = in.method;
  out.url = std::string(base_url) + uri_encode(in.path, true) + "?" + presign_query(creds, in);
  out.expires_at = std::chrono::time_point_cast<std::chrono::seconds>(in.time) + in.expires;
  return out;
}

std::string_view verify_result_name(VerifyResult r) {
  switch (r) {
    case VerifyResult::kOk: return "ok";
    case VerifyResult::kMissing: return "missing signature parameters";
    case VerifyResult::kMalformed: return "malformed signature parameters";
    case VerifyResult::kWrongCredential: return "unknown credential or scope";
    case VerifyResult::kExpired: return "request has expired";
    case VerifyResult::kBadSignature: return "signature does not match";
  }
  return "unknown";
}

VerifyResult verify_presigned(
    const SigV4Credentials& creds, std::string_view method, std::string_view path,
    const QueryParams& query,
    const std::function<std::optional<std::string>(std::string_view)>& header,
    std::chrono::system_clock::time_point now) {
  const auto* algorithm = find_param(query, "X-Amz-Algorithm");
  const auto* credential = find_param(query, "X-Amz-Credential");
  const auto* date = find_param(query, "X-Amz-Date");
  const auto* expires = find_param(query, "X-Amz-Expires");
  const auto* signed_headers = find_param(query, "X-Amz-SignedHeaders");
  const auto* signature = find_param(query, "X-Amz-Signature");
  if (!algorithm || !credential || !date || !expires || !signed_headers || !signature)
    return VerifyResult::kMissing;
  if (*algorithm != kAlgorithm) return VerifyResult::kMalformed;
  const auto t = parse_amz_date(*date);
  long long expires_s = 0;
  const auto r = std::from_chars(expires->data(), expires->data() + expires->size(), expires_s);
  if (!t || r.ec != std::errc{} || r.ptr != expires->data() + expires->size() || expires_s < 1 ||
      expires_s > kMaxExpires.count())
    return VerifyResult::kMalformed;
  if (*credential != creds.access_key + "/" + scope(creds, date_part(*date)))
    return VerifyResult::kWrongCredential;
  if (now < *t - kClockSkew || now > *t + std::chrono::seconds(expires_s))
    return VerifyResult::kExpired;

  HeaderList headers;
  bool has_host = false;
  std::string_view names = *signed_headers;
  while (!names.empty()) {
    const auto semi = names.find(';');
    const std::string name(names.substr(0, semi));
    names = semi == std::string_view::npos ? std::string_view{} : names.substr(semi + 1);
    if (name.empty()) return VerifyResult::kMalformed;
    auto value = header(name);
    if (!value) return VerifyResult::kBadSignature;  // a signed header the request lacks
    has_host = has_host || name == "host";
    headers.emplace_back(name, std::move(*value));
  }
  if (!has_host) return VerifyResult::kMalformed;

  QueryParams rest;
  for (const auto& p : query)
    if (p.first != "X-Amz-Signature") rest.push_back(p);
  const std::string expected =
      sign(creds, *date, canonical_request(method, path, rest, headers, "UNSIGNED-PAYLOAD"));
  return constant_time_equal(expected, *signature) ? VerifyResult::kOk
                                                   : VerifyResult::kBadSignature;
}

}  // namespace sy::storage
