#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "rtp/rtcp.hpp"

using namespace rtcpeer::rtp;

namespace {

RtcpPacket only_packet(const std::vector<std::uint8_t>& bytes) {
    std::vector<RtcpPacket> packets;
    REQUIRE(parse_compound(bytes, packets) == RtcpError::kNone);
    REQUIRE(packets.size() == 1);
    return packets[0];
}

std::vector<SequenceNumber> seqs(std::initializer_list<std::uint16_t> values) {
    std::vector<SequenceNumber> out;
    for (auto v : values) out.emplace_back(v);
    return out;
}

std::set<std::uint16_t> as_set(const std::vector<SequenceNumber>& values) {
    std::set<std::uint16_t> out;
    for (auto v : values) out.insert(v.value());
    return out;
}

ReportBlock sample_block(std::uint32_t source) {
    ReportBlock block;
    block.source = Ssrc(source);
    block.fraction_lost = 25;
    block.cumulative_lost = -3;  // duplicates outnumbering losses
    block.highest_sequence = 0x0002FFFF;
    block.jitter = 120;
    block.last_sr = 0x12345678;
    block.delay_since_last_sr = 65536;
    return block;
}

}  // namespace

TEST_CASE("a compound SR + SDES + BYE round-trips") {
    SenderReport sr;
    sr.sender = Ssrc(0xCAFEBABE);
    sr.ntp_time = 0xE9ABCDEF80000000ull;
    sr.rtp_time = RtpTimestamp(90000);
    sr.packet_count = 1234;
    sr.octet_count = 1'234'567;
    sr.reports = {sample_block(1), sample_block(2)};

    std::vector<std::uint8_t> bytes;
    append_sender_report(bytes, sr);
    append_sdes_cname(bytes, Ssrc(0xCAFEBABE), "rtcpeer/abc");
    const Ssrc gone[] = {Ssrc(0xCAFEBABE)};
    append_bye(bytes, gone, "done");
    CHECK(bytes.size() % 4 == 0);
    // SR: header 4 + sender info 24 + 2 blocks of 24.
    CHECK(bytes[0] == 0x82);
    CHECK(bytes[1] == 200);
    CHECK(bytes[2] == 0);
    CHECK(bytes[3] == (4 + 24 + 48) / 4 - 1);

    std::vector<RtcpPacket> packets;
    REQUIRE(parse_compound(bytes, packets) == RtcpError::kNone);
    REQUIRE(packets.size() == 3);
    CHECK(packets[0].type == static_cast<std::uint8_t>(RtcpType::kSenderReport));
    CHECK(packets[1].type == static_cast<std::uint8_t>(RtcpType::kSdes));
    CHECK(packets[2].type == static_cast<std::uint8_t>(RtcpType::kBye));

    const auto parsed = parse_sender_report(packets[0]);
    REQUIRE(parsed);
    CHECK(parsed->sender == sr.sender);
    CHECK(parsed->ntp_time == sr.ntp_time);
    CHECK(parsed->rtp_time == sr.rtp_time);
    CHECK(parsed->packet_count == 1234);
    CHECK(parsed->octet_count == 1'234'567);
    CHECK(parsed->reports == sr.reports);
    CHECK_FALSE(parse_receiver_report(packets[0]));

    const auto sdes = parse_sdes(packets[1]);
    REQUIRE(sdes);
    REQUIRE(sdes->size() == 1);
    CHECK((*sdes)[0].source == Ssrc(0xCAFEBABE));
    CHECK((*sdes)[0].cname == "rtcpeer/abc");

    const auto bye = parse_bye(packets[2]);
    REQUIRE(bye);
    CHECK(bye->sources == std::vector<Ssrc>{Ssrc(0xCAFEBABE)});
    CHECK(bye->reason == "done");
}

