#include "storage/local/local_store.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "base/errors.h"
#include "storage/keys.h"

namespace sy::storage {
namespace fs = std::filesystem;

namespace {

// ENOSPC and EDQUOT become base::StorageFull, EIO and the like base::TransientError.
[[noreturn]] void throw_errno(const std::string& what) { base::throw_errno(errno, what); }

// How often a folder is made again after another process removed it from under us.
constexpr int kVanishedFolderTries = 10;

// Like create_directories, but every folder it makes is 0700: uploads and results are
// readable by this service's user alone, whatever the umask. Processes sharing the folder
// remove the folders they emptied (LocalObjectStore::remove), attempts/ and uploads/
// included: a parent seen a moment ago may be gone by our mkdir, and is made again.
void create_private_directories(const fs::path& dir) {
  for (int tries = 1;; ++tries) {
    std::error_code ec;
    if (dir.empty() || fs::is_directory(dir, ec)) return;
    create_private_directories(dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return;
    if (errno != ENOENT || tries == kVanishedFolderTries) throw_errno("mkdir " + dir.string());
  }
}

// Renames `source` to `target`, making target's folders first; 0 or the errno. An ENOENT
// while the source is still there means another process removed the emptied folder between
// our mkdir and the rename: the folder is made again.
int rename_making_folders(const fs::path& source, const fs::path& target) {
  for (int tries = 1;; ++tries) {
    create_private_directories(target.parent_path());
    if (::rename(source.c_str(), target.c_str()) == 0) return 0;
    const int error = errno;
    std::error_code ec;
    if (error != ENOENT || !fs::exists(source, ec) || tries == kVanishedFolderTries) return error;
  }
}

void fsync_path(const fs::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw_errno("open " + p.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw_errno("fsync " + p.string());
}

std::string random_name() {
  unsigned char raw[12];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  return to_hex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

// By hand because std::filesystem::copy_file reports a full disk as EIO (sendfile's error is
// lost), and a full scratch disk must be told apart: StorageFull, retried later.
void copy_contents(const fs::path& from, const fs::path& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw_errno("open " + from.string());
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    const int error = errno;
    ::close(in);
    base::throw_errno(error, "create " + to.string());
  }
  std::vector<char> block(1 << 16);
  int error = 0;
  for (;;) {
    const ssize_t n = ::read(in, block.data(), block.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) error = errno;
      break;
    }
    for (ssize_t done = 0; done < n && error == 0;) {
      const ssize_t w = ::write(out, block.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno != EINTR) error = errno;
      if (w > 0) done += w;
    }
    if (error != 0) break;
  }
  if (::close(out) != 0 && error == 0) error = errno;
  ::close(in);
  if (error != 0) base::throw_errno(error, "copy to " + to.string());
}

Clock::time_point to_system(fs::file_time_type t) {
  return std::chrono::time_point_cast<Clock::duration>(std::chrono::file_clock::to_sys(t));
}

std::string read_secret(const fs::path& file) {
  std::ifstream in(file);
  std::string secret;
  std::getline(in, secret);
  return secret;
}

}  // namespace

std::string load_or_create_secret(const fs::path& root) {
  constexpr std::size_t kMinLength = 32;
  const fs::path file = root / "store.secret";
  const std::string found = read_secret(file);
  if (found.size() >= kMinLength) return found;
  create_private_directories(root);
  // Processes starting together on one folder (serve and its workers) must agree: the
  // folder is locked while one of them looks again and, if still needed, writes the secret.
  // Without the lock, one that read "no file" could replace a secret another had already
  // handed out (seen under ASan's timing in CI).
  const int dir_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) throw_errno("open " + root.string());
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing the descriptor drops the flock
  } unlock{dir_fd};
  while (::flock(dir_fd, LOCK_EX) != 0) {
    if (errno != EINTR) throw_errno("lock " + root.string());
  }
  const std::string again = read_secret(file);
  if (again.size() >= kMinLength) return again;
  // None yet, or one empty or cut short by a crash: replaced.
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  const std::string secret = to_hex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  const fs::path tmp = root / ("store.secret." + random_name() + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno("create " + tmp.string());
  const std::string line = secret + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  const int rc = written ? ::rename(tmp.c_str(), file.c_str()) : -1;
  const int error = errno;
  std::error_code ec;
  if (rc != 0) fs::remove(tmp, ec);
  if (!written) throw std::runtime_error("cannot write " + tmp.string());
  if (rc != 0) {
    errno = error;
    throw_errno("create " + file.string());
  }
  fsync_path(root, O_RDONLY | O_DIRECTORY);
  return secret;
}

class LocalPutWriter final : public PutWriter {
 public:
  LocalPutWriter(LocalObjectStore* store, std::string key, fs::path final_path, fs::path tmp,
                 std::int64_t expected)
      : store_(store), key_(std::move(key)), final_(std::move(final_path)), tmp_(std::move(tmp)),
        expected_(expected) {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) throw_errno("create " + tmp_.string());
  }
  ~LocalPutWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) {
      std::error_code ec;
      fs::remove(tmp_, ec);
    }
  }

  bool write(const char* data, std::size_t n) override {
    if (written_ + static_cast<std::int64_t>(n) > expected_) return false;
    while (n > 0) {
      const ssize_t w = ::write(fd_, data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw_errno("write " + tmp_.string());
      }
      data += w;
      n -= static_cast<std::size_t>(w);
      written_ += w;
    }
    return true;
  }
  std::int64_t bytes_written() const override { return written_; }

  void commit() override {
    if (written_ != expected_)
      throw std::runtime_error("upload ended after " + std::to_string(written_) + " of " +
                               std::to_string(expected_) + " bytes");
    if (::fsync(fd_) != 0) throw_errno("fsync " + tmp_.string());
    ::close(fd_);
    fd_ = -1;
    if (const int error = rename_making_folders(tmp_, final_); error != 0)
      base::throw_errno(error, "rename " + final_.string());
    committed_ = true;
    fsync_path(final_.parent_path(), O_RDONLY | O_DIRECTORY);
    store_->raise_created({key_, written_});
  }

 private:
  LocalObjectStore* store_;
  std::string key_;
  fs::path final_;
  fs::path tmp_;
  std::int64_t expected_;
  std::int64_t written_ = 0;
  int fd_ = -1;
  bool committed_ = false;
};

