#include "storage/s3/s3_store.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>
#include <system_error>
#include <thread>

#include "base/errors.h"
#include "storage/keys.h"
#include "storage/s3/s3_signer.h"

namespace sy::storage {
namespace fs = std::filesystem;

namespace {

void init_curl_once() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool matched = false;
    for (const auto& [entity, ch] : kEntities) {
      if (s.substr(i, entity.size()) == entity) {
        out.push_back(ch);
        i += entity.size() - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back('&');
  }
  return out;
}

Clock::time_point parse_iso8601(const std::string& s) {
  std::tm tm{};
  int y = 0, mo = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec) != 6)
    return {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  return Clock::from_time_t(timegm(&tm));
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Hex SHA-256 of `length` bytes of `fd` from `offset`, read in blocks: the signature covers the
// body, so S3 refuses an upload whose file changed between hashing and sending.
std::string sha256_hex_of(int fd, std::int64_t offset, std::int64_t length) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 unavailable");
  std::vector<char> block(1 << 16);
  while (length > 0) {
    const auto want = std::min(static_cast<std::size_t>(length), block.size());
    const ssize_t n = ::pread(fd, block.data(), want, offset);
    if (n <= 0) throw std::runtime_error("s3: the file to upload could not be read to its end");
    EVP_DigestUpdate(ctx.get(), block.data(), static_cast<std::size_t>(n));
    offset += n;
    length -= n;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &size);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), size));
}

// What a request sends: bytes in memory, or `length` bytes of an open file from `offset`, read
// as curl asks for them, so an upload of any size holds no more than curl's buffer.
struct S3Body {
  std::string_view bytes;
  int fd = -1;
  std::int64_t offset = 0;
  std::int64_t length = 0;
  std::int64_t size() const { return fd < 0 ? static_cast<std::int64_t>(bytes.size()) : length; }
  std::string sha256() const {
    return fd < 0 ? sha256_hex(bytes) : sha256_hex_of(fd, offset, length);
  }
};

struct Transfer {
  std::string* body = nullptr;
  std::FILE* sink = nullptr;
  HeaderList* headers = nullptr;
  const S3Body* upload = nullptr;
  std::int64_t upload_pos = 0;
};

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t bytes = size * n;
  if (t->sink) return std::fwrite(data, 1, bytes, t->sink);
  t->body->append(data, bytes);
  return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t bytes = size * n;
  std::string_view line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) t->headers->clear();  // a new response (after 100-continue)
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    t->headers->emplace_back(lower(std::string(line.substr(0, colon))), std::string(value));
  }
  return bytes;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const S3Body& body = *t->upload;
  const auto bytes = static_cast<std::size_t>(std::min<std::int64_t>(
      static_cast<std::int64_t>(size * n), body.size() - t->upload_pos));
  if (body.fd < 0) {
    std::copy_n(body.bytes.data() + t->upload_pos, bytes, buffer);
  } else if (bytes > 0) {
    const ssize_t got = ::pread(body.fd, buffer, bytes, body.offset + t->upload_pos);
    if (got <= 0) return CURL_READFUNC_ABORT;  // the file shrank or failed: no short object
    t->upload_pos += got;
    return static_cast<std::size_t>(got);
  }
  t->upload_pos += static_cast<std::int64_t>(bytes);
  return bytes;
}

// The keys of keys.h only: an empty key would name the bucket itself (a DELETE of "" deletes
// an empty bucket), and dot segments are resolved differently by clients and servers.
const std::string& checked(const std::string& key) {
  if (!is_valid_key(key)) throw std::invalid_argument("invalid object key: " + key);
  return key;
}

// A file opened for reading, closed when it goes.
class ReadOnlyFile {
 public:
  explicit ReadOnlyFile(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot read " + path.string());
  }
  ~ReadOnlyFile() { ::close(fd_); }
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  int fd() const { return fd_; }
  std::int64_t size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw std::system_error(errno, std::generic_category(), "fstat");
    return static_cast<std::int64_t>(st.st_size);
  }

 private:
  int fd_;
};

}  // namespace

// Declared in the header without its members; the curl callbacks above know it as S3Body.
struct S3ObjectStore::Body : S3Body {};

std::vector<std::string> xml_values(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const auto start = pos + open.size();
    const auto end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.push_back(xml_unescape(xml.substr(start, end - start)));
    pos = end + close.size();
  }
  return out;
}

std::string S3ObjectStore::Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