TEST_CASE("receiver reports: none, some, and more than 31 blocks") {
    ReceiverReport empty;
    empty.sender = Ssrc(7);
    std::vector<std::uint8_t> bytes;
    append_receiver_report(bytes, empty);
    CHECK(bytes == std::vector<std::uint8_t>{0x80, 201, 0, 1, 0, 0, 0, 7});
    auto parsed = parse_receiver_report(only_packet(bytes));
    REQUIRE(parsed);
    CHECK(parsed->reports.empty());

    ReceiverReport many;
    many.sender = Ssrc(8);
    for (std::uint32_t i = 0; i < 40; ++i) many.reports.push_back(sample_block(i));
    bytes.clear();
    append_receiver_report(bytes, many);
    parsed = parse_receiver_report(only_packet(bytes));
    REQUIRE(parsed);
    REQUIRE(parsed->reports.size() == kMaxReportBlocks);
    CHECK(parsed->reports[30] == sample_block(30));

    // Cumulative lost is 24-bit signed: clamped on the way out.
    ReceiverReport extreme;
    extreme.reports = {sample_block(1), sample_block(2)};
    extreme.reports[0].cumulative_lost = 100'000'000;
    extreme.reports[1].cumulative_lost = -100'000'000;
    bytes.clear();
    append_receiver_report(bytes, extreme);
    parsed = parse_receiver_report(only_packet(bytes));
    REQUIRE(parsed);
    CHECK(parsed->reports[0].cumulative_lost == 0x7FFFFF);
    CHECK(parsed->reports[1].cumulative_lost == -0x800000);
}

TEST_CASE("PLI and FIR round-trip") {
    std::vector<std::uint8_t> bytes;
    append_pli(bytes, Ssrc(1), Ssrc(2));
    CHECK(bytes == std::vector<std::uint8_t>{0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2});
    const auto pli = parse_pli(only_packet(bytes));
    REQUIRE(pli);
    CHECK(pli->sender == Ssrc(1));
    CHECK(pli->media == Ssrc(2));
    CHECK_FALSE(parse_fir(only_packet(bytes)));
    CHECK_FALSE(parse_nack(only_packet(bytes)));

    bytes.clear();
    const FirEntry entries[] = {{Ssrc(0xAB), 9}, {Ssrc(0xCD), 10}};
    append_fir(bytes, Ssrc(1), entries);
    CHECK(bytes.size() == 12 + 16);
    CHECK((bytes[0] & 0x1F) == kFmtFir);
    const auto fir = parse_fir(only_packet(bytes));
    REQUIRE(fir);
    CHECK(fir->sender == Ssrc(1));
    REQUIRE(fir->entries.size() == 2);
    CHECK(fir->entries[1].source == Ssrc(0xCD));
    CHECK(fir->entries[1].sequence == 10);
    CHECK_FALSE(parse_pli(only_packet(bytes)));
}

TEST_CASE("NACK items from real loss patterns") {
    // One loss.
    CHECK(nack_items(seqs({100})) == std::vector<NackItem>{{SequenceNumber(100), 0}});
    // A burst of 17: PID and all 16 bits.
    std::vector<SequenceNumber> burst;
    for (std::uint16_t s = 1000; s < 1017; ++s) burst.emplace_back(s);
    CHECK(nack_items(burst) == std::vector<NackItem>{{SequenceNumber(1000), 0xFFFF}});
    // A burst of 18 needs a second item.
    burst.emplace_back(1017);
    CHECK(nack_items(burst) ==
          std::vector<NackItem>{{SequenceNumber(1000), 0xFFFF}, {SequenceNumber(1017), 0}});
    // Scattered loss, out of order, with a duplicate: 5, 7, 21 share an item
    // (bits 1 and 15), 22 starts the next.
    CHECK(nack_items(seqs({22, 7, 5, 21, 7})) ==
          std::vector<NackItem>{{SequenceNumber(5), 0x8002}, {SequenceNumber(22), 0}});
    // Across the wrap: 65534, 65535, 0, 2 in one item.
    CHECK(nack_items(seqs({0, 2, 65535, 65534})) ==
          std::vector<NackItem>{{SequenceNumber(65534), 0b1011}});
    CHECK(nack_items({}).empty());
}

