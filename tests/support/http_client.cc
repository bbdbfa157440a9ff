#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <stdexcept>

namespace sy::testing {
namespace {

struct Exchange {
  HttpResponse* response;
  const std::function<bool(std::string_view)>* on_data = nullptr;
  bool stopped = false;  // on_data asked to stop: not a transport error
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const std::size_t bytes = size * n;
  if (!x->on_data) {
    x->response->body.append(data, bytes);
    return bytes;
  }
  if ((*x->on_data)(std::string_view(data, bytes))) return bytes;
  x->stopped = true;
  return 0;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const std::size_t bytes = size * n;
  std::string_view line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) x->response->headers.clear();  // after a 100 Continue
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  x->response->headers[name] = std::string(value);
  return bytes;
}

HttpResponse perform(const std::string& method, const std::string& url, std::string_view body,
                     const HttpHeaders& headers, std::chrono::seconds timeout,
                     const std::function<bool(std::string_view)>* on_data) {
  // Once, before any thread makes a handle: curl_global_init is not thread-safe.
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialised) throw std::runtime_error("curl_global_init failed");
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> list(nullptr, curl_slist_free_all);
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    has_content_type |= lower == "content-type";
    list.reset(curl_slist_append(list.release(), (name + ": " + value).c_str()));
  }
  list.reset(curl_slist_append(list.release(), "Expect:"));
  if (!has_content_type) list.reset(curl_slist_append(list.release(), "Content-Type:"));

  HttpResponse response;
  Exchange exchange{&response, on_data};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &exchange);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(timeout.count()));
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  // A PUT or POST always carries Content-Length, even for an empty body.
  if (!body.empty() || method == "PUT" || method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  }
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  const bool stream_ended = on_data && (exchange.stopped || rc == CURLE_OPERATION_TIMEDOUT);
  if (rc != CURLE_OK && !(stream_ended && status != 0))
    throw std::runtime_error(method + " " + url + ": " + curl_easy_strerror(rc));
  return response;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_case_name) const {
  const auto it = headers.find(lower_case_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse http_request(const std::string& method, const std::string& url,
                          std::string_view body, const HttpHeaders& headers,
                          std::chrono::seconds timeout) {
  return perform(method, url, body, headers, timeout, nullptr);
}

HttpResponse http_stream(const std::string& url, const HttpHeaders& headers,
                         std::chrono::seconds timeout,
                         const std::function<bool(std::string_view)>& on_data) {
  return perform("GET", url, {}, headers, timeout, &on_data);
}

std::string target_of(const std::string& url) {
  const auto scheme = url.find("://");
  const auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return path == std::string::npos ? "/" : url.substr(path);
}

unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("no free loopback port");
  return ntohs(a.sin_port);
}

}  // namespace sy::testing
