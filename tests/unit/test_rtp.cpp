#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <vector>

#include "rtp/demux.hpp"
#include "rtp/packet.hpp"
#include "rtp/receive_statistics.hpp"
#include "rtp/rewriter.hpp"
#include "rtp/send_history.hpp"
#include "rtp_test_packet.hpp"

using namespace rtcpeer::rtp;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

// A version-2 packet: V=2, then the given fields, then the payload.
std::vector<std::uint8_t> rtp_packet(std::uint8_t pt, std::uint16_t seq, std::uint32_t ts,
                                     std::uint32_t ssrc,
                                     std::vector<std::uint8_t> payload = {1, 2, 3}) {
    std::vector<std::uint8_t> p = rtcpeer::testing::rtp_header(pt, seq, ts, ssrc);
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

RtpPacket parsed(const std::vector<std::uint8_t>& bytes) {
    RtpPacket packet;
    REQUIRE(parse_rtp(bytes, packet) == RtpError::kNone);
    return packet;
}

}  // namespace

TEST_CASE("sequence numbers compare across the wrap") {
    CHECK(distance(SequenceNumber(65535), SequenceNumber(0)) == 1);
    CHECK(distance(SequenceNumber(0), SequenceNumber(65535)) == -1);
    CHECK(distance(SequenceNumber(100), SequenceNumber(100)) == 0);
    CHECK(distance(SequenceNumber(0), SequenceNumber(0x7FFF)) == 0x7FFF);
    CHECK(distance(SequenceNumber(0), SequenceNumber(0x8000)) == -0x8000);
    CHECK(is_newer(SequenceNumber(2), SequenceNumber(65530)));
    CHECK_FALSE(is_newer(SequenceNumber(65530), SequenceNumber(2)));
    CHECK(SequenceNumber(65535) + 2 == SequenceNumber(1));
}

TEST_CASE("datagrams are told apart by their first byte (RFC 7983)") {
    auto kind = [](std::vector<std::uint8_t> bytes) { return classify(bytes); };
    CHECK(kind({0x00, 0x01}) == DatagramKind::kStun);  // binding request
    CHECK(kind({0x01, 0x01}) == DatagramKind::kStun);  // binding success
    CHECK(kind({3}) == DatagramKind::kStun);
    CHECK(kind({4}) == DatagramKind::kUnknown);
    CHECK(kind({16}) == DatagramKind::kZrtp);
    CHECK(kind({20}) == DatagramKind::kDtls);              // change cipher spec
    CHECK(kind({22, 0xFE, 0xFD}) == DatagramKind::kDtls);  // handshake
    CHECK(kind({63}) == DatagramKind::kDtls);
    CHECK(kind({64}) == DatagramKind::kTurnChannel);
    CHECK(kind({79}) == DatagramKind::kTurnChannel);
    CHECK(kind({80}) == DatagramKind::kUnknown);
    CHECK(kind({127, 0}) == DatagramKind::kUnknown);
    CHECK(kind({0x80, 96}) == DatagramKind::kRtp);
    CHECK(kind({0x80, 0x80 | 96}) == DatagramKind::kRtp);  // marker set
    CHECK(kind({0x80, 111}) == DatagramKind::kRtp);
    CHECK(kind({0x80, 191}) == DatagramKind::kRtp);  // marker + PT 63
    CHECK(kind({0x80, 192}) == DatagramKind::kRtcp);
    CHECK(kind({0x80, 200}) == DatagramKind::kRtcp);  // SR
    CHECK(kind({0x81, 205}) == DatagramKind::kRtcp);  // NACK
    CHECK(kind({0x80, 223}) == DatagramKind::kRtcp);
    CHECK(kind({0x80, 224}) == DatagramKind::kRtp);  // marker + PT 96
    CHECK(kind({0xBF, 200}) == DatagramKind::kRtcp);
    CHECK(kind({0xC0, 200}) == DatagramKind::kUnknown);  // 192
    CHECK(kind({0x80}) == DatagramKind::kUnknown);
    CHECK(kind({}) == DatagramKind::kUnknown);
    CHECK(to_string(DatagramKind::kDtls) == "dtls");
}

