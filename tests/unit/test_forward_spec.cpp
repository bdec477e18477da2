#include <catch2/catch.hpp>

#include "app/forward_spec.hpp"
#include "base/error.hpp"
#include "error_message.hpp"

using namespace rtcpeer;

namespace {
ForwardSpec tcp(std::string name, std::string host, std::uint16_t port) {
    ForwardSpec spec;
    spec.name = std::move(name);
    spec.host = std::move(host);
    spec.port = port;
    return spec;
}
ForwardSpec unix_spec(std::string name, std::string path) {
    ForwardSpec spec;
    spec.name = std::move(name);
    spec.scheme = ForwardSpec::Scheme::kUnix;
    spec.path = std::move(path);
    return spec;
}
std::string listen_error(const char* text) {
    return error_message(ErrorCategory::kUsage, text, [&] { parse_listen_spec(text); });
}
std::string connect_error(const char* text) {
    return error_message(ErrorCategory::kUsage, text, [&] { parse_connect_spec(text); });
}
}  // namespace

TEST_CASE("forward specs: tcp and unix, with and without a name") {
    CHECK(parse_listen_spec("web=tcp:8080") == tcp("web", "", 8080));
    CHECK(parse_listen_spec("tcp:8080") == tcp("tcp", "", 8080));
    CHECK(parse_listen_spec("web=tcp:0.0.0.0:80") == tcp("web", "0.0.0.0", 80));
    CHECK(parse_listen_spec("tcp:[::1]:65535") == tcp("tcp", "::1", 65535));
    CHECK(parse_connect_spec("web=tcp:localhost:8000") == tcp("web", "localhost", 8000));
    CHECK(parse_connect_spec("tcp:[fe80::1%eth0]:22") == tcp("tcp", "fe80::1%eth0", 22));
    CHECK(parse_listen_spec("db=unix:/run/db.sock") == unix_spec("db", "/run/db.sock"));
    CHECK(parse_connect_spec("unix:rel/x:y.sock") == unix_spec("unix", "rel/x:y.sock"));
    // A name may hold anything but '=' before the scheme.
    CHECK(parse_connect_spec("a b.c=tcp:h:1").name == "a b.c");
    CHECK(parse_listen_spec("tcp:8080").describe() == "tcp:127.0.0.1:8080");
    CHECK(parse_connect_spec("tcp:[::1]:22").describe() == "tcp:[::1]:22");
}

TEST_CASE("forward specs: udp") {
    ForwardSpec dns = tcp("dns", "", 5353);
    dns.scheme = ForwardSpec::Scheme::kUdp;
    CHECK(parse_listen_spec("dns=udp:5353") == dns);
    CHECK(parse_listen_spec("udp:5353").name == "udp");
    CHECK(parse_listen_spec("udp:5353").describe() == "udp:127.0.0.1:5353");
    const ForwardSpec wg = parse_connect_spec("wg=udp:[::1]:51820");
    CHECK(wg.scheme == ForwardSpec::Scheme::kUdp);
    CHECK(wg.host == "::1");
    CHECK(wg.port == 51820);
    CHECK(wg.describe() == "udp:[::1]:51820");
    CHECK(wg.udp_idle_seconds == 60);
    CHECK(parse_connect_spec("udp:10.0.0.1:53").describe() == "udp:10.0.0.1:53");
}

TEST_CASE("forward specs: mistakes say what is wrong") {
    CHECK(connect_error("tcp:8080").find("HOST:PORT") != std::string::npos);
    CHECK(listen_error("tcp:0").find("1 to 65535") != std::string::npos);
    CHECK(listen_error("tcp:65536").find("1 to 65535") != std::string::npos);
    CHECK(listen_error("tcp:http").find("not a port") != std::string::npos);
    CHECK(listen_error("sctp:53").find("unknown scheme \"sctp\" (tcp, udp or unix)") !=
          std::string::npos);
    CHECK(listen_error("web=8080").find("tcp:, udp: or unix:") != std::string::npos);
    CHECK(connect_error("udp:53").find("HOST:PORT") != std::string::npos);
    CHECK(listen_error("udp:0").find("1 to 65535") != std::string::npos);
    CHECK(connect_error("udp:[::1]53").find("[ADDRESS]:PORT") != std::string::npos);
    CHECK(listen_error("=tcp:80").find("empty name") != std::string::npos);
    CHECK(listen_error("unix:").find("empty path") != std::string::npos);
    CHECK(connect_error("tcp::80").find("empty host") != std::string::npos);
    CHECK(connect_error("tcp:::1:80").find("brackets") != std::string::npos);
    CHECK(connect_error("tcp:[::1]80").find("[ADDRESS]:PORT") != std::string::npos);
    CHECK(connect_error("tcp:[]:80").find("empty address") != std::string::npos);
    CHECK(connect_error("tcp:h:").find("not a port") != std::string::npos);
}
