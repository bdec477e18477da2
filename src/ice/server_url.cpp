#include "ice/server_url.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <cstdint>
#include <optional>

#include "base/text.hpp"

namespace rtcpeer::ice {

namespace {

constexpr std::uint16_t kDefaultPort = 3478;
constexpr std::uint16_t kDefaultTlsPort = 5349;

// RFC 3986 percent-decoding of the user information.
std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const std::optional<std::uint32_t> byte = rtcpeer::text::parse_hex(text.substr(i + 1, 2));
        if (!byte) return std::nullopt;
        out += static_cast<char>(*byte);
        i += 2;
    }
    return out;
}

bool valid_host_name(std::string_view host) {
    if (host.empty() || host.size() > 253) return false;
    for (char c : host) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
            return false;
    }
    return true;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

}  // namespace

const char* to_string(RelayTransport transport) {
    switch (transport) {
        case RelayTransport::kUdp:
            return "udp";
        case RelayTransport::kTcp:
            return "tcp";
        case RelayTransport::kTls:
            return "tls";
    }
    return "udp";
}

std::string ServerUrl::describe() const {
    const bool v6 = host.find(':') != std::string::npos;
    std::string text = kind == ServerKind::kStun           ? "stun:"
                       : transport == RelayTransport::kTls ? "turns:"
                                                           : "turn:";
    text += v6 ? "[" + host + "]" : host;
    text += ":" + std::to_string(port);
    if (kind == ServerKind::kTurn && transport != RelayTransport::kTls)
        text += std::string("?transport=") + to_string(transport);
    return text;
}

std::optional<ServerUrl> parse_server_url(std::string_view text, std::string& why) {
    ServerUrl url;
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        why = "not a stun:, turn: or turns: URL";
        return std::nullopt;
    }
    std::string scheme(text.substr(0, colon));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view rest = text.substr(colon + 1);
    if (scheme == "stun") {
        url.kind = ServerKind::kStun;
    } else if (scheme == "turn") {
        url.kind = ServerKind::kTurn;
    } else if (scheme == "turns") {
        url.kind = ServerKind::kTurn;
        url.transport = RelayTransport::kTls;
    } else if (scheme == "stuns") {
        why = "stuns: (STUN over TLS) is not supported; use stun:";
        return std::nullopt;
    } else {
        why = "unknown scheme \"" + scheme + ":\" (stun:, turn: or turns:)";
        return std::nullopt;
    }
    // Browsers accept "turn://host"; tolerate it too.
    if (rest.substr(0, 2) == "//") rest.remove_prefix(2);

    // Query: only ?transport=.
    if (const std::size_t query = rest.find('?'); query != std::string_view::npos) {
        std::string_view parameter = rest.substr(query + 1);
        rest = rest.substr(0, query);
        if (url.kind == ServerKind::kStun) {
            why = "stun: URLs take no ?parameters";
            return std::nullopt;
        }
        if (parameter == "transport=udp" && url.transport != RelayTransport::kTls) {
            url.transport = RelayTransport::kUdp;
        } else if (parameter == "transport=tcp") {
            if (url.transport != RelayTransport::kTls) url.transport = RelayTransport::kTcp;
        } else if (parameter == "transport=udp") {
            why = "turns: runs over TLS on TCP; ?transport=udp does not apply";
            return std::nullopt;
        } else {
            why = "unknown parameter \"" + std::string(parameter) +
                  "\" (only ?transport=udp or ?transport=tcp)";
            return std::nullopt;
        }
    }

    if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        if (url.kind == ServerKind::kStun) {
            why = "stun: URLs carry no credentials";
            return std::nullopt;
        }
        const std::size_t split = userinfo.find(':');
        auto user = percent_decode(userinfo.substr(0, split));
        if (!user || user->empty()) {
            why = "bad user name before '@'";
            return std::nullopt;
        }
        url.username = *user;
        if (split != std::string_view::npos) {
            auto password = percent_decode(userinfo.substr(split + 1));
            if (!password) {
                why = "bad percent-escape in the password";
                return std::nullopt;
            }
            url.password = *password;
        }
    }

    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            why = "unclosed '[' around an IPv6 address";
            return std::nullopt;
        }
        url.host = std::string(rest.substr(1, close - 1));
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                why = "unexpected text after ']'";
                return std::nullopt;
            }
            port_text = after.substr(1);
            if (port_text.empty()) {
                why = "empty port";
                return std::nullopt;
            }
        }
        in6_addr address;
        if (inet_pton(AF_INET6, url.host.c_str(), &address) != 1) {
            why = "\"" + url.host + "\" is not an IPv6 address";
            return std::nullopt;
        }
    } else {
        const std::size_t port_colon = rest.find(':');
        if (port_colon != std::string_view::npos && rest.find(':', port_colon + 1) != rest.npos) {
            why = "IPv6 addresses go in brackets: turn:[2001:db8::1]:3478";
            return std::nullopt;
        }
        url.host = std::string(rest.substr(0, port_colon));
        if (port_colon != std::string_view::npos) {
            port_text = rest.substr(port_colon + 1);
            if (port_text.empty()) {
                why = "empty port";
                return std::nullopt;
            }
        }
        if (!valid_host_name(url.host)) {
            why = url.host.empty() ? "no host" : "\"" + url.host + "\" is not a host name";
            return std::nullopt;
        }
    }
    url.port = url.transport == RelayTransport::kTls ? kDefaultTlsPort : kDefaultPort;
    if (!port_text.empty()) {
        auto port = parse_port(port_text);
        if (!port) {
            why = "port \"" + std::string(port_text) + "\" is not a number from 1 to 65535";
            return std::nullopt;
        }
        url.port = *port;
    }
    return url;
}

}  // namespace rtcpeer::ice
