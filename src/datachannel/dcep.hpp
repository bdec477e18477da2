// Data Channel Establishment Protocol messages (RFC 8832). Pure functions
// over bytes; the payload protocol identifiers are in types.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "datachannel/types.hpp"

namespace rtcpeer::datachannel {

enum class MessageType : std::uint8_t { kAck = 0x02, kOpen = 0x03 };

// RFC 8832 §5.1 channel types.
enum class ChannelType : std::uint8_t {
    kReliable = 0x00,
    kReliableUnordered = 0x80,
    kPartialReliableRexmit = 0x01,
    kPartialReliableRexmitUnordered = 0x81,
    kPartialReliableTimed = 0x02,
    kPartialReliableTimedUnordered = 0x82,
};

struct Open {
    ChannelType channel_type = ChannelType::kReliable;
    std::uint16_t priority = 256;
    std::uint32_t reliability = 0;
    std::string label;
    std::string protocol;

    bool ordered() const { return (static_cast<std::uint8_t>(channel_type) & 0x80) == 0; }
};

std::vector<std::uint8_t> build_open(const Open& open);
std::vector<std::uint8_t> build_ack();

// What a DCEP message holds; nullopt when it is malformed (truncated, lengths
// that do not add up, unknown type or channel type).
struct Parsed {
    MessageType type;
    Open open;  // kOpen only
};
std::optional<Parsed> parse(const std::uint8_t* data, std::size_t size);

}  // namespace rtcpeer::datachannel
