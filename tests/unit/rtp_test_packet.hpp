// The fixed RTP header (RFC 3550 §5.1) that the RTP, media and connection
// tests build their packets on: version 2, no padding, extension or CSRCs.
#pragma once

#include <cstdint>
#include <vector>

namespace rtcpeer::testing {

inline std::vector<std::uint8_t> rtp_header(std::uint8_t payload_type, std::uint16_t sequence,
                                            std::uint32_t timestamp, std::uint32_t ssrc) {
    return {0x80,
            payload_type,
            static_cast<std::uint8_t>(sequence >> 8),
            static_cast<std::uint8_t>(sequence),
            static_cast<std::uint8_t>(timestamp >> 24),
            static_cast<std::uint8_t>(timestamp >> 16),
            static_cast<std::uint8_t>(timestamp >> 8),
            static_cast<std::uint8_t>(timestamp),
            static_cast<std::uint8_t>(ssrc >> 24),
            static_cast<std::uint8_t>(ssrc >> 16),
            static_cast<std::uint8_t>(ssrc >> 8),
            static_cast<std::uint8_t>(ssrc)};
}

}  // namespace rtcpeer::testing
