// Maps the RTP packets that a local source sends (ffmpeg, GStreamer) onto one
// outgoing stream: one SSRC, one continuous sequence number and timestamp
// space, whatever the source does. A source that restarts comes back with a
// new SSRC (or the same one and new numbering); the remote must see the same
// track go on, not a jump that its jitter buffer takes for a huge loss or a
// stream it never negotiated. I/O-free: the caller gives arrival times.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "rtp/types.hpp"

namespace rtcpeer::rtp {

class Rewriter {
  public:
    struct Config {
        Ssrc ssrc;                      // the outgoing SSRC, for the whole session
        SequenceNumber first_sequence;  // random start (RFC 3550 §5.1)
        RtpTimestamp first_timestamp;   // random start (RFC 3550 §5.1)
        std::uint32_t clock_rate = 90000;
    };
    explicit Rewriter(const Config& config);

    enum class Outcome {
        kForward,    // send with the mapped numbers
        kNewSource,  // the first packet of a new incoming source: forward
        kDropStale,  // a late packet of a replaced source, or from before a rebase
        kDropJump,   // a jump in numbering not yet confirmed by the next packet
    };
    struct Mapped {
        Outcome outcome = Outcome::kForward;
        SequenceNumber sequence;
        RtpTimestamp timestamp;
        bool forward() const {
            return outcome == Outcome::kForward || outcome == Outcome::kNewSource;
        }
    };

    Mapped map(Ssrc ssrc, SequenceNumber sequence, RtpTimestamp timestamp,
               std::chrono::microseconds arrival);

    // Parses the datagram, maps it, and rewrites its SSRC, sequence number,
    // timestamp and payload type in place. nullopt when it is not valid RTP.
    std::optional<Mapped> rewrite(std::span<std::uint8_t> datagram, PayloadType payload_type,
                                  std::chrono::microseconds arrival);

    Ssrc ssrc() const { return config_.ssrc; }
    std::uint32_t clock_rate() const { return config_.clock_rate; }

  private:
    void rebase(Ssrc ssrc, SequenceNumber sequence, RtpTimestamp timestamp,
                std::chrono::microseconds arrival);
    Mapped apply(Outcome outcome, SequenceNumber sequence, RtpTimestamp timestamp,
                 std::chrono::microseconds arrival);

    Config config_;
    bool started_ = false;
    Ssrc source_;  // the incoming source being forwarded
    struct Replaced {
        Ssrc ssrc;
        SequenceNumber highest;
    };
    std::optional<Replaced> replaced_;  // the one before it, whose leftovers are dropped
    std::uint16_t sequence_offset_ = 0;
    std::uint32_t timestamp_offset_ = 0;
    SequenceNumber first_in_;                     // the first one since the last rebase
    SequenceNumber highest_in_;                   // newest incoming sequence number
    SequenceNumber highest_out_;                  // what it was mapped to
    RtpTimestamp newest_out_timestamp_;           // the timestamp sent with it
    std::chrono::microseconds newest_arrival_{};  // and when it arrived
    std::optional<SequenceNumber> bad_sequence_;  // RFC 3550 §A.1's confirmation of a jump
};

std::string_view to_string(Rewriter::Outcome outcome);

}  // namespace rtcpeer::rtp