TEST_CASE("an RTP header parses field by field") {
    auto bytes = rtp_packet(0x80 | 96, 0xABCD, 0x01020304, 0xDEADBEEF, {9, 8, 7, 6});
    const auto packet = parsed(bytes);
    CHECK(packet.marker);
    CHECK(packet.payload_type == PayloadType(96));
    CHECK(packet.sequence == SequenceNumber(0xABCD));
    CHECK(packet.timestamp == RtpTimestamp(0x01020304));
    CHECK(packet.ssrc == Ssrc(0xDEADBEEF));
    CHECK(packet.csrc_count == 0);
    CHECK_FALSE(packet.has_extension);
    CHECK(packet.extension_form() == ExtensionForm::kNone);
    CHECK(packet.header_size == 12);
    CHECK(packet.padding_size == 0);
    CHECK(std::vector<std::uint8_t>(packet.payload.begin(), packet.payload.end()) ==
          std::vector<std::uint8_t>{9, 8, 7, 6});

    // An empty payload is valid.
    CHECK(parsed(rtp_packet(0, 1, 2, 3, {})).payload.empty());
}

TEST_CASE("CSRCs, extension and padding are located and stripped") {
    auto bytes = rtp_packet(111, 1, 2, 3, {});
    bytes[0] = 0x80 | 0x20 | 0x10 | 2;  // P, X, CC=2
    for (std::uint8_t b : {0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22}) bytes.push_back(b);
    // One-byte extension block, 2 words: id 1 len 1 (2 bytes), id 3 len 2 (3 bytes), padding.
    for (std::uint8_t b :
         {0xBE, 0xDE, 0x00, 0x02, 0x11, 0xAA, 0xBB, 0x32, 0x01, 0x02, 0x03, 0x00}) {
        bytes.push_back(b);
    }
    for (std::uint8_t b : {0x50, 0x51, 0x52}) bytes.push_back(b);        // payload
    for (std::uint8_t b : {0x00, 0x00, 0x00, 0x04}) bytes.push_back(b);  // padding of 4

    const auto packet = parsed(bytes);
    REQUIRE(packet.csrc_count == 2);
    CHECK(packet.csrc(0) == Ssrc(0x11111111));
    CHECK(packet.csrc(1) == Ssrc(0x22222222));
    CHECK(packet.extension_form() == ExtensionForm::kOneByte);
    CHECK(packet.extension_data.size() == 8);
    CHECK(packet.header_size == 12 + 8 + 12);
    CHECK(packet.padding_size == 4);
    CHECK(std::vector<std::uint8_t>(packet.payload.begin(), packet.payload.end()) ==
          std::vector<std::uint8_t>{0x50, 0x51, 0x52});

    ExtensionReader reader(packet);
    ExtensionElement element;
    REQUIRE(reader.next(element));
    CHECK(element.id == 1);
    CHECK(std::vector<std::uint8_t>(element.data.begin(), element.data.end()) ==
          std::vector<std::uint8_t>{0xAA, 0xBB});
    REQUIRE(reader.next(element));
    CHECK(element.id == 3);
    CHECK(element.data.size() == 3);
    CHECK_FALSE(reader.next(element));
    CHECK_FALSE(reader.malformed());

    CHECK(find_extension(packet, 3).found);
    CHECK(find_extension(packet, 3).data[2] == 0x03);
    CHECK_FALSE(find_extension(packet, 2).found);
}

