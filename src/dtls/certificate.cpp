#include "dtls/certificate.hpp"

#include <gnutls/crypto.h>

#include <ctime>
#include <memory>
#include <random>
#include <utility>

#include "base/error.hpp"

namespace rtcpeer::dtls {

namespace {

void check(int rc, const char* what) {
    if (rc < 0) {
        throw Error(ErrorCategory::kRuntime, "dtls",
                    std::string(what) + ": " + gnutls_strerror(rc));
    }
}

struct KeyDeleter {
    void operator()(gnutls_x509_privkey_t key) const { gnutls_x509_privkey_deinit(key); }
};
struct CrtDeleter {
    void operator()(gnutls_x509_crt_t crt) const { gnutls_x509_crt_deinit(crt); }
};

}  // namespace

std::vector<std::uint8_t> digest_certificate(const std::string& algorithm,
                                             const gnutls_datum_t& der) {
    gnutls_digest_algorithm_t digest = GNUTLS_DIG_UNKNOWN;
    if (algorithm == "sha-1") digest = GNUTLS_DIG_SHA1;
    if (algorithm == "sha-224") digest = GNUTLS_DIG_SHA224;
    if (algorithm == "sha-256") digest = GNUTLS_DIG_SHA256;
    if (algorithm == "sha-384") digest = GNUTLS_DIG_SHA384;
    if (algorithm == "sha-512") digest = GNUTLS_DIG_SHA512;
    if (digest == GNUTLS_DIG_UNKNOWN) return {};
    std::vector<std::uint8_t> out(gnutls_hash_get_len(digest));
    if (gnutls_hash_fast(digest, der.data, der.size, out.data()) < 0) return {};
    return out;
}

Certificate Certificate::generate() {
    gnutls_x509_privkey_t raw_key = nullptr;
    check(gnutls_x509_privkey_init(&raw_key), "private key");
    std::unique_ptr<std::remove_pointer_t<gnutls_x509_privkey_t>, KeyDeleter> key(raw_key);
    check(gnutls_x509_privkey_generate(key.get(), GNUTLS_PK_ECDSA,
                                       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
          "generating the ECDSA key");

    gnutls_x509_crt_t raw_crt = nullptr;
    check(gnutls_x509_crt_init(&raw_crt), "certificate");
    std::unique_ptr<std::remove_pointer_t<gnutls_x509_crt_t>, CrtDeleter> crt(raw_crt);
    std::random_device random;
    unsigned char serial[8];
    for (auto& byte : serial) byte = static_cast<unsigned char>(random());
    serial[0] &= 0x7f;  // a positive INTEGER
    const std::time_t now = std::time(nullptr);
    check(gnutls_x509_crt_set_version(crt.get(), 3), "certificate version");
    check(gnutls_x509_crt_set_serial(crt.get(), serial, sizeof serial), "certificate serial");
    // Back-dated a day so that peers with a skewed clock still accept it.
    check(gnutls_x509_crt_set_activation_time(crt.get(), now - 86400), "certificate start");
    check(gnutls_x509_crt_set_expiration_time(crt.get(), now + 30 * 86400), "certificate end");
    check(gnutls_x509_crt_set_dn_by_oid(crt.get(), GNUTLS_OID_X520_COMMON_NAME, 0, "rtcpeer", 7),
          "certificate name");
    check(gnutls_x509_crt_set_key(crt.get(), key.get()), "certificate key");
    check(gnutls_x509_crt_sign2(crt.get(), crt.get(), key.get(), GNUTLS_DIG_SHA256, 0),
          "signing the certificate");

    Certificate certificate;
    check(gnutls_certificate_allocate_credentials(&certificate.credentials_), "credentials");
    gnutls_x509_crt_t chain[] = {crt.get()};
    check(gnutls_certificate_set_x509_key(certificate.credentials_, chain, 1, key.get()),
          "credentials key");

    gnutls_datum_t der{};
    check(gnutls_x509_crt_export2(crt.get(), GNUTLS_X509_FMT_DER, &der),
          "exporting the certificate");
    certificate.fingerprint_.algorithm = "sha-256";
    certificate.fingerprint_.digest = digest_certificate("sha-256", der);
    gnutls_free(der.data);
    return certificate;
}

Certificate::Certificate(Certificate&& other) noexcept
    : credentials_(std::exchange(other.credentials_, nullptr)),
      fingerprint_(std::move(other.fingerprint_)) {}

Certificate::~Certificate() {
    if (credentials_ != nullptr) gnutls_certificate_free_credentials(credentials_);
}

}  // namespace rtcpeer::dtls
