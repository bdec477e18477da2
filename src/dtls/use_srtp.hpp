// The use_srtp extension (RFC 5764 §4.1.1) as bytes: its extension_data,
// where it sits in a DTLS 1.2 ClientHello or ServerHello, and the choice of
// a profile. Pure functions, no GnuTLS: dtls::Transport calls them from a
// handshake hook (dtls/transport.cpp says why), and they are fuzzed.
//
// Profiles are IANA "DTLS-SRTP Protection Profiles" ids; srtp/keying.hpp
// names the same values for libsrtp. AEAD_AES_128_GCM is RFC 7714.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rtcpeer::dtls::use_srtp {

inline constexpr std::uint16_t kExtensionType = 14;

inline constexpr std::uint16_t kAes128CmHmacSha1_80 = 0x0001;
inline constexpr std::uint16_t kAes128CmHmacSha1_32 = 0x0002;
inline constexpr std::uint16_t kAeadAes128Gcm = 0x0007;

// What rtcpeer offers as a client and accepts as a server, best first: GCM
// authenticates and encrypts in one pass and its tag is 16 bytes against
// HMAC-SHA1's 10; every WebRTC stack has SHA1_80.
inline constexpr std::uint16_t kPreference[] = {kAeadAes128Gcm, kAes128CmHmacSha1_80,
                                                kAes128CmHmacSha1_32};

// "SRTP_AEAD_AES_128_GCM", or "0x0005" for an id rtcpeer does not know.
std::string profile_name(std::uint16_t profile);

// 2 * (master key + master salt): what the exporter "EXTRACTOR-dtls_srtp"
// yields for the profile (RFC 5764 §4.2, RFC 7714 §12). 0 when unknown.
std::size_t keying_material_length(std::uint16_t profile);

// UseSRTPData: SRTPProtectionProfiles profiles<2..2^16-1>; opaque srtp_mki<0..255>.
struct Extension {
    std::vector<std::uint16_t> profiles;
    std::vector<std::uint8_t> mki;
};
// nullopt when the bytes are not exactly one UseSRTPData (odd or empty
// profile list, lengths past the end, bytes left over).
std::optional<Extension> parse(std::span<const std::uint8_t> data);
std::vector<std::uint8_t> build(const Extension& extension);

// Where a hello's extensions are. A handshake message body (no handshake
// header), DTLS 1.2 layout: ClientHello has a cookie, ServerHello one
// cipher suite.
enum class Hello { kClient, kServer };
struct Found {
    enum Status { kAbsent, kPresent, kMalformed } status = kAbsent;
    std::span<const std::uint8_t> data;  // the extension_data, when present
};
// The extension of `type` in the hello; kMalformed when the hello does not
// parse to its end or names the type twice (RFC 5246 §7.4.1.4).
Found find_extension(Hello hello, std::span<const std::uint8_t> body,
                     std::uint16_t type = kExtensionType);

// A server's pick: the first of its preference that the client offered.
std::optional<std::uint16_t> choose(std::span<const std::uint16_t> offered,
                                    std::span<const std::uint16_t> preference);

// A client's reading of the server's use_srtp: exactly one profile, one it
// offered, and no MKI (rtcpeer offers none; RFC 5764 §4.1.1 has the client
// abort on an MKI it did not offer). The profile, or why not.
struct Answer {
    std::optional<std::uint16_t> profile;
    std::string error;
};
Answer check_answer(std::span<const std::uint8_t> data, std::span<const std::uint16_t> offered);

}  // namespace rtcpeer::dtls::use_srtp
