// The local DTLS identity: a fresh self-signed ECDSA P-256 certificate per
// run (as browsers make them), and its fingerprint for a=fingerprint.
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cstdint>
#include <vector>

#include "sdp/description.hpp"

namespace rtcpeer::dtls {

class Certificate {
  public:
    static Certificate generate();
    ~Certificate();
    Certificate(Certificate&& other) noexcept;
    Certificate& operator=(Certificate&&) = delete;
    Certificate(const Certificate&) = delete;

    const sdp::Fingerprint& fingerprint() const { return fingerprint_; }
    gnutls_certificate_credentials_t credentials() const { return credentials_; }

  private:
    Certificate() = default;
    gnutls_certificate_credentials_t credentials_ = nullptr;
    sdp::Fingerprint fingerprint_;
};

// The digest of a DER certificate with the fingerprint's algorithm; empty
// when the algorithm is not supported.
std::vector<std::uint8_t> digest_certificate(const std::string& algorithm,
                                             const gnutls_datum_t& der);

}  // namespace rtcpeer::dtls
