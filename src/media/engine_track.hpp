// The state the media Engine keeps for each track, shared by the two files
// that implement it: engine.cpp (set-up, the RTP paths out and in, status)
// and engine_feedback.cpp (RTCP: reports, NACK both ways, PLI). Private to
// src/media; engine.hpp says what the Engine does.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "media/engine.hpp"

namespace rtcpeer::media {

namespace engine_detail {

constexpr std::size_t kHistoryPackets = 1024;
constexpr std::size_t kHistoryBytes = 2 * 1024 * 1024;
// PLIs we send are at least this far apart; the remote's are logged at most
// once a second.
constexpr std::chrono::microseconds kPliGap{300000};

inline const char* kind_name(sdp::MediaKind kind) { return sdp::to_string(kind); }

inline std::string hex(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "%08x", value);
    return text;
}

inline std::string codec_text(const sdp::Codec& codec) {
    std::string text = codec.name + "/" + std::to_string(codec.clock_rate);
    if (codec.channels > 1) text += "/" + std::to_string(codec.channels);
    return text + " pt " + std::to_string(codec.payload_type);
}

}  // namespace engine_detail

struct Engine::Track {
    sdp::MediaKind kind = sdp::MediaKind::kVideo;
    std::optional<Endpoint> source_endpoint, sink_endpoint;
    UdpSocket source, sink_rtp, sink_rtcp;
    std::optional<sdp::NegotiatedTrack> negotiated;
    bool sending = false;
    bool receiving = false;
    TrackCounters counters;

    // Sending.
    std::optional<rtp::Rewriter> rewriter;
    rtp::SendHistory history{engine_detail::kHistoryPackets, engine_detail::kHistoryBytes};
    bool sent_any = false;
    std::uint32_t last_timestamp = 0;
    std::chrono::microseconds last_arrival{0};
    std::uint32_t packet_count = 0;
    std::uint32_t octet_count = 0;
    std::map<std::uint16_t, std::chrono::microseconds> resent_at;
    std::chrono::microseconds last_pli_log{-engine_detail::kPliGap};

    // Receiving.
    std::optional<std::uint32_t> remote_ssrc;
    std::optional<rtp::ReceiveStatistics> stats;
    struct Missing {
        int nacks = 0;
        std::chrono::microseconds since{0};
        std::chrono::microseconds last{0};
        bool given_up = false;
    };
    std::map<std::uint16_t, Missing> missing;
    std::chrono::microseconds last_pli{-engine_detail::kPliGap};
    const char* pli_pending = nullptr;  // why, when the last one was too recent
    bool sink_refused = false;          // nobody listened at the sink last time
    bool forward_rtcp = false;          // set while one compound packet is read
};

}  // namespace rtcpeer::media