S3ObjectStore::S3ObjectStore(S3Options options) : options_(std::move(options)) {
  init_curl_once();
  if (options_.bucket.empty()) throw std::invalid_argument("storage.s3_bucket: required for s3");
  if (options_.access_key.empty())
    if (const char* v = std::getenv("AWS_ACCESS_KEY_ID")) options_.access_key = v;
  if (options_.secret_key.empty())
    if (const char* v = std::getenv("AWS_SECRET_ACCESS_KEY")) options_.secret_key = v;
  if (options_.access_key.empty() || options_.secret_key.empty())
    throw std::invalid_argument(
        "s3: no credentials (storage.s3_access_key/s3_secret_key or AWS_ACCESS_KEY_ID/"
        "AWS_SECRET_ACCESS_KEY)");
  if (options_.region.empty()) options_.region = "us-east-1";
  if (options_.endpoint.empty()) options_.endpoint = "https://s3." + options_.region + ".amazonaws.com";
  auto parse = [](const std::string& url, const char* name) {
    const auto sep = url.find("://");
    if (sep == std::string::npos) throw std::invalid_argument(std::string(name) + ": scheme://host[:port]");
    Endpoint e{lower(url.substr(0, sep)), url.substr(sep + 3)};
    while (!e.host.empty() && e.host.back() == '/') e.host.pop_back();
    if ((e.scheme != "http" && e.scheme != "https") || e.host.empty() ||
        e.host.find('/') != std::string::npos)
      throw std::invalid_argument(std::string(name) + ": scheme://host[:port] without a path");
    // The default port is left out of Host, as clients (and the signature) do.
    const std::string default_port = e.scheme == "https" ? ":443" : ":80";
    if (e.host.size() > default_port.size() &&
        e.host.compare(e.host.size() - default_port.size(), default_port.size(), default_port) == 0)
      e.host.resize(e.host.size() - default_port.size());
    return e;
  };
  endpoint_ = parse(options_.endpoint, "storage.s3_endpoint");
  public_endpoint_ = options_.public_endpoint.empty()
                         ? endpoint_
                         : parse(options_.public_endpoint, "storage.s3_public_endpoint");
  credentials_ = {options_.access_key, options_.secret_key, options_.region, "s3"};
  options_.part_size = std::max<std::int64_t>(options_.part_size, 5LL << 20);
  options_.max_attempts = std::max(1, options_.max_attempts);
}

S3ObjectStore::Target S3ObjectStore::target(const std::string& key, bool for_browser) const {
  const Endpoint& e = for_browser ? public_endpoint_ : endpoint_;
  Target t;
  if (options_.path_style) {
    t.host = e.host;
    t.path = "/" + options_.bucket + "/" + key;
  } else {
    t.host = options_.bucket + "." + e.host;
    t.path = "/" + key;
  }
  if (key.empty() && options_.path_style) t.path = "/" + options_.bucket;
  t.base = e.scheme + "://" + t.host;
  return t;
}

std::string S3ObjectStore::object_url(const std::string& key, bool for_browser) const {
  const auto t = target(key, for_browser);
  return t.base + uri_encode(t.path, true);
}

