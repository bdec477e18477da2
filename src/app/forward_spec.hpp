// What --listen and --connect name (rtcpeer(1), FORWARDING), parsed by pure
// functions:
//   --listen  [NAME=]tcp:[ADDR:]PORT   --connect [NAME=]tcp:HOST:PORT
//   --listen  [NAME=]unix:PATH         --connect [NAME=]unix:PATH
//   --listen  [NAME=]udp:[ADDR:]PORT   --connect [NAME=]udp:HOST:PORT
// NAME is the label of the channels that carry the connections; it defaults
// to the scheme. An IPv6 address goes in brackets: tcp:[::1]:8080.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rtcpeer {

struct ForwardSpec {
    enum class Scheme { kTcp, kUnix, kUdp };
    std::string name;  // the channel label
    Scheme scheme = Scheme::kTcp;
    std::string host;  // tcp: address or host name; empty for --listen: loopback
    std::uint16_t port = 0;
    std::string path;  // unix
    // udp: a flow idle this long is closed (--udp-idle, set by the command line).
    double udp_idle_seconds = 60;

    std::string describe() const;  // "tcp:127.0.0.1:8080", "unix:/run/x.sock"
    bool operator==(const ForwardSpec&) const = default;
};

// Throw Error (kUsage) saying what is wrong with the text.
ForwardSpec parse_listen_spec(std::string_view text);
ForwardSpec parse_connect_spec(std::string_view text);

}  // namespace rtcpeer
