#include "worker/worker_names.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace sy::worker {

std::string random_suffix() {
  unsigned char raw[4];
  if (RAND_bytes(raw, sizeof raw) != 1) return "0";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x", raw[0], raw[1], raw[2], raw[3]);
  return buf;
}

std::string process_worker_prefix() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "host");
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + random_suffix();
}

}  // namespace sy::worker