S3ObjectStore::Response S3ObjectStore::request(const std::string& method, const std::string& key,
                                               const QueryParams& query, const HeaderList& headers,
                                               const Body& body, std::FILE* sink,
                                               bool allow_404, std::chrono::milliseconds deadline_after) {
  const Target t = target(key, false);
  std::string url = t.base + uri_encode(t.path, true);
  {
    std::vector<std::string> parts;
    for (const auto& [k, v] : query)
      parts.push_back(uri_encode(k, false) + (v.empty() && k != "prefix" ? "" : "=" + uri_encode(v, false)));
    std::sort(parts.begin(), parts.end());
    for (std::size_t i = 0; i < parts.size(); ++i) url += (i ? "&" : "?") + parts[i];
  }
  const std::string payload_hash = body.sha256();
  std::minstd_rand jitter(std::random_device{}());
  std::string last_error;
  // Requests a client waits for get one deadline for all their attempts; file transfers
  // take as long as they keep moving.
  using Steady = std::chrono::steady_clock;
  const bool is_transfer = sink != nullptr || body.fd >= 0;
  const auto deadline =
      Steady::now() + (deadline_after.count() > 0 ? deadline_after : options_.call_deadline);
  auto left_ms = [&] {
    return std::max<long>(1, static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   deadline - Steady::now()).count()));
  };
  int attempt = 1;
  for (; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) {
      const auto base = options_.backoff * (1 << std::min(attempt - 2, 6));
      const auto wait = base / 2 + std::chrono::milliseconds(jitter() % (base.count() / 2 + 1));
      if (!is_transfer && Steady::now() + wait >= deadline) break;
      ++retries_;
      std::this_thread::sleep_for(wait);
      if (sink) {
        std::fflush(sink);
        if (::ftruncate(fileno(sink), 0) != 0) throw std::runtime_error("cannot truncate download");
        std::rewind(sink);
      }
    }
    HeaderSignInput in;
    in.method = method;
    in.host = t.host;
    in.path = t.path;
    in.query = query;
    in.headers = headers;
    in.payload_hash = payload_hash;
    in.time = now();
    const HeaderList signed_headers = sign_headers(credentials_, in);

    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) throw std::runtime_error("s3: curl_easy_init failed");
    std::unique_ptr<curl_slist, SlistDeleter> list;
    auto add = [&](const std::string& line) {
      list.reset(curl_slist_append(list.release(), line.c_str()));
    };
    for (const auto& [k, v] : signed_headers)
      if (k != "host") add(k + ": " + v);
    add("Expect:");  // no 100-continue round trip
    if (method != "PUT" || std::none_of(headers.begin(), headers.end(),
                                        [](const auto& h) { return h.first == "content-type"; }))
      add("Content-Type:");

    Response res;
    Transfer transfer{&res.body, sink, &res.headers, &body, 0};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    long connect_ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.connect_timeout).count());
    if (!is_transfer) {
      connect_ms = std::min(connect_ms, left_ms());
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left_ms());
    }
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_timeout.count()));
    if (method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (method == "PUT" || method == "POST") {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(c, CURLOPT_READDATA, &transfer);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else if (method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      last_error = curl_easy_strerror(rc);
      continue;  // network trouble: retry
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    res.status = static_cast<int>(status);
    if (res.status >= 200 && res.status < 300) return res;
    if (res.status == 404 && allow_404) return res;
    std::string code, message;
    if (!sink) {
      const auto codes = xml_values(res.body, "Code");
      const auto messages = xml_values(res.body, "Message");
      if (!codes.empty()) code = codes.front();
      if (!messages.empty()) message = messages.front();
    }
    last_error = "HTTP " + std::to_string(res.status) + (code.empty() ? "" : " " + code) +
                 (message.empty() ? "" : ": " + message);
    if (res.status >= 500 || res.status == 429) continue;  // server trouble or throttling
    throw S3Error(res.status, code,
                  "s3: " + method + " " + (key.empty() ? options_.bucket : key) + ": " + last_error);
  }
  // The store is away, overloaded or too slow: trouble that passes (503 to a client, a
  // job retried later).
  throw base::Unavailable("s3: " + method + " " + (key.empty() ? options_.bucket : key) +
                          " failed after " + std::to_string(attempt - 1) + " attempts: " +
                          last_error);
}

PresignedRequest S3ObjectStore::presign(const std::string& method, const std::string& key,
                                        std::chrono::seconds ttl, QueryParams query,
                                        HeaderList headers) const {
  const Target t = target(checked(key), true);
  const PresignInput in{method, t.host, t.path, std::move(query), std::move(headers), now(), ttl};
  return presigned_request(credentials_, in, t.base);
}

std::optional<ObjectInfo> S3ObjectStore::stat(const std::string& key) {
  const auto res = request("HEAD", checked(key), {}, {}, {}, nullptr, true);
  if (res.status == 404) return std::nullopt;
  ObjectInfo info;
  info.key = key;
  info.size = std::stoll(res.header("content-length").empty() ? "0" : res.header("content-length"));
  const auto modified = curl_getdate(res.header("last-modified").c_str(), nullptr);
  if (modified > 0) info.modified = Clock::from_time_t(modified);
  return info;
}

std::vector<ObjectInfo> S3ObjectStore::list(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  std::string token;
  for (;;) {
    QueryParams q{{"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) q.emplace_back("continuation-token", token);
    const auto res = request("GET", "", q, {}, {});
    for (const auto& contents : xml_values(res.body, "Contents")) {
      ObjectInfo info;
      const auto keys = xml_values(contents, "Key");
      const auto sizes = xml_values(contents, "Size");
      const auto modified = xml_values(contents, "LastModified");
      if (keys.empty()) continue;
      info.key = keys.front();
      info.size = sizes.empty() ? 0 : std::stoll(sizes.front());
      if (!modified.empty()) info.modified = parse_iso8601(modified.front());
      out.push_back(std::move(info));
    }
    const auto truncated = xml_values(res.body, "IsTruncated");
    const auto next = xml_values(res.body, "NextContinuationToken");
    if (truncated.empty() || truncated.front() != "true" || next.empty()) break;
    token = next.front();
  }
  return out;
}

void S3ObjectStore::remove(const std::string& key) {
  request("DELETE", checked(key), {}, {}, {}, nullptr, true);  // a missing key is no error
}

void S3ObjectStore::remove_prefix(const std::string& prefix) {
  for (const auto& o : list(prefix)) remove(o.key);
}

void S3ObjectStore::download_to_file(const std::string& key, const fs::path& dest) {
  checked(key);
  if (dest.has_parent_path()) fs::create_directories(dest.parent_path());
  const fs::path tmp = dest.string() + ".part";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) base::throw_errno(errno, "cannot write " + tmp.string());
  try {
    request("GET", key, {}, {}, {}, f);  // streamed to the file, never whole in memory
  } catch (...) {
    std::fclose(f);
    fs::remove(tmp);
    throw;
  }
  if (std::fclose(f) != 0) {
    const int error = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    base::throw_errno(error, "cannot write " + tmp.string());  // a full disk: StorageFull
  }
  fs::rename(tmp, dest);
}

void S3ObjectStore::upload_from_file(const std::string& key, const fs::path& src) {
  checked(key);
  const ReadOnlyFile file(src);
  const auto size = file.size();
  if (size > options_.multipart_threshold) {
    multipart_upload(key, file.fd(), size);
    return;
  }
  request("PUT", key, {}, {{"content-type", content_type_for(key)}}, Body{{{}, file.fd(), 0, size}});
}

void S3ObjectStore::move(const std::string& from, const std::string& to,
                         std::chrono::milliseconds deadline) {
  checked(from);
  checked(to);
  // CopyObject: the server copies (up to 5 GiB, far above any result) and the new object
  // appears whole, with the source's Content-Type. The source is named URL-encoded.
  const std::string source = uri_encode("/" + options_.bucket + "/" + from, true);
  const auto res = request("PUT", to, {}, {{"x-amz-copy-source", source}}, {}, nullptr, false, deadline);
  // S3 may answer 200 and report a failure in the body (documented for CopyObject).
  if (!xml_values(res.body, "Error").empty() || xml_values(res.body, "ETag").empty())
    throw base::Unavailable("s3: copy of " + from + " to " + to + " failed: " +
                            (xml_values(res.body, "Code").empty() ? std::string("no result")
                                                                  : xml_values(res.body, "Code").front()));
  try {
    remove(from);
  } catch (const std::exception&) {
    // The copy stands; the object left behind is under its job's prefix, removed with the job.
  }
}

void S3ObjectStore::multipart_upload(const std::string& key, int fd, std::int64_t size) {
  const auto init = request("POST", key, {{"uploads", ""}},
                            {{"content-type", content_type_for(key)}}, {});
  const auto ids = xml_values(init.body, "UploadId");
  if (ids.empty()) throw S3Error(init.status, "", "s3: multipart upload gave no UploadId");
  const std::string upload_id = ids.front();
  try {
    std::string complete = "<CompleteMultipartUpload>";
    int part = 1;
    // Each part is read from the file as it is sent (again on a retry), never held whole.
    for (std::int64_t offset = 0; offset < size; offset += options_.part_size, ++part) {
      const auto length = std::min(options_.part_size, size - offset);
      const auto res = request("PUT", key,
                               {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}}, {},
                               Body{{{}, fd, offset, length}});
      complete += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" +
                  res.header("etag") + "</ETag></Part>";
    }
    complete += "</CompleteMultipartUpload>";
    const auto done = request("POST", key, {{"uploadId", upload_id}}, {}, Body{{complete}});
    // A 200 may still carry an error in its body (S3 documents this for Complete).
    if (!xml_values(done.body, "Code").empty() && xml_values(done.body, "Key").empty())
      throw S3Error(done.status, xml_values(done.body, "Code").front(),
                    "s3: completing the multipart upload of " + key + " failed");
  } catch (...) {
    try {
      request("DELETE", key, {{"uploadId", upload_id}}, {}, {}, nullptr, true);
    } catch (...) {
    }
    throw;
  }
  // Some servers (new RGW buckets) answer Complete with an empty ETag: confirm with HEAD.
  const auto info = stat(key);
  if (!info || info->size != size)
    throw S3Error(0, "", "s3: multipart upload of " + key + " did not produce the object");
}

void S3ObjectStore::set_object_created_handler(ObjectCreatedHandler handler) {
  std::lock_guard lock(mutex_);
  handler_ = std::move(handler);
}

void S3ObjectStore::ensure_bucket() {
  try {
    request("PUT", "", {}, {}, {});
  } catch (const S3Error& e) {
    if (e.code() != "BucketAlreadyOwnedByYou" && e.code() != "BucketAlreadyExists") throw;
  }
}

}  // namespace sy::storage