TEST_CASE("NACK built from random loss asks for exactly what was lost") {
    std::mt19937 random(7);
    for (int round = 0; round < 200; ++round) {
        const auto start = static_cast<std::uint16_t>(random());
        std::vector<SequenceNumber> lost;
        const double rate = 0.02 + 0.3 * (round % 10) / 10.0;
        std::bernoulli_distribution loses(rate);
        for (std::uint16_t i = 0; i < 2000; ++i) {
            if (loses(random)) lost.emplace_back(static_cast<std::uint16_t>(start + i));
        }
        std::vector<std::uint8_t> bytes;
        append_nack(bytes, Ssrc(5), Ssrc(6), lost);
        if (lost.empty()) {
            CHECK(bytes.empty());
            continue;
        }
        const auto nack = parse_nack(only_packet(bytes));
        REQUIRE(nack);
        CHECK(nack->sender == Ssrc(5));
        CHECK(nack->media == Ssrc(6));
        CHECK(nack->lost.size() == lost.size());
        CHECK(as_set(nack->lost) == as_set(lost));
        // Never more items than losses, never more than one per 17 numbers
        // of the span plus one per loss run.
        CHECK(nack_items(lost).size() <= lost.size());
    }
}

TEST_CASE("a NACK on the wire expands PID and BLP") {
    // PID 65534 with BLP bits 0 and 2 (65535, 1), PID 100 with bit 15 (116).
    const std::vector<std::uint8_t> bytes = {0x81, 205, 0,    4,    0, 0, 0, 1,   0,    0,
                                             0,    2,   0xFF, 0xFE, 0, 5, 0, 100, 0x80, 0};
    const auto nack = parse_nack(only_packet(bytes));
    REQUIRE(nack);
    CHECK(nack->lost == seqs({65534, 65535, 1, 100, 116}));
}

TEST_CASE("unknown feedback and packet types are kept intact") {
    // REMB (PSFB FMT 15) in a compound with an RR, then an XR.
    std::vector<std::uint8_t> bytes;
    ReceiverReport rr;
    rr.sender = Ssrc(3);
    append_receiver_report(bytes, rr);
    const std::vector<std::uint8_t> remb = {0x8F, 206, 0,   5,   0, 0,    0,    3,    0, 0, 0, 0,
                                            'R',  'E', 'M', 'B', 1, 0x0A, 0x12, 0x34, 0, 0, 0, 9};
    bytes.insert(bytes.end(), remb.begin(), remb.end());
    const std::vector<std::uint8_t> xr = {0x80, 207, 0, 1, 0, 0, 0, 3};
    bytes.insert(bytes.end(), xr.begin(), xr.end());
    std::vector<RtcpPacket> packets;
    REQUIRE(parse_compound(bytes, packets) == RtcpError::kNone);
    REQUIRE(packets.size() == 3);
    CHECK(packets[1].type == 206);
    CHECK(packets[1].count == 15);
    CHECK(std::vector<std::uint8_t>(packets[1].bytes.begin(), packets[1].bytes.end()) == remb);
    CHECK_FALSE(parse_pli(packets[1]));
    CHECK_FALSE(parse_fir(packets[1]));
    CHECK(packets[2].type == 207);
    CHECK(packets[2].body.size() == 4);
    CHECK(to_string(RtcpType::kExtendedReport) == "XR");
    CHECK(to_string(static_cast<RtcpType>(99)) == "unknown");
}

