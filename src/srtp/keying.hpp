// DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2) and the
// split of the keying material that DTLS exports into this side's and the
// remote's master key and salt (RFC 5764 §4.2). No libsrtp here: the
// material comes as bytes from whoever ran the handshake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace rtcpeer::srtp {

// IANA "DTLS-SRTP Protection Profiles" values, as use_srtp carries them.
// libsrtp protects with all four; DTLS negotiates AEAD_AES_128_GCM, then
// the two AES-CM ones (dtls/use_srtp.hpp); AEAD_AES_256_GCM is here for keys
// that come from elsewhere.
enum class Profile : std::uint16_t {
    kAes128CmHmacSha1_80 = 0x0001,
    kAes128CmHmacSha1_32 = 0x0002,
    kAeadAes128Gcm = 0x0007,
    kAeadAes256Gcm = 0x0008,
};
std::string_view to_string(Profile profile);  // the IANA name
std::optional<Profile> profile_from_id(std::uint16_t id);

std::size_t key_length(Profile profile);
std::size_t salt_length(Profile profile);
// What to ask the exporter for: both sides' keys and salts.
std::size_t keying_material_length(Profile profile);

// RFC 5764 §4.2: the exporter label for SRTP keying material.
inline constexpr std::string_view kExporterLabel = "EXTRACTOR-dtls_srtp";

enum class DtlsRole { kClient, kServer };
std::string_view to_string(DtlsRole role);

// Master key followed by master salt, the layout libsrtp takes.
struct Keys {
    std::vector<std::uint8_t> local;   // protects what this side sends
    std::vector<std::uint8_t> remote;  // unprotects what the remote sends
};

// The material is client key, server key, client salt, server salt; the
// DTLS client sends with the client's. nullopt when the length is wrong.
std::optional<Keys> split_keying_material(Profile profile, DtlsRole role,
                                          std::span<const std::uint8_t> material);

// What a DTLS handshake exported (dtls::Transport::srtp_keying_material:
// the profile's IANA id and the material), split for this side. nullopt
// for a profile rtcpeer does not know or material of the wrong length.
struct DtlsSrtpKeys {
    Profile profile;
    Keys keys;
};
std::optional<DtlsSrtpKeys> keys_from_dtls(std::uint16_t profile_id, DtlsRole role,
                                           std::span<const std::uint8_t> material);

}  // namespace rtcpeer::srtp
