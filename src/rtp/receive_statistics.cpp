#include "rtp/receive_statistics.hpp"

#include <algorithm>

namespace rtcpeer::rtp {

namespace {
constexpr std::uint32_t kSequenceModulo = 0x10000;
}  // namespace

std::string_view to_string(ReceiveStatistics::Verdict verdict) {
    switch (verdict) {
        case ReceiveStatistics::Verdict::kNew:
            return "new";
        case ReceiveStatistics::Verdict::kRecovered:
            return "recovered";
        case ReceiveStatistics::Verdict::kDuplicate:
            return "duplicate";
        case ReceiveStatistics::Verdict::kJump:
            return "jump";
    }
    return "?";
}

ReceiveStatistics::ReceiveStatistics(const Config& config) : config_(config) {}

void ReceiveStatistics::restart(SequenceNumber sequence) {
    started_ = true;
    max_sequence_ = sequence.value();
    cycles_ = 0;
    base_sequence_ = sequence.value();
    bad_sequence_.reset();
    received_ = 0;
    expected_prior_ = 0;
    received_prior_ = 0;
    missing_.clear();
}

std::uint64_t ReceiveStatistics::extend(SequenceNumber sequence) const {
    const std::int64_t highest = static_cast<std::int64_t>(cycles_ + max_sequence_);
    const std::int64_t extended = highest + distance(SequenceNumber(max_sequence_), sequence);
    return extended < 0 ? 0 : static_cast<std::uint64_t>(extended);
}

void ReceiveStatistics::forget_old_missing() {
    const std::uint64_t highest = cycles_ + max_sequence_;
    while (!missing_.empty() && (missing_.size() > config_.max_missing ||
                                 missing_.front() + config_.missing_window < highest)) {
        missing_.pop_front();
    }
}

ReceiveStatistics::Verdict ReceiveStatistics::receive(SequenceNumber sequence,
                                                      RtpTimestamp timestamp,
                                                      std::chrono::microseconds arrival) {
    auto update_jitter = [&] {
        // RFC 3550 §A.8: the change in transit time between consecutive
        // packets, both in timestamp units, smoothed with gain 1/16. Only
        // packets in sequence order take part: a retransmission's transit
        // says nothing about the network's jitter.
        const auto arrival_units = static_cast<std::uint32_t>(
            static_cast<std::uint64_t>(arrival.count()) * config_.clock_rate / 1'000'000u);
        const auto transit = static_cast<std::int64_t>(arrival_units - timestamp.value());
        if (last_transit_) {
            const auto d =
                static_cast<std::int32_t>(static_cast<std::uint32_t>(transit - *last_transit_));
            const std::int64_t magnitude = d < 0 ? -static_cast<std::int64_t>(d) : d;
            jitter_ += magnitude - ((jitter_ + 8) >> 4);
        }
        last_transit_ = transit;
    };

    if (!started_) {
        restart(sequence);
        received_ = 1;
        update_jitter();
        return Verdict::kNew;
    }
    const auto forward = static_cast<std::uint16_t>(sequence.value() - max_sequence_);
    if (forward == 0) {
        ++received_;  // RFC 3550 counts duplicates too: lost may go negative
        return Verdict::kDuplicate;
    }
    if (forward < kMaxDropout) {  // RFC 3550 §A.1
        const std::uint64_t highest = cycles_ + max_sequence_;
        if (sequence.value() < max_sequence_) cycles_ += kSequenceModulo;  // wrapped
        max_sequence_ = sequence.value();
        // What lies between is missing; past the window it would be
        // forgotten at once, so only the newest part is added.
        std::uint64_t from = highest + 1;
        const std::uint64_t to = highest + forward;  // the new highest, excluded
        if (to - from > config_.missing_window) from = to - config_.missing_window;
        for (std::uint64_t s = from; s < to; ++s) missing_.push_back(s);
        forget_old_missing();
        bad_sequence_.reset();
        ++received_;
        update_jitter();
        return Verdict::kNew;
    }
    if (distance(SequenceNumber(max_sequence_), sequence) < 0) {
        // Behind the newest: one we were missing (reordered, or the answer
        // to a NACK, which may be well past RFC 3550's MAX_MISORDER)?
        const std::uint64_t extended = extend(sequence);
        const auto it = std::lower_bound(missing_.begin(), missing_.end(), extended);
        if (it != missing_.end() && *it == extended) {
            missing_.erase(it);
            ++received_;
            return Verdict::kRecovered;
        }
        if (static_cast<std::uint16_t>(max_sequence_ - sequence.value()) <= kMaxMisorder) {
            ++received_;
            return Verdict::kDuplicate;
        }
    }
    // RFC 3550 §A.1: a jump. The sender may have restarted; if the next
    // packet follows this one, start over from it.
    if (bad_sequence_ && sequence.value() == *bad_sequence_) {
        restart(sequence);
        received_ = 1;
        last_transit_.reset();
        update_jitter();
        return Verdict::kNew;
    }
    bad_sequence_ = static_cast<std::uint16_t>(sequence.value() + 1);
    return Verdict::kJump;
}

void ReceiveStatistics::on_sender_report(std::uint64_t ntp_time,
                                         std::chrono::microseconds arrival) {
    last_sr_ = ntp_middle(ntp_time);
    last_sr_arrival_ = arrival;
}

std::uint32_t ReceiveStatistics::extended_highest() const {
    return static_cast<std::uint32_t>(cycles_ + max_sequence_);
}

std::uint64_t ReceiveStatistics::expected() const {
    return started_ ? cycles_ + max_sequence_ - base_sequence_ + 1 : 0;
}

std::int64_t ReceiveStatistics::lost() const {
    return static_cast<std::int64_t>(expected()) - static_cast<std::int64_t>(received_);
}

std::vector<SequenceNumber> ReceiveStatistics::missing() const {
    std::vector<SequenceNumber> out;
    out.reserve(missing_.size());
    for (const auto s : missing_) out.emplace_back(static_cast<std::uint16_t>(s));
    return out;
}

ReportBlock ReceiveStatistics::report_block(Ssrc source, std::chrono::microseconds now) {
    ReportBlock block;
    block.source = source;
    // RFC 3550 §A.3: the fraction lost over the interval since the last
    // report; 0 when duplicates outnumber losses.
    const std::uint64_t expected_now = expected();
    const std::int64_t expected_interval =
        static_cast<std::int64_t>(expected_now - expected_prior_);
    const std::int64_t received_interval = static_cast<std::int64_t>(received_ - received_prior_);
    const std::int64_t lost_interval = expected_interval - received_interval;
    expected_prior_ = expected_now;
    received_prior_ = received_;
    if (expected_interval > 0 && lost_interval > 0) {
        block.fraction_lost = static_cast<std::uint8_t>(
            std::min<std::int64_t>((lost_interval << 8) / expected_interval, 255));
    }
    block.cumulative_lost =
        static_cast<std::int32_t>(std::clamp<std::int64_t>(lost(), -0x800000, 0x7FFFFF));
    block.highest_sequence = extended_highest();
    block.jitter = jitter();
    if (last_sr_arrival_) {
        block.last_sr = last_sr_;
        // DLSR in units of 1/65536 s.
        const auto delay = std::max(now - *last_sr_arrival_, std::chrono::microseconds(0));
        block.delay_since_last_sr = static_cast<std::uint32_t>(
            static_cast<std::uint64_t>(delay.count()) * 65536u / 1'000'000u);
    }
    return block;
}

}  // namespace rtcpeer::rtp
