// Walking the chunks of one SCTP packet (RFC 4960 §3), for the pure readers
// of whole packets (redundancy, sack_frequency). usrsctp parses packets for
// itself; these only look.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.hpp"

namespace rtcpeer::sctp::chunks {

// Chunk types (RFC 4960 §3.2; I-DATA: RFC 8260 §2.1).
inline constexpr std::uint8_t kData = 0;
inline constexpr std::uint8_t kSack = 3;
inline constexpr std::uint8_t kIData = 64;
inline constexpr std::size_t kCommonHeader = 12;

// Calls visit(type, chunk, length) for each chunk in order, `chunk` at its
// header and `length` from its header (padding not counted). Stops at a
// length that is shorter than a chunk header or runs past the packet.
template <typename Visit>
void for_each(const std::uint8_t* packet, std::size_t size, Visit visit) {
    for (std::size_t at = kCommonHeader; at + 4 <= size;) {
        const std::size_t length = bytes::get16(packet + at + 2);
        if (length < 4 || length > size - at) return;
        visit(packet[at], packet + at, length);
        at += (length + 3) & ~std::size_t{3};
    }
}

// Whether a chunk is DATA or I-DATA long enough to hold its TSN, which
// follows the chunk header in both (RFC 4960 §3.3.1, RFC 8260 §2.1).
inline bool is_data(std::uint8_t type, std::size_t length) {
    return (type == kData || type == kIData) && length >= 8;
}

}  // namespace rtcpeer::sctp::chunks
