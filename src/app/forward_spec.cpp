#include "app/forward_spec.hpp"

#include "base/error.hpp"

namespace rtcpeer {

namespace {

[[noreturn]] void bad(std::string_view option, std::string_view text, const std::string& why) {
    throw Error(ErrorCategory::kUsage, std::string(option), std::string(text) + ": " + why);
}

std::uint16_t parse_port(std::string_view option, std::string_view text, std::string_view port) {
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos)
        bad(option, text, "\"" + std::string(port) + "\" is not a port number");
    const unsigned long value = std::stoul(std::string(port));
    if (value < 1 || value > 65535)
        bad(option, text, "port " + std::string(port) + " is not 1 to 65535");
    return static_cast<std::uint16_t>(value);
}

// "HOST:PORT", "[V6]:PORT", or (host_optional) "PORT".
void parse_host_port(std::string_view option, std::string_view text, std::string_view rest,
                     bool host_optional, ForwardSpec& spec) {
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
            bad(option, text, "expected [ADDRESS]:PORT");
        spec.host = std::string(rest.substr(1, close - 1));
        if (spec.host.empty()) bad(option, text, "empty address");
        spec.port = parse_port(option, text, rest.substr(close + 2));
        return;
    }
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
        if (!host_optional) bad(option, text, "expected HOST:PORT");
        spec.port = parse_port(option, text, rest);
        return;
    }
    spec.host = std::string(rest.substr(0, colon));
    if (spec.host.empty()) bad(option, text, "empty host");
    if (spec.host.find(':') != std::string::npos)
        bad(option, text, "an IPv6 address goes in brackets: [" + spec.host + "]:PORT");
    spec.port = parse_port(option, text, rest.substr(colon + 1));
}

ForwardSpec parse(std::string_view option, std::string_view text, bool listen) {
    ForwardSpec spec;
    std::string_view rest = text;
    const std::size_t equals = rest.find('=');
    const std::size_t colon = rest.find(':');
    if (equals != std::string_view::npos && (colon == std::string_view::npos || equals < colon)) {
        spec.name = std::string(rest.substr(0, equals));
        if (spec.name.empty()) bad(option, text, "empty name before '='");
        if (spec.name.size() > 65535) bad(option, text, "the name is longer than 65535 bytes");
        rest.remove_prefix(equals + 1);
    }
    const std::size_t scheme_end = rest.find(':');
    if (scheme_end == std::string_view::npos) bad(option, text, "expected tcp:, udp: or unix:");
    const std::string_view scheme = rest.substr(0, scheme_end);
    rest.remove_prefix(scheme_end + 1);
    if (scheme == "tcp" || scheme == "udp") {
        spec.scheme = scheme == "tcp" ? ForwardSpec::Scheme::kTcp : ForwardSpec::Scheme::kUdp;
        parse_host_port(option, text, rest, listen, spec);
    } else if (scheme == "unix") {
        spec.scheme = ForwardSpec::Scheme::kUnix;
        if (rest.empty()) bad(option, text, "empty path");
        spec.path = std::string(rest);
    } else {
        bad(option, text, "unknown scheme \"" + std::string(scheme) + "\" (tcp, udp or unix)");
    }
    if (spec.name.empty()) spec.name = std::string(scheme);
    return spec;
}

}  // namespace

std::string ForwardSpec::describe() const {
    if (scheme == Scheme::kUnix) return "unix:" + path;
    const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return std::string(scheme == Scheme::kUdp ? "udp:" : "tcp:") +
           (host.empty() ? std::string("127.0.0.1") : shown) + ":" + std::to_string(port);
}

ForwardSpec parse_listen_spec(std::string_view text) { return parse("--listen", text, true); }

ForwardSpec parse_connect_spec(std::string_view text) { return parse("--connect", text, false); }

}  // namespace rtcpeer
