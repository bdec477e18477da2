// ICE candidate attribute (RFC 8839 §5.1), parsed and printed.
//
//   candidate:<foundation> <component> <transport> <priority> <address> <port>
//             typ <type> [raddr <addr>] [rport <port>] *(<ext-name> <ext-value>)
//
// tcptype, generation, ufrag, network-id, network-cost and any unknown
// extension are kept in order so that a candidate prints back as it came.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rtcpeer::sdp {

struct Candidate {
    std::string foundation;
    unsigned component = 1;
    std::string transport;  // as written ("udp", "UDP", "tcp"); compare case-insensitively
    std::uint32_t priority = 0;
    std::string address;  // IPv4, IPv6 or a host name (mDNS ".local")
    std::uint16_t port = 0;
    std::string type;  // host, srflx, prflx, relay
    std::optional<std::string> related_address;
    std::optional<std::uint16_t> related_port;
    std::vector<std::pair<std::string, std::string>> extensions;  // includes tcptype

    bool is_udp() const;
    bool is_tcp() const;
    // The address is a host name rather than an IP literal (mDNS, RFC 8839 §5.1).
    bool has_hostname() const;
    std::optional<std::string> extension(std::string_view name) const;
};

// Parses the attribute value, with or without the leading "candidate:" (and
// "a=candidate:"). Throws rtcpeer::Error (protocol error, stage "sdp") naming
// the offending field.
Candidate parse_candidate(std::string_view text);

// The attribute value without the "candidate:" prefix.
std::string to_string(const Candidate& candidate);

}  // namespace rtcpeer::sdp