TEST_CASE("malformed compound packets stop at the first bad packet") {
    std::vector<RtcpPacket> packets;
    CHECK(parse_compound({}, packets) == RtcpError::kEmpty);

    std::vector<std::uint8_t> rr;
    append_receiver_report(rr, ReceiverReport{Ssrc(1), {}});
    auto with = [&](std::vector<std::uint8_t> tail) {
        auto bytes = rr;
        bytes.insert(bytes.end(), tail.begin(), tail.end());
        return parse_compound(bytes, packets);
    };
    CHECK(with({0x80, 201}) == RtcpError::kTooShort);
    CHECK(packets.size() == 1);  // the sound RR before it
    CHECK(with({0x40, 201, 0, 0}) == RtcpError::kBadVersion);
    CHECK(with({0x80, 201, 0, 1, 0, 0, 0}) == RtcpError::kLengthPastEnd);
    CHECK(with({0x80, 201, 0xFF, 0xFF}) == RtcpError::kLengthPastEnd);
    // Padding: a count of 0, or more than the body, is refused.
    CHECK(with({0xA0, 201, 0, 1, 0, 0, 0, 0}) == RtcpError::kBadPadding);
    CHECK(with({0xA0, 201, 0, 1, 0, 0, 0, 5}) == RtcpError::kBadPadding);
    CHECK(with({0xA0, 201, 0, 1, 0, 0, 0, 4}) == RtcpError::kNone);
    CHECK(packets.back().body.empty());
    CHECK(packets.back().bytes.size() == 8);

    // A packet whose header announces more than its body holds.
    std::vector<std::uint8_t> sr_short = {0x81, 200, 0, 6, 0, 0, 0, 1};
    sr_short.resize(28, 0);  // sender info but no room for the report block
    CHECK_FALSE(parse_sender_report(only_packet(sr_short)));
    std::vector<std::uint8_t> rr_short = {0x82, 201, 0, 7, 0, 0, 0, 1};
    rr_short.resize(32, 0);  // 1 block of 2
    CHECK_FALSE(parse_receiver_report(only_packet(rr_short)));
    CHECK_FALSE(parse_bye(only_packet({0x82, 203, 0, 1, 0, 0, 0, 1})));
    CHECK_FALSE(parse_bye(only_packet({0x81, 203, 0, 2, 0, 0, 0, 1, 9, 'a', 'b', 'c'})));
    CHECK_FALSE(parse_nack(only_packet({0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2})));
    CHECK_FALSE(parse_pli(only_packet({0x81, 206, 0, 1, 0, 0, 0, 1})));
    // SDES: an item past the end; no END item.
    CHECK_FALSE(parse_sdes(only_packet({0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, 'a', 'b'})));
    CHECK_FALSE(parse_sdes(only_packet({0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 'a', 'b'})));
    CHECK_FALSE(parse_sdes(only_packet({0x82, 202, 0, 2, 0, 0, 0, 1, 1, 1, 'a', 0})));
    CHECK(to_string(RtcpError::kLengthPastEnd) == "length past the end");
}

TEST_CASE("SDES keeps CNAME among other items and chunks") {
    // Two chunks: the first with NAME (2) then CNAME, the second CNAME only.
    const std::vector<std::uint8_t> bytes = {0x82, 202, 0, 6,  //
                                             0,    0,   0, 1,   2,   3,   'b', 'o',
                                             'b',  1,   4, 'c', 'n', 'a', 'm', 0,  //
                                             0,    0,   0, 2,   1,   1,   'x', 0};
    const auto chunks = parse_sdes(only_packet(bytes));
    REQUIRE(chunks);
    REQUIRE(chunks->size() == 2);
    CHECK((*chunks)[0].source == Ssrc(1));
    CHECK((*chunks)[0].cname == "cnam");
    CHECK((*chunks)[1].source == Ssrc(2));
    CHECK((*chunks)[1].cname == "x");

    // A CNAME of 255 bytes is the longest; more is cut.
    std::vector<std::uint8_t> out;
    append_sdes_cname(out, Ssrc(3), std::string(300, 'c'));
    const auto long_one = parse_sdes(only_packet(out));
    REQUIRE(long_one);
    CHECK((*long_one)[0].cname == std::string(255, 'c'));
    // A CNAME filling its chunk to a word boundary still gets its END item.
    for (std::size_t n = 0; n < 9; ++n) {
        out.clear();
        append_sdes_cname(out, Ssrc(4), std::string(n, 'z'));
        const auto chunk = parse_sdes(only_packet(out));
        REQUIRE(chunk);
        CHECK((*chunk)[0].cname == std::string(n, 'z'));
    }
}

TEST_CASE("NTP time from Unix time") {
    using std::chrono::microseconds;
    CHECK(ntp_from_unix(microseconds(0)) == 2208988800ull << 32);
    CHECK(ntp_from_unix(microseconds(1'500'000)) == ((2208988801ull << 32) | 0x80000000u));
    CHECK(ntp_middle(0x0123456789ABCDEFull) == 0x456789ABu);
}
