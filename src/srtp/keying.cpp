#include "srtp/keying.hpp"

#include <utility>

namespace rtcpeer::srtp {

std::string_view to_string(Profile profile) {
    switch (profile) {
        case Profile::kAes128CmHmacSha1_80:
            return "SRTP_AES128_CM_HMAC_SHA1_80";
        case Profile::kAes128CmHmacSha1_32:
            return "SRTP_AES128_CM_HMAC_SHA1_32";
        case Profile::kAeadAes128Gcm:
            return "SRTP_AEAD_AES_128_GCM";
        case Profile::kAeadAes256Gcm:
            return "SRTP_AEAD_AES_256_GCM";
    }
    return "unknown SRTP profile";
}

std::optional<Profile> profile_from_id(std::uint16_t id) {
    switch (id) {
        case 0x0001:
        case 0x0002:
        case 0x0007:
        case 0x0008:
            return static_cast<Profile>(id);
        default:
            return std::nullopt;
    }
}

std::size_t key_length(Profile profile) {
    // RFC 5764 §4.1.2 (AES-128 CM), RFC 7714 §14.2 (AES-GCM).
    return profile == Profile::kAeadAes256Gcm ? 32 : 16;
}

std::size_t salt_length(Profile profile) {
    // 112-bit salts for counter mode (RFC 3711 §8.2), 96-bit for GCM (RFC
    // 7714 §8.1, the length of its IV).
    switch (profile) {
        case Profile::kAes128CmHmacSha1_80:
        case Profile::kAes128CmHmacSha1_32:
            return 14;
        case Profile::kAeadAes128Gcm:
        case Profile::kAeadAes256Gcm:
            return 12;
    }
    return 0;
}

std::size_t keying_material_length(Profile profile) {
    return 2 * (key_length(profile) + salt_length(profile));
}

std::string_view to_string(DtlsRole role) {
    return role == DtlsRole::kClient ? "client" : "server";
}

std::optional<Keys> split_keying_material(Profile profile, DtlsRole role,
                                          std::span<const std::uint8_t> material) {
    const std::size_t key = key_length(profile);
    const std::size_t salt = salt_length(profile);
    if (material.size() != keying_material_length(profile)) return std::nullopt;
    auto join = [&](std::size_t key_at, std::size_t salt_at) {
        std::vector<std::uint8_t> out(material.begin() + static_cast<std::ptrdiff_t>(key_at),
                                      material.begin() + static_cast<std::ptrdiff_t>(key_at + key));
        out.insert(out.end(), material.begin() + static_cast<std::ptrdiff_t>(salt_at),
                   material.begin() + static_cast<std::ptrdiff_t>(salt_at + salt));
        return out;
    };
    // RFC 5764 §4.2: client_write_SRTP_master_key[key], server_write_..._key,
    // client_write_SRTP_master_salt[salt], server_write_..._salt.
    std::vector<std::uint8_t> client = join(0, 2 * key);
    std::vector<std::uint8_t> server = join(key, 2 * key + salt);
    if (role == DtlsRole::kClient) return Keys{std::move(client), std::move(server)};
    return Keys{std::move(server), std::move(client)};
}

std::optional<DtlsSrtpKeys> keys_from_dtls(std::uint16_t profile_id, DtlsRole role,
                                           std::span<const std::uint8_t> material) {
    const auto profile = profile_from_id(profile_id);
    if (!profile) return std::nullopt;
    auto keys = split_keying_material(*profile, role, material);
    if (!keys) return std::nullopt;
    return DtlsSrtpKeys{*profile, std::move(*keys)};
}

}  // namespace rtcpeer::srtp
