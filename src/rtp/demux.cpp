#include "rtp/demux.hpp"

namespace rtcpeer::rtp {

std::string_view to_string(DatagramKind kind) {
    switch (kind) {
        case DatagramKind::kStun:
            return "stun";
        case DatagramKind::kZrtp:
            return "zrtp";
        case DatagramKind::kDtls:
            return "dtls";
        case DatagramKind::kTurnChannel:
            return "turn-channel";
        case DatagramKind::kRtp:
            return "rtp";
        case DatagramKind::kRtcp:
            return "rtcp";
        case DatagramKind::kUnknown:
            break;
    }
    return "unknown";
}

DatagramKind classify(std::span<const std::uint8_t> datagram) {
    if (datagram.empty()) return DatagramKind::kUnknown;
    const std::uint8_t b = datagram[0];
    if (b <= 3) return DatagramKind::kStun;
    if (b >= 16 && b <= 19) return DatagramKind::kZrtp;
    if (b >= 20 && b <= 63) return DatagramKind::kDtls;
    if (b >= 64 && b <= 79) return DatagramKind::kTurnChannel;
    if (b >= 128 && b <= 191) {
        // RFC 5761 §4: with rtcp-mux the RTCP packet types 192-223 (SR 200,
        // RR 201, ... PSFB 206, XR 207) sit where an RTP packet would carry
        // the marker bit and payload type 64-95, which is why those payload
        // types are never used. A lone first byte cannot tell: unknown.
        if (datagram.size() < 2) return DatagramKind::kUnknown;
        const std::uint8_t second = datagram[1];
        return second >= 192 && second <= 223 ? DatagramKind::kRtcp : DatagramKind::kRtp;
    }
    return DatagramKind::kUnknown;
}

}  // namespace rtcpeer::rtp
