// A data channel's options (RFC 8831 §6.4, the W3C RTCDataChannelInit), how
// DCEP carries them (RFC 8832 §5.1) and how each message goes to SCTP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "datachannel/dcep.hpp"
#include "datachannel/types.hpp"
#include "sctp/association.hpp"

namespace rtcpeer::datachannel {

struct ChannelOptions {
    bool ordered = true;
    // At most one of the two limits; neither: reliable.
    std::optional<std::uint32_t> max_retransmits;
    std::optional<std::uint32_t> max_packet_lifetime_ms;
    std::string protocol;
    // Carried in DCEP and reported; the send scheduler treats all channels alike.
    std::uint16_t priority = 256;
    // Negotiated out of band: both sides open the channel with this id, no
    // DCEP is sent, and the channel is open at once.
    std::optional<StreamId> negotiated;

    bool reliable() const { return !max_retransmits && !max_packet_lifetime_ms; }
    bool operator==(const ChannelOptions&) const = default;
};

// Throws Error (kUsage) when the options contradict each other.
void validate(const ChannelOptions& options);

// The DATA_CHANNEL_OPEN for a channel, and the options an OPEN asks for
// (stream id aside).
Open to_open(const std::string& label, const ChannelOptions& options);
ChannelOptions from_open(const Open& open);

// How the channel's messages go to SCTP. Before the remote's DCEP ACK a
// channel's messages go ordered (RFC 8832 §6.6): pass acked = false.
sctp::SendOptions send_options(const ChannelOptions& options, bool acked);

}  // namespace rtcpeer::datachannel
