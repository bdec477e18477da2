#include "dtls/use_srtp.hpp"

#include <algorithm>
#include <cstdio>

namespace rtcpeer::dtls::use_srtp {

namespace {

// Reads big-endian fields front to back; any read past the end leaves it failed.
class Reader {
  public:
    explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}

    bool ok() const { return ok_; }
    bool done() const { return ok_ && pos_ == data_.size(); }

    std::uint32_t number(std::size_t bytes) {
        if (!ok_ || data_.size() - pos_ < bytes) {
            ok_ = false;
            return 0;
        }
        std::uint32_t value = 0;
        for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | data_[pos_++];
        return value;
    }
    std::span<const std::uint8_t> bytes(std::size_t size) {
        if (!ok_ || data_.size() - pos_ < size) {
            ok_ = false;
            return {};
        }
        auto out = data_.subspan(pos_, size);
        pos_ += size;
        return out;
    }
    // A vector with a length prefix of `prefix` bytes.
    std::span<const std::uint8_t> vector(std::size_t prefix) { return bytes(number(prefix)); }

  private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace

std::string profile_name(std::uint16_t profile) {
    switch (profile) {
        case kAes128CmHmacSha1_80:
            return "SRTP_AES128_CM_HMAC_SHA1_80";
        case kAes128CmHmacSha1_32:
            return "SRTP_AES128_CM_HMAC_SHA1_32";
        case kAeadAes128Gcm:
            return "SRTP_AEAD_AES_128_GCM";
        case 0x0008:
            return "SRTP_AEAD_AES_256_GCM";
        default: {
            char text[8];
            std::snprintf(text, sizeof text, "0x%04x", profile);
            return text;
        }
    }
}

std::size_t keying_material_length(std::uint16_t profile) {
    switch (profile) {
        case kAes128CmHmacSha1_80:
        case kAes128CmHmacSha1_32:
            return 2 * (16 + 14);
        case kAeadAes128Gcm:
            return 2 * (16 + 12);
        case 0x0008:  // AEAD_AES_256_GCM
            return 2 * (32 + 12);
        default:
            return 0;
    }
}

std::optional<Extension> parse(std::span<const std::uint8_t> data) {
    Reader reader(data);
    const auto list = reader.vector(2);
    const auto mki = reader.vector(1);
    if (!reader.done() || list.empty() || list.size() % 2 != 0) return std::nullopt;
    Extension out;
    for (std::size_t i = 0; i < list.size(); i += 2) {
        out.profiles.push_back(static_cast<std::uint16_t>(list[i] << 8 | list[i + 1]));
    }
    out.mki.assign(mki.begin(), mki.end());
    return out;
}

std::vector<std::uint8_t> build(const Extension& extension) {
    std::vector<std::uint8_t> out;
    const std::size_t list = 2 * extension.profiles.size();
    out.push_back(static_cast<std::uint8_t>(list >> 8));
    out.push_back(static_cast<std::uint8_t>(list));
    for (std::uint16_t p : extension.profiles) {
        out.push_back(static_cast<std::uint8_t>(p >> 8));
        out.push_back(static_cast<std::uint8_t>(p));
    }
    out.push_back(static_cast<std::uint8_t>(extension.mki.size()));
    out.insert(out.end(), extension.mki.begin(), extension.mki.end());
    return out;
}

Found find_extension(Hello hello, std::span<const std::uint8_t> body, std::uint16_t type) {
    Reader reader(body);
    reader.bytes(2 + 32);  // version, random
    reader.vector(1);      // session_id
    if (hello == Hello::kClient) {
        reader.vector(1);  // cookie
        reader.vector(2);  // cipher_suites
        reader.vector(1);  // compression_methods
    } else {
        reader.bytes(2 + 1);  // cipher_suite, compression_method
    }
    if (!reader.ok()) return {Found::kMalformed, {}};
    if (reader.done()) return {};  // a hello without extensions
    Reader extensions(reader.vector(2));
    if (!reader.done()) return {Found::kMalformed, {}};
    Found found;
    while (!extensions.done()) {
        const auto this_type = extensions.number(2);
        const auto data = extensions.vector(2);
        if (!extensions.ok()) return {Found::kMalformed, {}};
        if (this_type != type) continue;
        if (found.status == Found::kPresent) return {Found::kMalformed, {}};
        found = {Found::kPresent, data};
    }
    return found;
}

std::optional<std::uint16_t> choose(std::span<const std::uint16_t> offered,
                                    std::span<const std::uint16_t> preference) {
    for (std::uint16_t p : preference) {
        if (std::find(offered.begin(), offered.end(), p) != offered.end()) return p;
    }
    return std::nullopt;
}

Answer check_answer(std::span<const std::uint8_t> data, std::span<const std::uint16_t> offered) {
    const auto extension = parse(data);
    if (!extension) return {std::nullopt, "the remote's use_srtp extension is malformed"};
    if (extension->profiles.size() != 1) {
        return {std::nullopt, "the remote's use_srtp answer names " +
                                  std::to_string(extension->profiles.size()) +
                                  " profiles instead of one"};
    }
    const std::uint16_t profile = extension->profiles[0];
    if (std::find(offered.begin(), offered.end(), profile) == offered.end()) {
        return {std::nullopt, "the remote chose SRTP profile " + profile_name(profile) +
                                  ", which was not offered"};
    }
    if (!extension->mki.empty()) {
        return {std::nullopt, "the remote's use_srtp answer carries an MKI that was not offered"};
    }
    return {profile, {}};
}

}  // namespace rtcpeer::dtls::use_srtp