TEST_CASE("RFC 8285 two-byte elements, id 15 and malformed blocks") {
    auto with_extension = [](std::uint16_t profile, std::vector<std::uint8_t> block) {
        auto bytes = rtp_packet(96, 1, 2, 3, {});
        bytes[0] |= 0x10;
        const auto words = static_cast<std::uint16_t>(block.size() / 4);
        for (std::uint8_t b :
             {static_cast<std::uint8_t>(profile >> 8), static_cast<std::uint8_t>(profile),
              static_cast<std::uint8_t>(0), static_cast<std::uint8_t>(words)}) {
            bytes.push_back(b);
        }
        bytes.insert(bytes.end(), block.begin(), block.end());
        return bytes;
    };

    // Two-byte form (0x100 + appbits 0x5): padding, id 200 with 0 bytes, id 7 with 3.
    const auto two = with_extension(0x1005, {0x00, 200, 0x00, 7, 3, 0xA, 0xB, 0xC, 0x00});
    // (9 bytes do not make whole words: the 2-word block holds the first 8.)
    const auto packet = parsed(two);
    CHECK(packet.extension_form() == ExtensionForm::kTwoByte);
    ExtensionReader reader(packet);
    ExtensionElement element;
    REQUIRE(reader.next(element));
    CHECK(element.id == 200);
    CHECK(element.data.empty());
    REQUIRE(reader.next(element));
    CHECK(element.id == 7);
    CHECK(element.data.size() == 3);
    CHECK_FALSE(reader.next(element));
    CHECK_FALSE(reader.malformed());

    // One-byte id 15 ends the walk, whatever follows.
    const auto stop_bytes = with_extension(0xBEDE, {0x10, 0xAA, 0xF0, 0x20, 0xBB, 0, 0, 0});
    const auto stop = parsed(stop_bytes);
    ExtensionReader stopped(stop);
    REQUIRE(stopped.next(element));
    CHECK(element.id == 1);
    CHECK_FALSE(stopped.next(element));
    CHECK_FALSE(stopped.malformed());

    // An element longer than its block: no element, malformed.
    const auto past_bytes = with_extension(0xBEDE, {0x1F, 0xAA, 0xBB, 0xCC});
    const auto past = parsed(past_bytes);
    ExtensionReader overrun(past);
    CHECK_FALSE(overrun.next(element));
    CHECK(overrun.malformed());
    const auto past2_bytes = with_extension(0x1000, {0x00, 0x00, 0x00, 0x09});
    const auto past2 = parsed(past2_bytes);
    ExtensionReader overrun2(past2);
    CHECK_FALSE(overrun2.next(element));
    CHECK(overrun2.malformed());

    // A profile-specific block is opaque.
    const auto other_bytes = with_extension(0x1234, {1, 2, 3, 4});
    const auto other = parsed(other_bytes);
    CHECK(other.extension_form() == ExtensionForm::kOther);
    ExtensionReader opaque(other);
    CHECK_FALSE(opaque.next(element));
    CHECK_FALSE(opaque.malformed());
}

TEST_CASE("malformed RTP is refused with the reason") {
    RtpPacket packet;
    auto error = [&](std::vector<std::uint8_t> bytes) { return parse_rtp(bytes, packet); };

    const auto good = rtp_packet(96, 1, 2, 3);
    for (std::size_t n = 0; n < 12; ++n) {
        CHECK(error({good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)}) ==
              RtpError::kTooShort);
    }
    auto v1 = good;
    v1[0] = 0x40;
    CHECK(error(v1) == RtpError::kBadVersion);
    auto v3 = good;
    v3[0] = 0xC0;
    CHECK(error(v3) == RtpError::kBadVersion);

    auto csrc = rtp_packet(96, 1, 2, 3, {0, 0, 0, 0});
    csrc[0] = 0x82;  // CC=2 needs 8 bytes, 4 there
    CHECK(error(csrc) == RtpError::kCsrcPastEnd);
    csrc[0] = 0x81;  // CC=1 fits exactly
    CHECK(error(csrc) == RtpError::kNone);

    auto ext = rtp_packet(96, 1, 2, 3, {0xBE, 0xDE});
    ext[0] = 0x90;  // X with only half of the extension header
    CHECK(error(ext) == RtpError::kExtensionPastEnd);
    ext = rtp_packet(96, 1, 2, 3, {0xBE, 0xDE, 0x00, 0x02, 1, 2, 3, 4});
    ext[0] = 0x90;  // 2 words announced, 1 there
    CHECK(error(ext) == RtpError::kExtensionPastEnd);
    ext = rtp_packet(96, 1, 2, 3, {0xBE, 0xDE, 0xFF, 0xFF});
    ext[0] = 0x90;
    CHECK(error(ext) == RtpError::kExtensionPastEnd);

    auto pad = rtp_packet(96, 1, 2, 3, {1, 2, 3, 4});
    pad[0] = 0xA0;
    pad.back() = 5;  // 5 bytes of padding, 4 of payload
    CHECK(error(pad) == RtpError::kBadPadding);
    pad.back() = 0;  // a count of 0 is not padding
    CHECK(error(pad) == RtpError::kBadPadding);
    pad.back() = 255;
    CHECK(error(pad) == RtpError::kBadPadding);
    pad.back() = 4;  // the whole payload is padding: empty payload
    CHECK(error(pad) == RtpError::kNone);
    CHECK(packet.payload.empty());
    CHECK(packet.padding_size == 4);

    // Padding may not reach into the header (here a 16-byte header, 1 byte after).
    auto into_header = rtp_packet(96, 1, 2, 3, {9, 9, 9, 9, 2});
    into_header[0] = 0xA1;
    CHECK(error(into_header) == RtpError::kBadPadding);
    CHECK(to_string(RtpError::kBadPadding) == "bad padding length");
}