LocalObjectStore::LocalObjectStore(LocalStoreOptions options) : options_(std::move(options)) {
  while (!options_.public_url.empty() && options_.public_url.back() == '/')
    options_.public_url.pop_back();
  objects_ = options_.root / "objects";
  tmp_ = options_.root / "tmp";
  create_private_directories(options_.root);
  // A data folder made before (or by hand) is closed too: it holds every user's audio.
  if (::chmod(options_.root.c_str(), 0700) != 0) throw_errno("chmod " + options_.root.string());
  create_private_directories(objects_);
  create_private_directories(tmp_);
}

std::string LocalObjectStore::host() const {
  const auto scheme = options_.public_url.find("://");
  std::string rest = scheme == std::string::npos ? options_.public_url
                                                 : options_.public_url.substr(scheme + 3);
  return rest.substr(0, rest.find('/'));
}

fs::path LocalObjectStore::path_for(const std::string& key) const {
  if (!is_valid_key(key)) throw std::invalid_argument("invalid object key: " + key);
  return objects_ / key;
}

PresignedRequest LocalObjectStore::presign(const std::string& method, const std::string& key,
                                           std::chrono::seconds ttl, QueryParams query,
                                           HeaderList headers) const {
  path_for(key);  // throws on an invalid key
  const Clock::time_point now = options_.clock ? options_.clock() : Clock::now();
  const PresignInput in{method, host(), std::string(kStorePathPrefix) + key, std::move(query),
                        std::move(headers), now, ttl};
  return presigned_request(options_.credentials, in, options_.public_url);
}

std::optional<ObjectInfo> LocalObjectStore::stat(const std::string& key) {
  std::error_code ec;
  const auto p = path_for(key);
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  ObjectInfo info;
  info.key = key;
  info.size = static_cast<std::int64_t>(fs::file_size(p, ec));
  info.modified = to_system(fs::last_write_time(p, ec));
  if (ec) return std::nullopt;
  return info;
}

std::vector<ObjectInfo> LocalObjectStore::list(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(objects_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string key = fs::relative(it->path(), objects_, ec).generic_string();
    if (key.rfind(prefix, 0) != 0) continue;
    ObjectInfo info;
    info.key = key;
    info.size = static_cast<std::int64_t>(it->file_size(ec));
    info.modified = to_system(it->last_write_time(ec));
    out.push_back(std::move(info));
  }
  return out;
}

void LocalObjectStore::remove(const std::string& key) {
  const auto p = path_for(key);
  std::error_code ec;
  fs::remove(p, ec);
  // Drop the job's folder once it is empty; fails harmlessly when it is not.
  for (auto dir = p.parent_path(); dir != objects_ && dir.string().size() > objects_.string().size();
       dir = dir.parent_path())
    if (!fs::remove(dir, ec)) break;
}

void LocalObjectStore::remove_prefix(const std::string& prefix) {
  for (const auto& info : list(prefix)) remove(info.key);
}

void LocalObjectStore::download_to_file(const std::string& key, const fs::path& dest) {
  const auto p = path_for(key);
  if (!fs::is_regular_file(p)) throw std::runtime_error("no such object: " + key);
  // As the S3 store does: folders on the way are made, and `dest` changes only once the
  // whole copy is there.
  if (dest.has_parent_path()) fs::create_directories(dest.parent_path());
  const fs::path part = dest.string() + ".part";
  try {
    copy_contents(p, part);
    fs::rename(part, dest);
  } catch (...) {
    std::error_code ec;
    fs::remove(part, ec);
    throw;
  }
}

