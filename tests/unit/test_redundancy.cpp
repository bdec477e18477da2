#include <catch2/catch.hpp>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "base/bytes.hpp"
#include "sctp/redundancy.hpp"
#include "sctp/sack_frequency.hpp"

using rtcpeer::sctp::Redundancy;
using rtcpeer::sctp::SackFrequency;

namespace {

struct Chunk {
    std::uint8_t type;
    std::vector<std::uint8_t> value;  // after the 4-byte chunk header
};

using rtcpeer::bytes::put16;
using rtcpeer::bytes::put32;

// An SCTP packet: common header (ports, tag, checksum) and padded chunks.
std::vector<std::uint8_t> packet(std::initializer_list<Chunk> chunks) {
    std::vector<std::uint8_t> out(12, 0);
    for (const Chunk& chunk : chunks) {
        out.push_back(chunk.type);
        out.push_back(0);
        put16(out, static_cast<std::uint16_t>(4 + chunk.value.size()));
        out.insert(out.end(), chunk.value.begin(), chunk.value.end());
        while (out.size() % 4 != 0) out.push_back(0);
    }
    return out;
}

Chunk data(std::uint32_t tsn, std::size_t payload = 100) {
    std::vector<std::uint8_t> value;
    put32(value, tsn);
    put16(value, 0);   // stream
    put16(value, 0);   // sequence
    put32(value, 51);  // PPID: binary
    value.resize(value.size() + payload, 0xab);
    return {0, value};
}

Chunk sack(std::uint32_t cumulative, std::uint16_t gaps, std::uint16_t duplicates) {
    std::vector<std::uint8_t> value;
    put32(value, cumulative);
    put32(value, 1 << 20);  // a_rwnd
    put16(value, gaps);
    put16(value, duplicates);
    for (int i = 0; i < gaps; ++i) put32(value, (2u << 16) | 3u);
    for (int i = 0; i < duplicates; ++i) put32(value, cumulative);
    return {3, value};
}

int copies(Redundancy& redundancy, const std::vector<std::uint8_t>& p) {
    return redundancy.copies(p.data(), p.size());
}

// Feeds data packets for `ms` milliseconds, `packets` every `step_ms`;
// returns the last change asked for (0: none). `now_ms` moves on.
struct Feeder {
    SackFrequency frequency;
    std::int64_t now_ms = 1000;
    std::uint32_t tsn = 1;

    std::uint32_t feed(std::int64_t ms, int packets, std::int64_t step_ms = 1) {
        std::uint32_t change = 0;
        for (const std::int64_t end = now_ms + ms; now_ms < end; now_ms += step_ms) {
            for (int i = 0; i < packets; ++i) {
                const std::vector<std::uint8_t> p = packet({data(tsn++, 1100)});
                if (const std::uint32_t c = frequency.on_packet(p.data(), p.size(), now_ms))
                    change = c;
            }
        }
        return change;
    }
};

}  // namespace

TEST_CASE("new data goes out once, a chunk retransmitted again twice") {
    Redundancy r;
    CHECK(copies(r, packet({data(10)})) == 1);
    CHECK(copies(r, packet({data(11), data(12)})) == 1);
    CHECK(copies(r, packet({data(11)})) ==
          1);  // first retransmission: the sender's own loss, maybe
    CHECK(copies(r, packet({data(11)})) == 2);  // lost again: not congestion
    CHECK(copies(r, packet({data(11)})) == 2);
    CHECK(copies(r, packet({data(13)})) == 1);
    CHECK(copies(r, packet({data(10), data(14)})) == 1);  // bundled with new data, first time
    CHECK(copies(r, packet({data(10), data(15)})) == 2);  // a repeat decides
}

