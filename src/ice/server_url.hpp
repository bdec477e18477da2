// STUN and TURN server URLs as WebRTC writes them (RFC 7064, RFC 7065):
//   stun:host[:port]
//   turn:host[:port][?transport=udp|tcp]
//   turns:host[:port][?transport=tcp]
// plus an optional "user:password@" before the host (not in the RFCs, but
// what users paste from TURN providers' dashboards; percent-escapes allowed).
// Hosts are names, IPv4 addresses or bracketed IPv6 addresses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rtcpeer::ice {

enum class ServerKind { kStun, kTurn };
// How rtcpeer reaches a TURN server: over UDP, TCP, or TLS on TCP (turns:).
enum class RelayTransport { kUdp, kTcp, kTls };

const char* to_string(RelayTransport transport);

struct ServerUrl {
    ServerKind kind = ServerKind::kStun;
    RelayTransport transport = RelayTransport::kUdp;
    std::string host;  // without brackets
    std::uint16_t port = 3478;
    std::optional<std::string> username;
    std::optional<std::string> password;

    // The URL without credentials, for messages and reports.
    std::string describe() const;
};

// Parses one URL; on failure returns nothing and says why in `why`.
std::optional<ServerUrl> parse_server_url(std::string_view text, std::string& why);

}  // namespace rtcpeer::ice
