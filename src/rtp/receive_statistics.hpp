// What a receiver knows about one incoming RTP stream (RFC 3550 §6.4.1,
// §A.1, §A.3, §A.8): the extended highest sequence number, expected and
// lost counts, the fraction lost since the last report, interarrival jitter,
// and which sequence numbers are missing, to ask for them with a NACK.
// I/O-free: the caller gives the arrival time of every packet.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "rtp/rtcp.hpp"
#include "rtp/types.hpp"

namespace rtcpeer::rtp {

class ReceiveStatistics {
  public:
    struct Config {
        std::uint32_t clock_rate = 90000;
        // Missing packets are remembered while they are at most this far
        // behind the newest, and at most max_missing of them: a NACK for
        // something older would come back too late to play.
        std::uint32_t missing_window = 1000;
        std::size_t max_missing = 500;
    };
    explicit ReceiveStatistics(const Config& config);

    enum class Verdict {
        kNew,        // in sequence, or ahead with a gap (now missing)
        kRecovered,  // one that was missing: reordered or retransmitted
        kDuplicate,  // seen already, or too old to tell
        kJump,       // a jump past RFC 3550's limits, not counted; a second
                     // packet following it restarts the statistics
    };

    // Counts one packet. `arrival` is the caller's monotonic clock.
    Verdict receive(SequenceNumber sequence, RtpTimestamp timestamp,
                    std::chrono::microseconds arrival);

    // Remembers the middle of an SR's NTP time and when it arrived, for the
    // LSR and DLSR of the next report block (RFC 3550 §6.4.1).
    void on_sender_report(std::uint64_t ntp_time, std::chrono::microseconds arrival);

    bool started() const { return started_; }
    // Cycles << 16 | highest sequence number, as in report blocks.
    std::uint32_t extended_highest() const;
    std::uint64_t expected() const;
    std::uint64_t received() const { return received_; }
    // Expected minus received; negative with duplicates (RFC 3550 §6.4.1).
    std::int64_t lost() const;
    // Interarrival jitter in timestamp units.
    std::uint32_t jitter() const { return static_cast<std::uint32_t>(jitter_ >> 4); }
    // Missing sequence numbers, oldest first, within the window and bound.
    std::vector<SequenceNumber> missing() const;
    std::size_t missing_count() const { return missing_.size(); }

    // A report block for this stream; sets the interval for the next
    // fraction lost (RFC 3550 §A.3), so call it once per report sent.
    ReportBlock report_block(Ssrc source, std::chrono::microseconds now);

  private:
    void restart(SequenceNumber sequence);
    std::uint64_t extend(SequenceNumber sequence) const;
    void forget_old_missing();

    Config config_;
    bool started_ = false;
    std::uint16_t max_sequence_ = 0;
    std::uint64_t cycles_ = 0;  // count of wraps << 16
    std::uint64_t base_sequence_ = 0;
    std::optional<std::uint16_t> bad_sequence_;
    std::uint64_t received_ = 0;
    std::uint64_t expected_prior_ = 0;
    std::uint64_t received_prior_ = 0;
    // Jitter in 1/16 timestamp units (the integer form of §A.8).
    std::int64_t jitter_ = 0;
    std::optional<std::int64_t> last_transit_;
    std::deque<std::uint64_t> missing_;  // extended sequence numbers, ascending
    std::uint32_t last_sr_ = 0;
    std::optional<std::chrono::microseconds> last_sr_arrival_;
};

std::string_view to_string(ReceiveStatistics::Verdict verdict);

}  // namespace rtcpeer::rtp
