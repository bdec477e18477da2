#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <memory>

#include "ice/mdns_packet.hpp"

using namespace rtcpeer::ice::mdns;

namespace {
// A response as an mDNS responder sends it: the question echoed, then A and
// AAAA answers, the second owner name compressed to point at the first.
std::vector<std::uint8_t> response() {
    std::vector<std::uint8_t> r = {0x00, 0x07, 0x84, 0x00, 0x00, 0x01,
                                   0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
    const std::vector<std::uint8_t> name = {4, 'p', 'e', 'e', 'r', 5, 'l', 'o', 'c', 'a', 'l', 0};
    r.insert(r.end(), name.begin(), name.end());
    r.insert(r.end(), {0x00, 0x01, 0x00, 0x01});
    r.insert(r.end(), {0xC0, 0x0C, 0x00, 0x01, 0x80, 0x01, 0, 0, 0, 120, 0, 4, 192, 0, 2, 7});
    r.insert(r.end(), {0xC0, 0x0C, 0x00, 0x1C, 0x80, 0x01, 0, 0, 0, 120, 0, 16});
    const std::uint8_t v6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    r.insert(r.end(), v6, v6 + 16);
    return r;
}
}  // namespace

TEST_CASE("mDNS query asks for A and AAAA of the name") {
    auto q = build_query("1f4712db-ea17-4bcf.local", 9);
    REQUIRE(q.size() == 12 + 2 * (1 + 18 + 1 + 5 + 1 + 4));
    CHECK(q[0] == 0);
    CHECK(q[1] == 9);
    CHECK(q[5] == 2);  // two questions
    CHECK(q[12] == 18);
    CHECK(build_query("a..local", 1).empty());
    CHECK(build_query(std::string(64, 'x') + ".local", 1).empty());
}

TEST_CASE("mDNS answers are parsed, compressed names included") {
    auto r = response();
    auto addresses = parse_answers(r.data(), r.size(), "PEER.local");
    REQUIRE(addresses.size() == 2);
    CHECK(addresses[0] == "192.0.2.7");
    CHECK(addresses[1] == "fe80::1");
    CHECK(parse_answers(r.data(), r.size(), "other.local").empty());
}

TEST_CASE("malformed mDNS messages yield nothing and never read out of bounds") {
    auto r = response();
    for (std::size_t cut = 0; cut < r.size(); ++cut) {
        // Each truncated message in a heap block of exactly its size, so
        // that a read past its end is a read past the block (AddressSanitizer
        // reports it in the sanitize build).
        auto truncated = std::make_unique<std::uint8_t[]>(cut);
        std::copy(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(cut), truncated.get());
        auto addresses = parse_answers(truncated.get(), cut, "peer.local");
        CHECK(addresses.size() <= 1);
    }
    auto loop = r;
    loop[12] = 0xC0;  // the question's name points at itself
    loop[13] = 0x0C;
    CHECK(parse_answers(loop.data(), loop.size(), "peer.local").empty());
    auto query = r;
    query[2] = 0x00;  // a query, not a response
    CHECK(parse_answers(query.data(), query.size(), "peer.local").empty());
}
