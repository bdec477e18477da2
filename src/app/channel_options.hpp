// The options of the pipe's data channel (rtcpeer(1), CHANNEL OPTIONS):
// --unordered, --max-retransmits, --max-packet-lifetime, --protocol,
// --negotiated. Part of the command line (app/options.cpp), kept apart.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/forward_spec.hpp"
#include "datachannel/options.hpp"

namespace rtcpeer {

// The stream ids --negotiated accepts: below the outgoing streams the
// association asks for (datachannel::Registry::kMaxStreams).
inline constexpr unsigned kMaxNegotiatedId = 1023;

// The values as CLI11 parses them, before they become ChannelOptions.
struct ChannelFlags {
    bool unordered = false;
    unsigned long max_retransmits = 0;
    unsigned long max_packet_lifetime = 0;
    std::string protocol;
    unsigned long negotiated = 0;
};

void add_channel_options(CLI::App& command, ChannelFlags& flags);

// Fills options from what was given; returns why the combination is wrong.
// offerer: whether this side opens the channel (without --negotiated, the
// answerer takes the remote's channel as it is, so the options cannot apply).
std::optional<std::string> resolve_channel_options(const CLI::App& command,
                                                   const ChannelFlags& flags, bool offerer,
                                                   datachannel::ChannelOptions& options);

// Whether any of the channel's options was given.
bool any_channel_option(const CLI::App& command);

// Forwarding (rtcpeer(1), FORWARDING): --listen, --connect, --max-channels,
// --once, --udp-idle (which goes into each udp spec).
struct ForwardFlags {
    std::vector<std::string> listen;
    std::vector<std::string> connect;
    double udp_idle = 60;
};
void add_forward_options(CLI::App& command, ForwardFlags& flags, unsigned& max_channels,
                         bool& once);
// Parses the specs into listen/connect; returns why they are wrong.
std::optional<std::string> resolve_forward_options(const CLI::App& command,
                                                   const ForwardFlags& flags,
                                                   std::vector<ForwardSpec>& listen,
                                                   std::vector<ForwardSpec>& connect);

// What a channel asked for, as -v shows it: "ordered, reliable, protocol
// \"x\", stream 1".
std::string describe(const datachannel::ChannelOptions& options);

}  // namespace rtcpeer
