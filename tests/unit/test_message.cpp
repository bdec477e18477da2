#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "error_message.hpp"
#include "signaling/line_framer.hpp"
#include "signaling/message.hpp"

using rtcpeer::Error;
using rtcpeer::ErrorCategory;
using namespace rtcpeer::signaling;

namespace {
// The message of a decode that must fail.
std::string decode_error(const std::string& line) {
    return error_message(ErrorCategory::kProtocol, line, [&] { decode(line); });
}
}  // namespace

TEST_CASE("encode matches json.dumps(sort_keys=True) byte for byte") {
    CHECK(encode(Message::offer("v=0\r\n")) == R"({"sdp": "v=0\r\n", "type": "offer"})");
    CHECK(encode(Message::answer("a\"b\\c\td")) == R"({"sdp": "a\"b\\c\td", "type": "answer"})");
    CHECK(
        encode(Message::ice_candidate("1 1 udp 2130706431 10.0.0.1 5000 typ host", "0", 0)) ==
        R"({"candidate": "candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host", "id": "0", "label": 0, "type": "candidate"})");
    CHECK(encode(Message::bye()) == R"({"type": "bye"})");
}

TEST_CASE("encode escapes like Python's ensure_ascii") {
    CHECK(encode(Message::offer("\x01\x7f")) == R"({"sdp": "\u0001\u007f", "type": "offer"})");
    CHECK(encode(Message::offer("\xc3\xa9")) == R"({"sdp": "\u00e9", "type": "offer"})");
    CHECK(encode(Message::offer("\xf0\x9f\x98\x80")) ==
          R"({"sdp": "\ud83d\ude00", "type": "offer"})");
}

TEST_CASE("decode reads what aiortc writes") {
    auto offer = decode(R"({"sdp": "v=0\r\n", "type": "offer"})");
    CHECK(offer.type == Message::Type::kOffer);
    CHECK(offer.sdp == "v=0\r\n");
    auto candidate = decode(
        R"({"candidate": "candidate:a 1 udp 1 10.0.0.1 9 typ host", "id": "0", "label": 0, "type": "candidate"})");
    CHECK(candidate.type == Message::Type::kCandidate);
    CHECK(candidate.candidate == "a 1 udp 1 10.0.0.1 9 typ host");
    CHECK(candidate.mid == "0");
    CHECK(candidate.mline_index == 0);
    auto nulls = decode(
        R"({"candidate": "candidate:a 1 udp 1 10.0.0.1 9 typ host", "id": null, "label": null, "type": "candidate"})");
    CHECK(!nulls.mid);
    CHECK(!nulls.mline_index);
    CHECK(decode(R"({"type": "bye"})").type == Message::Type::kBye);
    CHECK(decode("{\"type\": \"bye\"}\r").type == Message::Type::kBye);
    auto end = decode(R"({"candidate": "", "id": "0", "label": 0, "type": "candidate"})");
    CHECK(end.candidate.empty());
}

TEST_CASE("decode round-trips every encoded message") {
    for (const auto& message :
         {Message::offer("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n"), Message::answer("x\u00e9"),
          Message::ice_candidate("f 1 udp 5 ::1 9 typ host", "data", 3), Message::bye()}) {
        const auto decoded = decode(encode(message));
        CHECK(decoded.type == message.type);
        CHECK(decoded.sdp == message.sdp);
        CHECK(decoded.candidate == message.candidate);
        CHECK(encode(decoded) == encode(message));
    }
}

TEST_CASE("unknown types are reported, not errors") {
    auto message = decode(R"({"type": "renegotiate"})");
    CHECK(message.type == Message::Type::kUnknown);
    CHECK(message.unknown_type == "renegotiate");
}

TEST_CASE("hostile messages are protocol errors that say what is wrong") {
    CHECK_THAT(decode_error("not json"), Catch::Contains("not valid JSON"));
    CHECK_THAT(decode_error("[1, 2]"), Catch::Contains("not a JSON object"));
    CHECK_THAT(decode_error(R"({"sdp": "v=0"})"), Catch::Contains("missing \"type\""));
    CHECK_THAT(decode_error(R"({"type": 5})"), Catch::Contains("\"type\" is not a string"));
    CHECK_THAT(decode_error(R"({"type": "offer"})"), Catch::Contains("missing \"sdp\""));
    CHECK_THAT(decode_error(R"({"type": "offer", "sdp": 1})"),
               Catch::Contains("\"sdp\" is not a string"));
    CHECK_THAT(decode_error(R"({"type": "candidate", "candidate": "candidate:x", "label": 0})"),
               Catch::Contains("missing \"id\""));
    CHECK_THAT(decode_error(
                   R"({"type": "candidate", "candidate": "candidate:x", "id": "0", "label": "0"})"),
               Catch::Contains("\"label\""));
    CHECK_THAT(decode_error(R"({"type": "candidate", "candidate": "x", "id": "0", "label": 0})"),
               Catch::Contains("candidate:"));
    CHECK_THAT(decode_error("{\"type\": \"offer\", \"sdp\": \"\xff\xfe\"}"),
               Catch::Contains("not valid JSON"));
    CHECK_THAT(decode_error("{\"type\": \"bye\"} trailing"), Catch::Contains("not valid JSON"));
}

TEST_CASE("the line framer splits lines and bounds what it buffers") {
    LineFramer framer(16);
    std::vector<std::string> lines;
    auto collect = [&](std::string_view line) { lines.emplace_back(line); };
    framer.feed("ab", collect);
    CHECK(lines.empty());
    CHECK(framer.pending() == 2);
    framer.feed("c\nde\n\nf", collect);
    CHECK(lines == std::vector<std::string>{"abc", "de", ""});
    CHECK(framer.pending() == 1);
    // 16 bytes is the most a line may hold; the 17th fails at once.
    LineFramer bounded(16);
    bounded.feed(std::string(16, 'x'), collect);
    try {
        bounded.feed("y", collect);
        FAIL("accepted a 17-byte line");
    } catch (const Error& failure) {
        CHECK(failure.category() == ErrorCategory::kProtocol);
        CHECK_THAT(failure.what(), Catch::Contains("longer than 16 bytes"));
    }
    CHECK(bounded.pending() == 0);
}
