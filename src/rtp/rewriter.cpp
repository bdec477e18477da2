#include "rtp/rewriter.hpp"

#include "rtp/packet.hpp"

namespace rtcpeer::rtp {

std::string_view to_string(Rewriter::Outcome outcome) {
    switch (outcome) {
        case Rewriter::Outcome::kForward:
            return "forward";
        case Rewriter::Outcome::kNewSource:
            return "new-source";
        case Rewriter::Outcome::kDropStale:
            return "drop-stale";
        case Rewriter::Outcome::kDropJump:
            return "drop-jump";
    }
    return "?";
}

Rewriter::Rewriter(const Config& config) : config_(config) {}

void Rewriter::rebase(Ssrc ssrc, SequenceNumber sequence, RtpTimestamp timestamp,
                      std::chrono::microseconds arrival) {
    SequenceNumber next_out = config_.first_sequence;
    RtpTimestamp next_timestamp = config_.first_timestamp;
    if (started_) {
        next_out = highest_out_ + 1;
        // The new source's first packet is placed as far after the last one
        // sent as it arrived after it, at least one tick, so that the
        // remote's playout neither stalls nor goes backwards.
        const auto elapsed =
            arrival > newest_arrival_ ? arrival - newest_arrival_ : std::chrono::microseconds(0);
        std::uint64_t ticks =
            static_cast<std::uint64_t>(elapsed.count()) * config_.clock_rate / 1'000'000u;
        if (ticks == 0) ticks = 1;
        next_timestamp =
            RtpTimestamp(newest_out_timestamp_.value() + static_cast<std::uint32_t>(ticks));
    }
    sequence_offset_ = static_cast<std::uint16_t>(next_out.value() - sequence.value());
    timestamp_offset_ = next_timestamp.value() - timestamp.value();
    if (started_ && !(ssrc == source_)) replaced_ = Replaced{source_, highest_in_};
    source_ = ssrc;
    first_in_ = sequence;
    highest_in_ = sequence;
    started_ = true;
    bad_sequence_.reset();
}

Rewriter::Mapped Rewriter::apply(Outcome outcome, SequenceNumber sequence, RtpTimestamp timestamp,
                                 std::chrono::microseconds arrival) {
    Mapped mapped;
    mapped.outcome = outcome;
    mapped.sequence =
        SequenceNumber(static_cast<std::uint16_t>(sequence.value() + sequence_offset_));
    mapped.timestamp = RtpTimestamp(timestamp.value() + timestamp_offset_);
    if (outcome == Outcome::kNewSource || is_newer(sequence, highest_in_)) {
        highest_in_ = sequence;
        highest_out_ = mapped.sequence;
        newest_out_timestamp_ = mapped.timestamp;
        newest_arrival_ = arrival;
    }
    return mapped;
}

Rewriter::Mapped Rewriter::map(Ssrc ssrc, SequenceNumber sequence, RtpTimestamp timestamp,
                               std::chrono::microseconds arrival) {
    if (!started_ || !(ssrc == source_)) {
        // Leftovers of the source just replaced (reordered in the network
        // or the socket's queue) would go out after its successor's first
        // packets: drop them. Anything newer from it is a new source again.
        if (replaced_ && ssrc == replaced_->ssrc) {
            const std::int32_t behind = distance(replaced_->highest, sequence);
            if (behind <= 0 && behind >= -kMaxMisorder) return {Outcome::kDropStale, {}, {}};
        }
        rebase(ssrc, sequence, timestamp, arrival);
        return apply(Outcome::kNewSource, sequence, timestamp, arrival);
    }
    const std::int32_t delta = distance(highest_in_, sequence);
    if (delta <= kMaxDropout && delta >= -kMaxMisorder) {
        // Older than the packet this source was rebased on: it would take
        // an outgoing number already used by the source before.
        if (distance(first_in_, sequence) < 0) return {Outcome::kDropStale, {}, {}};
        bad_sequence_.reset();
        return apply(Outcome::kForward, sequence, timestamp, arrival);
    }
    // The same source jumped: a stray packet, or the source restarted with
    // the same SSRC. As in RFC 3550 §A.1, the packet after the jump decides.
    if (bad_sequence_ && sequence == *bad_sequence_) {
        rebase(ssrc, sequence, timestamp, arrival);
        return apply(Outcome::kNewSource, sequence, timestamp, arrival);
    }
    bad_sequence_ = sequence + 1;
    return {Outcome::kDropJump, {}, {}};
}

std::optional<Rewriter::Mapped> Rewriter::rewrite(std::span<std::uint8_t> datagram,
                                                  PayloadType payload_type,
                                                  std::chrono::microseconds arrival) {
    RtpPacket packet;
    if (parse_rtp(datagram, packet) != RtpError::kNone) return std::nullopt;
    const Mapped mapped = map(packet.ssrc, packet.sequence, packet.timestamp, arrival);
    if (mapped.forward()) {
        set_ssrc(datagram, config_.ssrc);
        set_sequence(datagram, mapped.sequence);
        set_timestamp(datagram, mapped.timestamp);
        set_payload_type(datagram, payload_type);
    }
    return mapped;
}

}  // namespace rtcpeer::rtp
