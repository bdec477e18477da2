// What a datagram on the one ICE/DTLS 5-tuple of a WebRTC connection is, by
// its first byte (RFC 7983 §7, the update of RFC 5764 §5.1.2), and RTP
// versus RTCP when RTCP shares the port (RFC 5761 §4). Pure, no state.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace rtcpeer::rtp {

enum class DatagramKind {
    kStun,         // 0-3
    kZrtp,         // 16-19, never negotiated by WebRTC
    kDtls,         // 20-63
    kTurnChannel,  // 64-79, only between a client and its TURN server
    kRtp,          // 128-191, second byte not an RTCP packet type
    kRtcp,         // 128-191, second byte 192-223
    kUnknown,      // anything else, and the empty datagram: dropped
};
std::string_view to_string(DatagramKind kind);

DatagramKind classify(std::span<const std::uint8_t> datagram);

}  // namespace rtcpeer::rtp
