#include "sdp/candidate.hpp"

#include <arpa/inet.h>

#include "base/error.hpp"
#include "sdp/text.hpp"

namespace rtcpeer::sdp {

namespace {

[[noreturn]] void bad(std::string_view text, const std::string& why) {
    throw protocol_error("sdp", "bad candidate \"" + text::printable(text) + "\": " + why);
}

bool is_ip_literal(const std::string& address) {
    unsigned char buf[16];
    return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

// RFC 8839 connection-address: an IP literal or a host name (FQDN or mDNS).
bool is_connection_address(std::string_view s) {
    if (!text::is_token(s) || s.size() > 255) return false;
    for (char c : s) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '.' || c == ':' || c == '-' || c == '%' ||
                        c == '_';
        if (!ok) return false;
    }
    return true;
}

// RFC 8839: foundation = 1*32ice-char; ice-char = ALPHA / DIGIT / "+" / "/".
bool is_foundation(std::string_view s) {
    if (s.empty() || s.size() > 32) return false;
    for (char c : s) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '+' || c == '/';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

bool Candidate::is_udp() const { return text::iequals(transport, "udp"); }
bool Candidate::is_tcp() const { return text::iequals(transport, "tcp"); }
bool Candidate::has_hostname() const { return !is_ip_literal(address); }

std::optional<std::string> Candidate::extension(std::string_view name) const {
    for (const auto& [key, value] : extensions) {
        if (key == name) return value;
    }
    return std::nullopt;
}

Candidate parse_candidate(std::string_view original) {
    std::string_view text = original;
    if (text.rfind("a=", 0) == 0) text.remove_prefix(2);
    if (text.rfind("candidate:", 0) == 0) text.remove_prefix(10);
    while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.remove_suffix(1);

    // RFC 8839's byte-string excludes NUL, CR and LF everywhere.
    if (text.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos) {
        bad(original, "NUL, CR or LF inside");
    }
    const auto words = text::split_words(text);
    if (words.size() < 8) bad(original, "fewer than 8 fields");
    if (words.size() > 64) bad(original, "too many fields");

    Candidate c;
    if (!is_foundation(words[0])) bad(original, "bad foundation");
    c.foundation = words[0];
    auto component = text::parse_unsigned<unsigned>(words[1], 256);
    if (!component || *component == 0) bad(original, "bad component id");
    c.component = *component;
    if (!text::is_token(words[2])) bad(original, "bad transport");
    c.transport = words[2];
    auto priority = text::parse_unsigned<std::uint32_t>(words[3]);
    if (!priority) bad(original, "bad priority");
    c.priority = *priority;
    if (!is_connection_address(words[4])) bad(original, "bad address");
    c.address = words[4];
    auto port = text::parse_unsigned<std::uint16_t>(words[5]);
    if (!port) bad(original, "bad port");
    c.port = *port;
    if (words[6] != "typ") bad(original, "\"typ\" expected");
    if (!text::is_token(words[7])) bad(original, "bad candidate type");
    c.type = words[7];

    std::size_t i = 8;
    if (i + 1 < words.size() && words[i] == "raddr") {
        if (!is_connection_address(words[i + 1])) bad(original, "bad raddr");
        c.related_address = std::string(words[i + 1]);
        i += 2;
    }
    if (i + 1 < words.size() && words[i] == "rport") {
        auto rport = text::parse_unsigned<std::uint16_t>(words[i + 1]);
        if (!rport) bad(original, "bad rport");
        c.related_port = *rport;
        i += 2;
    }
    if ((words.size() - i) % 2 != 0) bad(original, "extension without a value");
    for (; i < words.size(); i += 2) {
        c.extensions.emplace_back(std::string(words[i]), std::string(words[i + 1]));
    }
    if (auto tcptype = c.extension("tcptype")) {
        if (*tcptype != "active" && *tcptype != "passive" && *tcptype != "so") {
            bad(original, "bad tcptype");
        }
    }
    return c;
}

std::string to_string(const Candidate& c) {
    std::string out = c.foundation + " " + std::to_string(c.component) + " " + c.transport + " " +
                      std::to_string(c.priority) + " " + c.address + " " + std::to_string(c.port) +
                      " typ " + c.type;
    if (c.related_address) out += " raddr " + *c.related_address;
    if (c.related_port) out += " rport " + std::to_string(*c.related_port);
    for (const auto& [key, value] : c.extensions) out += " " + key + " " + value;
    return out;
}

}  // namespace rtcpeer::sdp