TEST_CASE("the header alone parses without reading the padding count") {
    // As in SRTP, where the last byte is encrypted: a count that would be
    // bad padding does not matter, the payload is all after the header.
    auto bytes = rtp_packet(96, 1, 2, 3, {1, 2, 3, 0xFF});
    bytes[0] = 0xA1;  // P, one CSRC
    bytes.insert(bytes.begin() + 12, {0, 0, 0, 9});
    RtpPacket packet;
    CHECK(parse_rtp(bytes, packet) == RtpError::kBadPadding);
    REQUIRE(parse_rtp_header(bytes, packet) == RtpError::kNone);
    CHECK(packet.header_size == 16);
    CHECK(packet.payload.size() == 4);
    CHECK(packet.padding_size == 0);
    bytes[0] = 0xA2;  // two CSRCs take the whole rest: an empty payload
    REQUIRE(parse_rtp_header(bytes, packet) == RtpError::kNone);
    CHECK(packet.payload.empty());
    bytes[0] = 0xA3;  // three do not fit
    CHECK(parse_rtp_header(bytes, packet) == RtpError::kCsrcPastEnd);
}

TEST_CASE("rewriting the fixed header changes those fields only") {
    auto bytes = rtp_packet(0x80 | 100, 7, 8, 9, {1, 2, 3});
    bytes[0] |= 0x01;  // one CSRC
    bytes.insert(bytes.begin() + 12, {0xCC, 0xCC, 0xCC, 0xCC});
    CHECK(set_payload_type(bytes, PayloadType(96)));
    CHECK(set_sequence(bytes, SequenceNumber(0xFFFF)));
    CHECK(set_timestamp(bytes, RtpTimestamp(0xFEDCBA98)));
    CHECK(set_ssrc(bytes, Ssrc(0x12345678)));
    const auto packet = parsed(bytes);
    CHECK(packet.marker);  // kept
    CHECK(packet.payload_type == PayloadType(96));
    CHECK(packet.sequence == SequenceNumber(0xFFFF));
    CHECK(packet.timestamp == RtpTimestamp(0xFEDCBA98));
    CHECK(packet.ssrc == Ssrc(0x12345678));
    CHECK(packet.csrc(0) == Ssrc(0xCCCCCCCC));
    CHECK(packet.payload.size() == 3);
    CHECK(set_marker(bytes, false));
    CHECK_FALSE(parsed(bytes).marker);
    CHECK(parsed(bytes).payload_type == PayloadType(96));

    std::vector<std::uint8_t> short_one(11, 0x80);
    CHECK_FALSE(set_ssrc(short_one, Ssrc(1)));
    CHECK_FALSE(set_payload_type(short_one, PayloadType(1)));
    CHECK(short_one == std::vector<std::uint8_t>(11, 0x80));
}

