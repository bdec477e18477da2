#include "datachannel/dcep.hpp"

#include "base/bytes.hpp"

namespace rtcpeer::datachannel {

namespace {
using bytes::get16;
using bytes::get32;
using bytes::put16;
using bytes::put32;
bool known(std::uint8_t type) {
    switch (type) {
        case 0x00:
        case 0x80:
        case 0x01:
        case 0x81:
        case 0x02:
        case 0x82:
            return true;
        default:
            return false;
    }
}
}  // namespace

std::vector<std::uint8_t> build_open(const Open& open) {
    std::vector<std::uint8_t> out;
    out.push_back(static_cast<std::uint8_t>(MessageType::kOpen));
    out.push_back(static_cast<std::uint8_t>(open.channel_type));
    put16(out, open.priority);
    put32(out, open.reliability);
    put16(out, static_cast<std::uint16_t>(open.label.size()));
    put16(out, static_cast<std::uint16_t>(open.protocol.size()));
    out.insert(out.end(), open.label.begin(), open.label.end());
    out.insert(out.end(), open.protocol.begin(), open.protocol.end());
    return out;
}

std::vector<std::uint8_t> build_ack() { return {static_cast<std::uint8_t>(MessageType::kAck)}; }

std::optional<Parsed> parse(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return std::nullopt;
    if (data[0] == static_cast<std::uint8_t>(MessageType::kAck)) {
        return Parsed{MessageType::kAck, {}};
    }
    if (data[0] != static_cast<std::uint8_t>(MessageType::kOpen) || size < 12) return std::nullopt;
    if (!known(data[1])) return std::nullopt;
    const std::size_t label_length = get16(data + 8);
    const std::size_t protocol_length = get16(data + 10);
    if (12 + label_length + protocol_length > size) return std::nullopt;
    Parsed parsed{MessageType::kOpen, {}};
    parsed.open.channel_type = static_cast<ChannelType>(data[1]);
    parsed.open.priority = get16(data + 2);
    parsed.open.reliability = get32(data + 4);
    parsed.open.label.assign(reinterpret_cast<const char*>(data + 12), label_length);
    parsed.open.protocol.assign(reinterpret_cast<const char*>(data + 12 + label_length),
                                protocol_length);
    return parsed;
}

}  // namespace rtcpeer::datachannel
