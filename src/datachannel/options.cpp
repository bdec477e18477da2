#include "datachannel/options.hpp"

#include "base/error.hpp"

namespace rtcpeer::datachannel {

namespace {
constexpr std::uint8_t kUnorderedBit = 0x80;
constexpr std::uint8_t kRexmit = 0x01;
constexpr std::uint8_t kTimed = 0x02;
}  // namespace

void validate(const ChannelOptions& options) {
    if (options.max_retransmits && options.max_packet_lifetime_ms) {
        throw Error(ErrorCategory::kUsage, "channel",
                    "a channel takes a retransmission limit or a lifetime, not both");
    }
}

Open to_open(const std::string& label, const ChannelOptions& options) {
    Open open;
    std::uint8_t type = options.ordered ? 0 : kUnorderedBit;
    if (options.max_retransmits) {
        type |= kRexmit;
        open.reliability = *options.max_retransmits;
    } else if (options.max_packet_lifetime_ms) {
        type |= kTimed;
        open.reliability = *options.max_packet_lifetime_ms;
    }
    open.channel_type = static_cast<ChannelType>(type);
    open.priority = options.priority;
    open.label = label;
    open.protocol = options.protocol;
    return open;
}

ChannelOptions from_open(const Open& open) {
    ChannelOptions options;
    const auto type = static_cast<std::uint8_t>(open.channel_type);
    options.ordered = open.ordered();
    // The reliability parameter means nothing for a reliable channel
    // (RFC 8832 §5.1): it is ignored there.
    if ((type & 0x03) == kRexmit) options.max_retransmits = open.reliability;
    if ((type & 0x03) == kTimed) options.max_packet_lifetime_ms = open.reliability;
    options.protocol = open.protocol;
    options.priority = open.priority;
    return options;
}

sctp::SendOptions send_options(const ChannelOptions& options, bool acked) {
    sctp::SendOptions out;
    out.unordered = acked && !options.ordered;
    if (options.max_retransmits) {
        out.reliability = sctp::SendOptions::Reliability::kMaxRetransmits;
        out.value = *options.max_retransmits;
    } else if (options.max_packet_lifetime_ms) {
        out.reliability = sctp::SendOptions::Reliability::kMaxLifetime;
        out.value = *options.max_packet_lifetime_ms;
    }
    return out;
}

}  // namespace rtcpeer::datachannel