TEST_CASE("every retransmission is doubled while repeats are frequent, and only then") {
    Redundancy r;
    std::uint32_t tsn = 1000;
    // Congestion: retransmissions get through; few repeat.
    for (int i = 0; i < 200; ++i) {
        CHECK(copies(r, packet({data(tsn)})) == 1);
        CHECK(copies(r, packet({data(tsn - 1)})) == 1);  // retransmitted once
        tsn += 2;
    }
    // Random loss: one retransmission in five is lost again.
    for (int i = 0; i < 100; ++i) {
        copies(r, packet({data(tsn)}));
        copies(r, packet({data(tsn - 1)}));
        if (i % 5 == 0) CHECK(copies(r, packet({data(tsn - 1)})) == 2);
        tsn += 2;
    }
    CHECK(copies(r, packet({data(tsn)})) == 1);
    CHECK(copies(r, packet({data(tsn - 1)})) == 2);  // a first retransmission, doubled now
    // Repeats stop: after a while first retransmissions go once again.
    for (int i = 0; i < 300; ++i) {
        tsn += 2;
        copies(r, packet({data(tsn)}));
        copies(r, packet({data(tsn - 1)}));
    }
    tsn += 2;
    CHECK(copies(r, packet({data(tsn)})) == 1);
    CHECK(copies(r, packet({data(tsn - 1)})) == 1);
}

TEST_CASE("TSNs are compared across their wrap-around") {
    Redundancy r;
    CHECK(copies(r, packet({data(0xfffffffeu)})) == 1);
    CHECK(copies(r, packet({data(0xffffffffu)})) == 1);
    CHECK(copies(r, packet({data(0)})) == 1);
    CHECK(copies(r, packet({data(1)})) == 1);
    CHECK(copies(r, packet({data(0xffffffffu)})) == 1);  // a retransmission, the first
    CHECK(copies(r, packet({data(0xffffffffu)})) == 2);  // and its repeat
    CHECK(copies(r, packet({data(2)})) == 1);            // new, after the wrap
}

TEST_CASE("I-DATA counts as data") {
    Redundancy r;
    Chunk i_data = data(7);
    i_data.type = 64;
    CHECK(copies(r, packet({i_data})) == 1);
    CHECK(copies(r, packet({i_data})) == 1);
    CHECK(copies(r, packet({i_data})) == 2);
}

TEST_CASE("SACKs are doubled while they report loss, and for a while after") {
    Redundancy r;
    CHECK(copies(r, packet({sack(100, 0, 0)})) == 1);  // a clean path: nothing doubled
    CHECK(copies(r, packet({sack(101, 0, 0)})) == 1);
    CHECK(copies(r, packet({sack(101, 1, 0)})) == 2);  // a gap: data is missing
    for (int i = 0; i < Redundancy::kSacksAfterLoss; ++i) {
        INFO("SACK " << i << " after the loss");
        CHECK(copies(r, packet({sack(110 + static_cast<std::uint32_t>(i), 0, 0)})) == 2);
    }
    CHECK(copies(r, packet({sack(500, 0, 0)})) == 1);
    CHECK(copies(r, packet({sack(500, 0, 2)})) == 2);  // duplicates: a SACK of ours was lost
    CHECK(copies(r, packet({sack(501, 0, 0)})) == 2);
}

TEST_CASE("a SACK bundled with new data is not doubled") {
    Redundancy r;
    CHECK(copies(r, packet({sack(100, 2, 0), data(1)})) == 1);
    // New data decides: the packet goes once, and no loss is noted for later SACKs.
    CHECK(copies(r, packet({sack(101, 0, 0)})) == 1);
}

TEST_CASE("control chunks sent on their own are doubled") {
    Redundancy r;
    CHECK(copies(r, packet({{1, std::vector<std::uint8_t>(16, 0)}})) == 2);    // INIT
    CHECK(copies(r, packet({{130, std::vector<std::uint8_t>(12, 0)}})) == 2);  // RE-CONFIG
    CHECK(copies(r, packet({{7, std::vector<std::uint8_t>(4, 0)}})) == 2);     // SHUTDOWN
    CHECK(copies(r, packet({{4, std::vector<std::uint8_t>(8, 0)}})) == 2);     // HEARTBEAT
}

