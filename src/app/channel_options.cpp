#include "app/channel_options.hpp"

#include "app/cli_checks.hpp"
#include "base/error.hpp"
#include "base/text.hpp"

namespace rtcpeer {

namespace {

const char* const kChannelOptions[] = {"--unordered", "--max-retransmits", "--max-packet-lifetime",
                                       "--protocol", "--negotiated"};

}  // namespace

void add_channel_options(CLI::App& command, ChannelFlags& flags) {
    command.add_flag("--unordered", flags.unordered,
                     "the channel delivers messages as they arrive, not in order");
    // The W3C API and DCEP's peers (pion) take both limits as 16-bit numbers.
    command
        .add_option("--max-retransmits", flags.max_retransmits,
                    "partial reliability: a message is given up after N retransmissions")
        ->check(whole_number(0, 65535, "a number of retransmissions"))
        ->type_name("N");
    command
        .add_option("--max-packet-lifetime", flags.max_packet_lifetime,
                    "partial reliability: a message is given up MS milliseconds after it was sent")
        ->check(whole_number(0, 65535, "a number of milliseconds"))
        ->type_name("MS");
    command.add_option("--protocol", flags.protocol, "the channel's subprotocol name")
        ->type_name("NAME");
    command
        .add_option("--negotiated", flags.negotiated,
                    "both sides open the channel on stream ID themselves, without DCEP")
        ->check(whole_number(0, kMaxNegotiatedId, "a stream id"))
        ->type_name("ID");
}

std::optional<std::string> resolve_channel_options(const CLI::App& command,
                                                   const ChannelFlags& flags, bool offerer,
                                                   datachannel::ChannelOptions& options) {
    const bool retransmits = command.count("--max-retransmits") > 0;
    const bool lifetime = command.count("--max-packet-lifetime") > 0;
    if (retransmits && lifetime)
        return "--max-retransmits and --max-packet-lifetime exclude each other";
    if (flags.protocol.size() > 65535) return "--protocol is longer than 65535 bytes";
    const bool negotiated = command.count("--negotiated") > 0;
    if (!offerer && !negotiated) {
        for (const char* option : kChannelOptions) {
            if (command.count(option) > 0) {
                return std::string(option) +
                       " applies to the channel this side opens: the offerer's, or with "
                       "--negotiated either side's";
            }
        }
    }
    options.ordered = !flags.unordered;
    if (retransmits) options.max_retransmits = static_cast<std::uint32_t>(flags.max_retransmits);
    if (lifetime)
        options.max_packet_lifetime_ms = static_cast<std::uint32_t>(flags.max_packet_lifetime);
    options.protocol = flags.protocol;
    if (negotiated)
        options.negotiated = datachannel::StreamId(static_cast<std::uint16_t>(flags.negotiated));
    return std::nullopt;
}

void add_forward_options(CLI::App& command, ForwardFlags& flags, unsigned& max_channels,
                         bool& once) {
    command
        .add_option("--listen", flags.listen,
                    "forward connections accepted here, each on a new channel labelled NAME "
                    "(repeatable)")
        ->type_name("NAME=tcp:[ADDR:]PORT|udp:[ADDR:]PORT|unix:PATH");
    command
        .add_option("--connect", flags.connect,
                    "connect each channel labelled NAME that the remote opens to this address "
                    "(repeatable)")
        ->type_name("NAME=tcp:HOST:PORT|udp:HOST:PORT|unix:PATH");
    command
        .add_option("--max-channels", max_channels,
                    "forwarding: at most N connections at once; the rest are refused")
        ->check(whole_number(0, 100000, "a number of channels"))
        ->type_name("N")
        ->default_str("64");
    command.add_flag("--once", once, "forwarding: end after the first connection closes");
    command
        .add_option("--udp-idle", flags.udp_idle,
                    "forwarding: close a udp flow after SEC seconds without a datagram")
        ->check(CLI::Range(0.1, 86400.0))
        ->type_name("SEC")
        ->default_str("60");
}

std::optional<std::string> resolve_forward_options(const CLI::App& command,
                                                   const ForwardFlags& flags,
                                                   std::vector<ForwardSpec>& listen,
                                                   std::vector<ForwardSpec>& connect) {
    try {
        for (const std::string& text : flags.listen) listen.push_back(parse_listen_spec(text));
        for (const std::string& text : flags.connect) connect.push_back(parse_connect_spec(text));
    } catch (const Error& e) {
        return e.stage() + ": " + e.what();
    }
    for (std::size_t i = 0; i < connect.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (connect[i].name == connect[j].name)
                return "--connect names " + connect[i].name + " twice";
        }
    }
    bool udp = false;
    for (auto* specs : {&listen, &connect}) {
        for (ForwardSpec& spec : *specs) {
            spec.udp_idle_seconds = flags.udp_idle;
            udp = udp || spec.scheme == ForwardSpec::Scheme::kUdp;
        }
    }
    if (!udp && command.count("--udp-idle") > 0)
        return "--udp-idle goes with a udp: --listen or --connect";
    const bool forwarding = !listen.empty() || !connect.empty();
    if (!forwarding && (command.count("--max-channels") > 0 || command.count("--once") > 0))
        return "--max-channels and --once go with --listen or --connect";
    if (forwarding) {
        for (const char* option : {"--lines", "--eof-wait", "--check", "--label"}) {
            if (command.count(option) > 0)
                return std::string(option) + " is for stdin/stdout, not with --listen/--connect";
        }
        if (any_channel_option(command))
            return "the channel options are for stdin/stdout's channel, not with "
                   "--listen/--connect";
    }
    return std::nullopt;
}

bool any_channel_option(const CLI::App& command) {
    for (const char* option : kChannelOptions) {
        if (command.count(option) > 0) return true;
    }
    return false;
}

std::string describe(const datachannel::ChannelOptions& options) {
    std::string text = options.ordered ? "ordered" : "unordered";
    if (options.max_retransmits) {
        text += ", max-retransmits " + std::to_string(*options.max_retransmits);
    } else if (options.max_packet_lifetime_ms) {
        text += ", max-packet-lifetime " + std::to_string(*options.max_packet_lifetime_ms) + " ms";
    } else {
        text += ", reliable";
    }
    text += ", protocol \"" + text::printable(options.protocol, 60) + "\"";
    if (options.negotiated) text += ", negotiated on stream " + options.negotiated->to_string();
    return text;
}

}  // namespace rtcpeer
