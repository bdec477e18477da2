#include <catch2/catch.hpp>

#include "ice/server_url.hpp"

using namespace rtcpeer::ice;

namespace {
ServerUrl good(const char* text) {
    std::string why;
    auto url = parse_server_url(text, why);
    INFO(text << ": " << why);
    REQUIRE(url);
    return *url;
}
std::string bad(const char* text) {
    std::string why;
    auto url = parse_server_url(text, why);
    INFO(text);
    REQUIRE(!url);
    REQUIRE(!why.empty());
    return why;
}
}  // namespace

TEST_CASE("stun URLs") {
    ServerUrl u = good("stun:stun.example.org");
    CHECK(u.kind == ServerKind::kStun);
    CHECK(u.host == "stun.example.org");
    CHECK(u.port == 3478);
    CHECK(good("stun:10.0.0.1:19302").port == 19302);
    CHECK(good("STUN:10.0.0.1").kind == ServerKind::kStun);
    u = good("stun:[2001:db8::1]:3479");
    CHECK(u.host == "2001:db8::1");
    CHECK(u.port == 3479);
    CHECK(u.describe() == "stun:[2001:db8::1]:3479");
    CHECK(bad("stun:host?transport=udp").find("no ?parameters") != std::string::npos);
    CHECK(bad("stun:user:pass@host").find("no credentials") != std::string::npos);
    CHECK(bad("stuns:host").find("not supported") != std::string::npos);
}

TEST_CASE("turn URLs, transports and default ports") {
    ServerUrl u = good("turn:turn.example.org");
    CHECK(u.kind == ServerKind::kTurn);
    CHECK(u.transport == RelayTransport::kUdp);
    CHECK(u.port == 3478);
    CHECK(!u.username);
    CHECK(good("turn:h?transport=tcp").transport == RelayTransport::kTcp);
    CHECK(good("turn:h:80?transport=udp").port == 80);
    u = good("turns:h");
    CHECK(u.transport == RelayTransport::kTls);
    CHECK(u.port == 5349);
    CHECK(u.describe() == "turns:h:5349");
    CHECK(good("turns:h:443?transport=tcp").transport == RelayTransport::kTls);
    CHECK(good("turn:h?transport=tcp").describe() == "turn:h:3478?transport=tcp");
    CHECK(good("turn://h:3478").host == "h");
}

TEST_CASE("turn credentials in the URL, percent-decoded, never described") {
    ServerUrl u = good("turn:alice:s%40cret%3A1@10.0.0.1:3478?transport=tcp");
    CHECK(u.username == "alice");
    CHECK(u.password == "s@cret:1");
    CHECK(u.host == "10.0.0.1");
    CHECK(u.describe().find("cret") == std::string::npos);
    u = good("turn:bob@h");
    CHECK(u.username == "bob");
    CHECK(!u.password);
    bad("turn:@h");
    bad("turn:a:%zz@h");
    bad("turn:a:%4@h");
}

TEST_CASE("bad server URLs say why") {
    CHECK(bad("example.org") == "not a stun:, turn: or turns: URL");
    CHECK(bad("http://example.org").find("unknown scheme") != std::string::npos);
    CHECK(bad("turn:").find("no host") != std::string::npos);
    CHECK(bad("turn:h:0").find("port") != std::string::npos);
    CHECK(bad("turn:h:65536").find("port") != std::string::npos);
    CHECK(bad("turn:h:x").find("port") != std::string::npos);
    CHECK(bad("turn:h:").find("empty port") != std::string::npos);
    CHECK(bad("turn:2001:db8::1").find("brackets") != std::string::npos);
    CHECK(bad("turn:[2001:db8::1").find("unclosed") != std::string::npos);
    CHECK(bad("turn:[nope]").find("IPv6") != std::string::npos);
    CHECK(bad("turn:h?transport=sctp").find("unknown parameter") != std::string::npos);
    CHECK(bad("turns:h?transport=udp").find("TLS") != std::string::npos);
    bad("turn:h o st");
    bad("turn:h/path");
}