TEST_CASE("truncated and malformed packets are sent once, without reading past the end") {
    Redundancy r;
    const std::vector<std::uint8_t> header_only(12, 0);
    CHECK(copies(r, header_only) == 1);
    CHECK(r.copies(header_only.data(), 5) == 1);
    auto p = packet({data(5)});
    p[12 + 2] = 0xff;  // chunk length beyond the packet
    CHECK(copies(r, p) == 1);
    p[12 + 2] = 0;
    p[12 + 3] = 2;  // chunk length below its header
    CHECK(copies(r, p) == 1);
    auto short_sack = packet({{3, std::vector<std::uint8_t>(4, 0xff)}});
    CHECK(copies(r, short_sack) == 2);  // not a valid SACK: a control packet like any other
}

TEST_CASE("disabled, every packet goes out once") {
    Redundancy r(false);
    CHECK(copies(r, packet({data(11)})) == 1);
    CHECK(copies(r, packet({data(11)})) == 1);
    CHECK(copies(r, packet({data(11)})) == 1);
    CHECK(copies(r, packet({sack(101, 1, 0)})) == 1);
    CHECK(copies(r, packet({{1, std::vector<std::uint8_t>(16, 0)}})) == 1);
}

// The SACK frequency (sctp/sack_frequency.hpp) reads the same packets.

TEST_CASE("data streaming in is acknowledged every fourth packet, slow data every second") {
    Feeder f;
    CHECK(f.frequency.current() == SackFrequency::kSlow);
    // 1,000 data packets a second: every second packet, as RFC 4960 asks.
    CHECK(f.feed(200, 1) == 0);
    CHECK(f.frequency.current() == SackFrequency::kSlow);
    // 3,000 a second: every fourth.
    CHECK(f.feed(50, 3) == SackFrequency::kFast);
    // 1,500 a second lies between the two thresholds: no change either way.
    CHECK(f.feed(200, 3, 2) == 0);
    CHECK(f.frequency.current() == SackFrequency::kFast);
    // 500 a second: every second again.
    CHECK(f.feed(50, 1, 2) == SackFrequency::kSlow);
    CHECK(f.feed(200, 3, 2) == 0);
    CHECK(f.frequency.current() == SackFrequency::kSlow);
}

TEST_CASE("after a pause the next data is acknowledged every second packet at once") {
    Feeder f;
    REQUIRE(f.feed(50, 5) == SackFrequency::kFast);
    f.now_ms += 2 * SackFrequency::kWindowMs;
    CHECK(f.feed(1, 1) == SackFrequency::kSlow);
}

TEST_CASE("data out of order keeps every second packet for half a second") {
    Feeder f;
    REQUIRE(f.feed(50, 5) == SackFrequency::kFast);
    f.tsn += 1;  // one packet lost
    CHECK(f.feed(1, 5) == SackFrequency::kSlow);
    CHECK(f.feed(SackFrequency::kAfterLossMs - 10, 5) == 0);
    CHECK(f.feed(50, 5) == SackFrequency::kFast);
    // Its retransmission, late, is out of order too.
    f.tsn -= 10;
    CHECK(f.feed(1, 1) == SackFrequency::kSlow);
}

TEST_CASE("only packets with data count towards the rate") {
    SackFrequency frequency;
    const std::vector<std::uint8_t> only_sack = packet({sack(5, 0, 0)});
    const std::vector<std::uint8_t> sack_then_data = packet({sack(5, 0, 0), data(9)});
    const std::vector<std::uint8_t> idata = packet({{64, std::vector<std::uint8_t>(16, 0)}});
    CHECK_FALSE(SackFrequency::carries_data(only_sack.data(), only_sack.size()));
    CHECK(SackFrequency::carries_data(sack_then_data.data(), sack_then_data.size()));
    CHECK(SackFrequency::carries_data(idata.data(), idata.size()));
    const std::vector<std::uint8_t> truncated(sack_then_data.begin(), sack_then_data.begin() + 20);
    CHECK_FALSE(SackFrequency::carries_data(truncated.data(), truncated.size()));
    for (std::int64_t ms = 0; ms < 200; ++ms) {
        for (int i = 0; i < 10; ++i)
            CHECK(frequency.on_packet(only_sack.data(), only_sack.size(), ms) == 0);
    }
    CHECK(frequency.current() == SackFrequency::kSlow);
}
