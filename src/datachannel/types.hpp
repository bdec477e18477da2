// The data-channel layer's small types: a stream id (which SCTP stream a
// channel uses, in both directions) and the SCTP payload protocol identifiers
// of RFC 8831. The sctp layer below speaks raw integers; these wrap them here.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace rtcpeer::datachannel {

// An SCTP stream id. 65535 is reserved (RFC 8831 §6.5) and never used.
class StreamId {
  public:
    constexpr explicit StreamId(std::uint16_t value) : value_(value) {}
    constexpr std::uint16_t value() const { return value_; }
    // RFC 8832 §6: the DTLS client opens even ids, the server odd ones.
    constexpr bool even() const { return value_ % 2 == 0; }
    constexpr auto operator<=>(const StreamId&) const = default;
    std::string to_string() const { return std::to_string(value_); }

  private:
    std::uint16_t value_;
};

// SCTP payload protocol identifiers (RFC 8831 §8, IANA).
enum class Ppid : std::uint32_t {
    kDcep = 50,
    kString = 51,
    kBinaryPartial = 52,  // deprecated; accepted on receive, never sent
    kBinary = 53,
    kStringPartial = 54,  // deprecated; accepted on receive, never sent
    kStringEmpty = 56,
    kBinaryEmpty = 57,
};

constexpr std::uint32_t to_wire(Ppid ppid) { return static_cast<std::uint32_t>(ppid); }

}  // namespace rtcpeer::datachannel

template <>
struct std::hash<rtcpeer::datachannel::StreamId> {
    std::size_t operator()(rtcpeer::datachannel::StreamId id) const noexcept {
        return std::hash<std::uint16_t>{}(id.value());
    }
};
