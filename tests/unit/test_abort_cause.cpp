// The reason in a remote's ABORT: what tells a receiver that the sender was
// interrupted (rtcpeer(1), EXIT STATUS), read from bytes the remote chose.
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.hpp"
#include "sctp/abort_cause.hpp"

using rtcpeer::bytes::put16;
using rtcpeer::sctp::user_abort_reason;

namespace {

// An error cause: code, length (header included), value, padding to 4.
std::vector<std::uint8_t> cause(std::uint16_t code, const std::string& value) {
    std::vector<std::uint8_t> out;
    put16(out, code);
    put16(out, static_cast<std::uint16_t>(4 + value.size()));
    for (char c : value) out.push_back(static_cast<std::uint8_t>(c));
    while (out.size() % 4 != 0) out.push_back(0);
    return out;
}

std::vector<std::uint8_t> abort_chunk(const std::vector<std::vector<std::uint8_t>>& causes) {
    std::size_t length = 4;
    for (const auto& c : causes) length += c.size();
    std::vector<std::uint8_t> out = {6, 0};
    put16(out, static_cast<std::uint16_t>(length));
    for (const auto& c : causes)
        for (std::uint8_t byte : c) out.push_back(byte);
    return out;
}

// In a block of exactly that size, so that AddressSanitizer sees any
// read past the end.
std::optional<std::string> parse_exact(const std::vector<std::uint8_t>& bytes) {
    auto block = std::make_unique<std::uint8_t[]>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), block.get());
    return user_abort_reason(block.get(), bytes.size());
}

}  // namespace

TEST_CASE("the reason of a User-Initiated Abort cause", "[sctp]") {
    CHECK(parse_exact(abort_chunk({cause(12, "interrupted by SIGTERM")})) ==
          std::optional<std::string>("interrupted by SIGTERM"));
    // Behind another cause, each padded to 4 bytes.
    CHECK(parse_exact(abort_chunk({cause(13, "x"), cause(12, "Close called")})) ==
          std::optional<std::string>("Close called"));
    CHECK(parse_exact(abort_chunk({cause(12, "")})) == std::optional<std::string>(""));
}

TEST_CASE("an ABORT without that cause has no reason", "[sctp]") {
    CHECK_FALSE(parse_exact(abort_chunk({})));                    // aiortc's plain ABORT
    CHECK_FALSE(parse_exact(abort_chunk({cause(13, "other")})));  // protocol violation
    auto not_abort = abort_chunk({cause(12, "x")});
    not_abort[0] = 7;  // SHUTDOWN
    CHECK_FALSE(parse_exact(not_abort));
}

TEST_CASE("malformed ABORT chunks are bounded", "[sctp]") {
    const auto whole = abort_chunk({cause(12, "interrupted by SIGINT")});
    // Every truncation: never a read past the end, never a reason longer
    // than what is there.
    for (std::size_t cut = 0; cut < whole.size(); ++cut) {
        const std::vector<std::uint8_t> part(whole.begin(), whole.begin() + cut);
        const auto reason = parse_exact(part);
        if (reason) CHECK(reason->size() + 8 <= cut);
    }
    // A cause that claims more than the chunk holds.
    auto overlong = whole;
    overlong[6] = 0x7f;
    CHECK_FALSE(parse_exact(overlong));
    // A cause length below its own header would loop forever.
    auto tiny = whole;
    tiny[6] = 0;
    tiny[7] = 2;
    CHECK_FALSE(parse_exact(tiny));
    // The chunk's length, not the buffer's, bounds the walk.
    auto short_chunk = whole;
    short_chunk[3] = 4;
    CHECK_FALSE(parse_exact(short_chunk));
}
