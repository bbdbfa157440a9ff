#include "storage/s3/s3_signer.h"

#include <algorithm>

namespace sy::storage {

HeaderList sign_headers(const SigV4Credentials& creds, const HeaderSignInput& in) {
  const std::string date = amz_date(in.time);
  HeaderList headers = in.headers;
  headers.emplace_back("host", in.host);
  headers.emplace_back("x-amz-date", date);
  if (in.add_content_sha256) headers.emplace_back("x-amz-content-sha256", in.payload_hash);
  std::sort(headers.begin(), headers.end());
  std::string signed_names;
  for (const auto& [name, value] : headers) {
    if (!signed_names.empty()) signed_names.push_back(';');
    signed_names += name;
  }
  const std::string signature =
      sign(creds, date, canonical_request(in.method, in.path, in.query, headers, in.payload_hash));
  headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=" + creds.access_key + "/" +
                                            date.substr(0, 8) + "/" + creds.region + "/" +
                                            creds.service + "/aws4_request, SignedHeaders=" +
                                            signed_names + ", Signature=" + signature);
  return headers;
}

}  // namespace sy::storage
