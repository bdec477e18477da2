#include "sctp/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace rtcpeer::sctp {

namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78;  // reflected Castagnoli

constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t value = i;
        for (int bit = 0; bit < 8; ++bit) value = (value >> 1) ^ ((value & 1) ? kPolynomial : 0);
        table[i] = value;
    }
    return table;
}

constexpr auto kTable = make_table();

std::uint32_t update_portable(std::uint32_t crc, const std::uint8_t* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) crc = (crc >> 8) ^ kTable[(crc ^ data[i]) & 0xFF];
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t update_sse42(std::uint32_t crc,
                                                             const std::uint8_t* data,
                                                             std::size_t size) {
    std::uint64_t wide = crc;
    for (; size >= 8; size -= 8, data += 8) {
        std::uint64_t word;
        std::memcpy(&word, data, 8);
        wide = _mm_crc32_u64(wide, word);
    }
    crc = static_cast<std::uint32_t>(wide);
    for (; size > 0; --size, ++data) crc = _mm_crc32_u8(crc, *data);
    return crc;
}

const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size) {
    std::uint32_t crc = 0xFFFFFFFF;
#if defined(__x86_64__)
    crc = kHaveSse42 ? update_sse42(crc, data, size) : update_portable(crc, data, size);
#else
    crc = update_portable(crc, data, size);
#endif
    // The field holds ~crc in little-endian byte order (RFC 4960 App. B).
    crc = ~crc;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    crc = __builtin_bswap32(crc);
#endif
    return crc;
}

void fill_checksum(std::uint8_t* packet, std::size_t size) {
    constexpr std::size_t kChecksumOffset = 8;
    if (size < 12) return;
    std::memset(packet + kChecksumOffset, 0, 4);
    const std::uint32_t checksum = crc32c(packet, size);
    std::memcpy(packet + kChecksumOffset, &checksum, 4);
}

}  // namespace rtcpeer::sctp
