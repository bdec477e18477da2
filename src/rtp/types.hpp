// Strong types for the numbers of RTP and RTCP, so that an SSRC cannot be
// passed where a sequence number or a timestamp is meant: all three are plain
// unsigned integers on the wire and easy to mix up in a forwarder that
// rewrites every one of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace rtcpeer::rtp {

// A value of type Rep with a meaning given by Tag. Only equality: ordering
// means different things for different quantities (sequence numbers wrap,
// SSRCs are random), so each quantity brings its own comparisons.
template <typename Tag, typename Rep>
class Strong {
  public:
    using rep = Rep;
    constexpr Strong() = default;
    constexpr explicit Strong(Rep value) : value_(value) {}
    constexpr Rep value() const { return value_; }
    friend constexpr bool operator==(Strong, Strong) = default;

  private:
    Rep value_{};
};

// Synchronization source identifier (RFC 3550 §5.1).
using Ssrc = Strong<struct SsrcTag, std::uint32_t>;
// 16-bit RTP sequence number; wraps (RFC 3550 §5.1, §A.1).
using SequenceNumber = Strong<struct SequenceNumberTag, std::uint16_t>;
// 32-bit RTP timestamp in the clock of the payload format; wraps.
using RtpTimestamp = Strong<struct RtpTimestampTag, std::uint32_t>;
// 7-bit payload type (RFC 3550 §5.1); the parser never yields more than 127.
using PayloadType = Strong<struct PayloadTypeTag, std::uint8_t>;

// RFC 3550 §A.1: a packet up to kMaxDropout ahead of the newest, or up to
// kMaxMisorder behind it, belongs to the same numbering; further is a jump
// (a restarted sender, or a stray packet).
inline constexpr std::int32_t kMaxDropout = 3000;
inline constexpr std::int32_t kMaxMisorder = 100;

// Serial number arithmetic (RFC 1982) on the 16-bit sequence space: how far
// `to` is ahead of `from`, negative when it is behind. Half the space away
// is taken as ahead.
constexpr std::int32_t distance(SequenceNumber from, SequenceNumber to) {
    const auto d = static_cast<std::uint16_t>(to.value() - from.value());
    return d >= 0x8000 ? static_cast<std::int32_t>(d) - 0x10000 : static_cast<std::int32_t>(d);
}
// True when a comes after b in sequence order, across a wrap.
constexpr bool is_newer(SequenceNumber a, SequenceNumber b) { return distance(b, a) > 0; }
constexpr SequenceNumber operator+(SequenceNumber s, std::int32_t n) {
    return SequenceNumber(static_cast<std::uint16_t>(s.value() + n));
}

}  // namespace rtcpeer::rtp

template <typename Tag, typename Rep>
struct std::hash<rtcpeer::rtp::Strong<Tag, Rep>> {
    std::size_t operator()(rtcpeer::rtp::Strong<Tag, Rep> v) const noexcept {
        return std::hash<Rep>{}(v.value());
    }
};