void LocalObjectStore::upload_from_file(const std::string& key, const fs::path& src) {
  const auto size = static_cast<std::int64_t>(fs::file_size(src));
  auto writer = begin_put(key, size);
  std::ifstream in(src, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + src.string());
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n && !writer->write(buf.data(), n)) throw std::runtime_error(src.string() + " grew");
  }
  writer->commit();
}

// A rename within objects/ is atomic and instant: the deadline is never reached.
void LocalObjectStore::move(const std::string& from, const std::string& to,
                            std::chrono::milliseconds /*deadline*/) {
  const auto source = path_for(from);
  const auto target = path_for(to);
  if (const int error = rename_making_folders(source, target); error != 0) {
    std::error_code ec;
    if (error == ENOENT && !fs::exists(source, ec)) throw std::runtime_error("no such object: " + from);
    base::throw_errno(error, "rename to " + target.string());
  }
  fsync_path(target.parent_path(), O_RDONLY | O_DIRECTORY);
  remove(from);  // nothing left to delete but the emptied folders
}

std::optional<fs::path> LocalObjectStore::local_path(const std::string& key) {
  return path_for(key);
}

void LocalObjectStore::set_object_created_handler(ObjectCreatedHandler handler) {
  std::lock_guard lock(handler_mutex_);
  handler_ = std::move(handler);
}

void LocalObjectStore::raise_created(const ObjectCreated& event) {
  ObjectCreatedHandler h;
  {
    std::lock_guard lock(handler_mutex_);
    h = handler_;
  }
  if (h) h(event);
}

std::unique_ptr<PutWriter> LocalObjectStore::begin_put(const std::string& key,
                                                       std::int64_t expected_size) {
  auto final_path = path_for(key);
  return std::make_unique<LocalPutWriter>(this, key, std::move(final_path),
                                          tmp_ / (random_name() + ".part"), expected_size);
}

std::size_t LocalObjectStore::remove_stale_temp_files(std::chrono::seconds age) {
  std::size_t removed = 0;
  std::error_code ec;
  const auto cutoff = Clock::now() - age;
  for (auto it = fs::directory_iterator(tmp_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (to_system(it->last_write_time(ec)) < cutoff && fs::remove(it->path(), ec)) ++removed;
  }
  return removed;
}

bool LocalObjectStore::authorize(std::string_view method, std::string_view target,
                                 const HeaderFn& header, Clock::time_point now, StoreRequest* out,
                                 StoreError* error) const {
  auto fail = [&](int status, std::string code, std::string message) {
    *error = StoreError{status, std::move(code), std::move(message)};
    return false;
  };
  const auto qpos = target.find('?');
  const auto raw_path = target.substr(0, qpos);
  const auto raw_query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
  if (raw_path.rfind(kStorePathPrefix, 0) != 0) return fail(404, "NoSuchKey", "not a store path");
  const auto path = uri_decode(raw_path);
  const auto query = parse_query(raw_query);
  if (!path || !query) return fail(400, "InvalidURI", "malformed URL encoding");
  const std::string key = path->substr(kStorePathPrefix.size());
  if (!is_valid_key(key)) return fail(400, "InvalidKey", "invalid object key");

  std::int64_t length = -1;
  if (method == "PUT") {
    const auto cl = header("content-length");
    if (!cl) return fail(411, "MissingContentLength", "a PUT needs a Content-Length");
    const auto r = std::from_chars(cl->data(), cl->data() + cl->size(), length);
    if (r.ec != std::errc{} || r.ptr != cl->data() + cl->size() || length < 0)
      return fail(400, "InvalidContentLength", "bad Content-Length");
    if (length > options_.max_object_bytes)
      return fail(413, "EntityTooLarge", "the object is larger than the store accepts");
  }

  const auto result = verify_presigned(options_.credentials, method, *path, *query, header, now);
  if (result != VerifyResult::kOk) {
    const bool expired = result == VerifyResult::kExpired;
    std::string message(verify_result_name(result));
    // The likeliest cause by far: a body of another size than the job declared (the URL signs
    // Content-Length). Say so, since the signature cannot tell which part was wrong.
    if (method == "PUT" && result == VerifyResult::kBadSignature)
      message += ": an upload URL is signed for the exact size declared when the job was created, and this "
                 "body is " + std::to_string(length) + " bytes; a size mismatch (or a changed URL) gives this error";
    return fail(403, expired ? "ExpiredRequest" : "SignatureDoesNotMatch", std::move(message));
  }
  // PUT: the signature covered content-length, so `length` is the declared size.
  out->key = key;
  out->content_length = length;
  out->content_disposition.clear();
  out->content_type = content_type_for(key);
  for (const auto& [k, v] : *query) {
    if (k == "response-content-disposition") out->content_disposition = v;
    if (k == "response-content-type") out->content_type = v;
  }
  return true;
}

}  // namespace sy::storage