TEST_CASE("the rewriter keeps one outgoing stream across a source restart") {
    Rewriter rewriter({Ssrc(0xAAAA0001), SequenceNumber(65530), RtpTimestamp(1000), 90000});
    microseconds now(5'000'000);
    std::vector<SequenceNumber> sent;
    std::vector<RtpTimestamp> stamps;
    auto push = [&](Ssrc ssrc, std::uint16_t seq, std::uint32_t ts) {
        const auto mapped = rewriter.map(ssrc, SequenceNumber(seq), RtpTimestamp(ts), now);
        if (mapped.forward()) {
            sent.push_back(mapped.sequence);
            stamps.push_back(mapped.timestamp);
        }
        return mapped;
    };

    // First source: 10 frames at 30 fps from sequence 40000, 3000 ticks apart.
    CHECK(push(Ssrc(111), 40000, 500000).outcome == Rewriter::Outcome::kNewSource);
    for (std::uint16_t i = 1; i < 10; ++i) {
        now += microseconds(33'333);
        CHECK(push(Ssrc(111), static_cast<std::uint16_t>(40000 + i), 500000 + 3000u * i).outcome ==
              Rewriter::Outcome::kForward);
    }
    // The output started where configured and crossed the wrap unbroken.
    CHECK(sent.front() == SequenceNumber(65530));
    CHECK(stamps.front() == RtpTimestamp(1000));
    CHECK(sent.back() == SequenceNumber(3));
    CHECK(stamps.back() == RtpTimestamp(1000 + 27000));

    // The source restarts 2 s later: new SSRC, new numbering, new clock.
    now += microseconds(2'000'000);
    CHECK(push(Ssrc(222), 7, 123).outcome == Rewriter::Outcome::kNewSource);
    CHECK(sent.back() == SequenceNumber(4));
    // Its packet 6, overtaken by 7, would take number 3 again: dropped.
    CHECK(push(Ssrc(222), 6, 123).outcome == Rewriter::Outcome::kDropStale);
    // 2 s at 90 kHz after the last frame.
    CHECK(stamps.back() == RtpTimestamp(1000 + 27000 + 180000));
    now += microseconds(33'333);
    CHECK(push(Ssrc(222), 8, 123 + 3000).outcome == Rewriter::Outcome::kForward);
    CHECK(sent.back() == SequenceNumber(5));
    CHECK(stamps.back() == RtpTimestamp(1000 + 27000 + 180000 + 3000));

    // A late packet of the old source is dropped, not sent into the new one.
    CHECK(push(Ssrc(111), 40008, 500000 + 24000).outcome == Rewriter::Outcome::kDropStale);
    // Reordering within the new source keeps its place.
    now += microseconds(33'333);
    push(Ssrc(222), 10, 123 + 6000);
    CHECK(push(Ssrc(222), 9, 123 + 6000).sequence == SequenceNumber(6));
    CHECK(sent.back() == SequenceNumber(6));

    // Every forwarded packet went out with a sequence number one after the
    // other (bar the reordered pair), never repeating one.
    for (std::size_t i = 1; i + 2 < sent.size(); ++i) {
        CHECK(distance(sent[i - 1], sent[i]) == 1);
    }
    CHECK(rewriter.ssrc() == Ssrc(0xAAAA0001));
}

TEST_CASE("a restart with the same SSRC is confirmed by the next packet") {
    Rewriter rewriter({Ssrc(1), SequenceNumber(100), RtpTimestamp(0), 8000});
    microseconds now(0);
    rewriter.map(Ssrc(5), SequenceNumber(1000), RtpTimestamp(0), now);
    now += milliseconds(20);
    CHECK(rewriter.map(Ssrc(5), SequenceNumber(1001), RtpTimestamp(160), now).sequence ==
          SequenceNumber(101));
    // One stray packet far away is dropped, and the stream goes on as before.
    now += milliseconds(20);
    CHECK(rewriter.map(Ssrc(5), SequenceNumber(30000), RtpTimestamp(9), now).outcome ==
          Rewriter::Outcome::kDropJump);
    now += milliseconds(20);
    CHECK(rewriter.map(Ssrc(5), SequenceNumber(1002), RtpTimestamp(320), now).sequence ==
          SequenceNumber(102));
    // A real restart: two packets in a row from new numbering.
    now += milliseconds(500);
    CHECK(rewriter.map(Ssrc(5), SequenceNumber(50), RtpTimestamp(77), now).outcome ==
          Rewriter::Outcome::kDropJump);
    now += milliseconds(20);
    const auto mapped = rewriter.map(Ssrc(5), SequenceNumber(51), RtpTimestamp(237), now);
    CHECK(mapped.outcome == Rewriter::Outcome::kNewSource);
    CHECK(mapped.sequence == SequenceNumber(103));
    CHECK(mapped.timestamp == RtpTimestamp(320 + 8 * 520));  // 520 ms at 8 kHz
}

TEST_CASE("the rewriter rewrites a datagram in place") {
    Rewriter rewriter({Ssrc(0x01020304), SequenceNumber(1), RtpTimestamp(2), 48000});
    auto bytes = rtp_packet(0x80 | 97, 500, 600, 700, {4, 5, 6});
    const auto mapped = rewriter.rewrite(bytes, PayloadType(111), microseconds(0));
    REQUIRE(mapped);
    CHECK(mapped->outcome == Rewriter::Outcome::kNewSource);
    const auto packet = parsed(bytes);
    CHECK(packet.ssrc == Ssrc(0x01020304));
    CHECK(packet.sequence == SequenceNumber(1));
    CHECK(packet.timestamp == RtpTimestamp(2));
    CHECK(packet.payload_type == PayloadType(111));
    CHECK(packet.marker);
    CHECK(packet.payload[2] == 6);

    std::vector<std::uint8_t> junk = {0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    CHECK_FALSE(rewriter.rewrite(junk, PayloadType(111), microseconds(0)));
}

TEST_CASE("receive statistics: loss, wrap, reordering and the missing list") {
    ReceiveStatistics stats({90000, 1000, 500});
    microseconds now(0);
    auto receive = [&](std::uint16_t seq) {
        now += milliseconds(10);
        return stats.receive(SequenceNumber(seq), RtpTimestamp(seq * 900u), now);
    };
    CHECK(receive(65530) == ReceiveStatistics::Verdict::kNew);
    CHECK(receive(65531) == ReceiveStatistics::Verdict::kNew);
    CHECK(receive(65534) == ReceiveStatistics::Verdict::kNew);  // 65532, 65533 lost
    CHECK(receive(1) == ReceiveStatistics::Verdict::kNew);      // wrap; 65535, 0 lost
    CHECK(receive(2) == ReceiveStatistics::Verdict::kNew);
    CHECK(stats.extended_highest() == 0x10000u + 2);
    CHECK(stats.expected() == 9);
    CHECK(stats.received() == 5);
    CHECK(stats.lost() == 4);
    CHECK(stats.missing() == std::vector<SequenceNumber>{SequenceNumber(65532),
                                                         SequenceNumber(65533),
                                                         SequenceNumber(65535), SequenceNumber(0)});

    // A retransmission fills a hole; a second copy is a duplicate.
    CHECK(receive(65533) == ReceiveStatistics::Verdict::kRecovered);
    CHECK(receive(65533) == ReceiveStatistics::Verdict::kDuplicate);
    CHECK(stats.missing() == std::vector<SequenceNumber>{SequenceNumber(65532),
                                                         SequenceNumber(65535), SequenceNumber(0)});
    CHECK(stats.lost() == 2);  // 3 missing, one duplicate counted (RFC 3550 §6.4.1)

    const auto block = stats.report_block(Ssrc(42), now);
    CHECK(block.source == Ssrc(42));
    CHECK(block.highest_sequence == 0x10002u);
    CHECK(block.cumulative_lost == 2);
    CHECK(block.fraction_lost == (2 << 8) / 9);
    CHECK(block.last_sr == 0);
    CHECK(block.delay_since_last_sr == 0);
    // Next interval: 10 expected, all received.
    for (std::uint16_t s = 3; s < 13; ++s) receive(s);
    CHECK(stats.report_block(Ssrc(42), now).fraction_lost == 0);
}

TEST_CASE("receive statistics: the missing list is bounded by age and count") {
    ReceiveStatistics stats({90000, 100, 30});
    microseconds now(0);
    stats.receive(SequenceNumber(10), RtpTimestamp(0), now);
    stats.receive(SequenceNumber(50), RtpTimestamp(0), now);  // 39 missing, 30 kept
    auto missing = stats.missing();
    REQUIRE(missing.size() == 30);
    CHECK(missing.front() == SequenceNumber(20));
    CHECK(missing.back() == SequenceNumber(49));
    // 150 ahead: 20..49 are more than 100 behind now, and 51..199 are
    // 149, capped to 30.
    stats.receive(SequenceNumber(200), RtpTimestamp(0), now);
    missing = stats.missing();
    REQUIRE(missing.size() == 30);
    CHECK(missing.front() == SequenceNumber(170));
    CHECK(missing.back() == SequenceNumber(199));
    // A gap past the window adds only the newest part of it.
    stats.receive(SequenceNumber(2000), RtpTimestamp(0), now);
    missing = stats.missing();
    REQUIRE(missing.size() == 30);
    CHECK(missing.back() == SequenceNumber(1999));
    CHECK(stats.lost() == 2000 - 10 + 1 - 4);
}

TEST_CASE("receive statistics: a jump restarts only when confirmed") {
    ReceiveStatistics stats({8000, 1000, 500});
    microseconds now(0);
    for (std::uint16_t s = 100; s < 110; ++s)
        stats.receive(SequenceNumber(s), RtpTimestamp(0), now);
    CHECK(stats.receive(SequenceNumber(20000), RtpTimestamp(0), now) ==
          ReceiveStatistics::Verdict::kJump);
    CHECK(stats.expected() == 10);
    CHECK(stats.receive(SequenceNumber(110), RtpTimestamp(0), now) ==
          ReceiveStatistics::Verdict::kNew);
    CHECK(stats.receive(SequenceNumber(40000), RtpTimestamp(0), now) ==
          ReceiveStatistics::Verdict::kJump);
    CHECK(stats.receive(SequenceNumber(40001), RtpTimestamp(0), now) ==
          ReceiveStatistics::Verdict::kNew);
    CHECK(stats.expected() == 1);
    CHECK(stats.received() == 1);
    CHECK(stats.missing().empty());
}

TEST_CASE("interarrival jitter follows RFC 3550 A.8") {
    // 8 kHz audio, one packet each 20 ms (160 ticks).
    ReceiveStatistics steady({8000, 1000, 500});
    for (std::uint16_t i = 0; i < 100; ++i) {
        steady.receive(SequenceNumber(i), RtpTimestamp(160u * i), microseconds(20'000 * i));
    }
    CHECK(steady.jitter() == 0);

    // Arrivals alternately 5 ms late: |D| = 40 ticks each time, so J tends to 40.
    ReceiveStatistics shaky({8000, 1000, 500});
    for (std::uint16_t i = 0; i < 400; ++i) {
        const std::int64_t late = (i % 2) ? 5'000 : 0;
        shaky.receive(SequenceNumber(i), RtpTimestamp(160u * i), microseconds(20'000 * i + late));
    }
    CHECK(shaky.jitter() >= 38);
    CHECK(shaky.jitter() <= 40);

    // One step: J = |D| / 16 after the first difference.
    ReceiveStatistics one({8000, 1000, 500});
    one.receive(SequenceNumber(0), RtpTimestamp(0), microseconds(0));
    one.receive(SequenceNumber(1), RtpTimestamp(160), microseconds(20'000 + 20'000));  // D = 160
    CHECK(one.jitter() == 10);
}

TEST_CASE("report blocks echo the last SR with the delay since") {
    ReceiveStatistics stats({90000, 1000, 500});
    stats.receive(SequenceNumber(1), RtpTimestamp(0), microseconds(0));
    const std::uint64_t ntp = 0x0123456789ABCDEFull;
    stats.on_sender_report(ntp, microseconds(1'000'000));
    const auto block = stats.report_block(Ssrc(1), microseconds(1'500'000));
    CHECK(block.last_sr == 0x456789ABu);
    CHECK(block.delay_since_last_sr == 32768);  // 0.5 s in 1/65536 s
}

TEST_CASE("the send history answers by sequence number within its bounds") {
    SendHistory history(4, 1000);
    auto packet = [](std::uint8_t fill, std::size_t size) {
        return std::vector<std::uint8_t>(size, fill);
    };
    for (std::uint16_t s = 65534; s != 3; ++s)
        history.store(SequenceNumber(s), packet(s & 0xFF, 100));
    // 65534, 65535, 0, 1, 2 stored: 4 kept.
    CHECK(history.size() == 4);
    CHECK(history.bytes() == 400);
    CHECK(history.find(SequenceNumber(65534)).empty());
    REQUIRE(history.find(SequenceNumber(65535)).size() == 100);
    CHECK(history.find(SequenceNumber(65535))[0] == 0xFF);
    CHECK(history.find(SequenceNumber(0))[0] == 0);
    CHECK(history.find(SequenceNumber(2))[99] == 2);
    CHECK(history.find(SequenceNumber(3)).empty());

    // Bytes bound: a 701-byte packet pushes out the two oldest.
    history.store(SequenceNumber(3), packet(3, 701));
    CHECK(history.bytes() <= 1000);
    CHECK(history.size() == 3);
    CHECK(history.find(SequenceNumber(0)).empty());
    CHECK(history.find(SequenceNumber(1))[0] == 1);
    CHECK(history.find(SequenceNumber(3)).size() == 701);
    // Too large alone: not kept, nothing lost.
    history.store(SequenceNumber(4), packet(4, 1001));
    CHECK(history.find(SequenceNumber(4)).empty());
    CHECK(history.size() == 3);

    // Numbering that is not consecutive is still found.
    SendHistory gaps(10, 10000);
    gaps.store(SequenceNumber(10), packet(10, 1));
    gaps.store(SequenceNumber(500), packet(50, 1));
    gaps.store(SequenceNumber(11), packet(11, 1));
    CHECK(gaps.find(SequenceNumber(500))[0] == 50);
    CHECK(gaps.find(SequenceNumber(10))[0] == 10);
    gaps.clear();
    CHECK(gaps.find(SequenceNumber(10)).empty());
    CHECK(gaps.bytes() == 0);
}
