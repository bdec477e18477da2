// The base layer: errors and their categories, the exit codes the app maps
// them to, the option names the app puts into messages, the manual clock,
// timers on a manual scheduler, hexadecimal numbers.
#include <catch2/catch.hpp>
#include <memory>

#include "app/exit_code.hpp"
#include "app/options.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/loop.hpp"
#include "base/scheduler.hpp"
#include "base/text.hpp"

using rtcpeer::Error;
using rtcpeer::ErrorCategory;
using rtcpeer::ExitCode;

TEST_CASE("every error category has the exit code the man page documents") {
    CHECK(rtcpeer::exit_code(ErrorCategory::kRuntime) == ExitCode::kFailure);
    CHECK(static_cast<int>(rtcpeer::exit_code(ErrorCategory::kUsage)) == 2);
    CHECK(static_cast<int>(rtcpeer::exit_code(ErrorCategory::kTimeout)) == 3);
    CHECK(static_cast<int>(rtcpeer::exit_code(ErrorCategory::kProtocol)) == 4);
    CHECK(static_cast<int>(rtcpeer::exit_code(ErrorCategory::kConnection)) == 5);
    CHECK(static_cast<int>(rtcpeer::exit_code(ErrorCategory::kSecurity)) == 6);
    CHECK(rtcpeer::exit_code(rtcpeer::protocol_error("sdp", "bad")) == ExitCode::kProtocol);
}

TEST_CASE("the app names the option that a layer's error is about") {
    const Error from_ice =
        Error(ErrorCategory::kUsage, "ice", "cannot resolve STUN server stun:x.invalid:3478: gone")
            .about("STUN server");
    const Error named = rtcpeer::name_option(from_ice);
    CHECK(named.line() == "rtcpeer: ice: cannot resolve --stun stun:x.invalid:3478: gone");
    CHECK(named.category() == ErrorCategory::kUsage);

    const Error ca =
        Error(ErrorCategory::kUsage, "ice", "TURN CA file /x: unreadable").about("TURN CA file");
    CHECK(std::string(rtcpeer::name_option(ca).what()) == "--turn-ca /x: unreadable");

    // An error about no setting is left as it is.
    const Error plain(ErrorCategory::kRuntime, "sctp", "socket: no memory");
    CHECK(rtcpeer::name_option(plain).line() == plain.line());
}

TEST_CASE("a manual clock moves only when told and never back") {
    rtcpeer::ManualClock clock(1000);
    const rtcpeer::Clock& read = clock;
    CHECK(read.now_ms() == 1000);
    clock.advance_ms(250);
    CHECK(read.now_ms() == 1250);
    clock.advance_ms(-100);
    CHECK(read.now_ms() == 1250);
    const std::int64_t a = rtcpeer::system_clock().now_ms();
    CHECK(rtcpeer::system_clock().now_ms() >= a);
}

TEST_CASE("a timer runs on its scheduler's time and may end itself or its owner") {
    rtcpeer::ManualScheduler scheduler;
    int ticks = 0;
    rtcpeer::loop::Timer repeating(scheduler);
    repeating.start_repeating(std::chrono::milliseconds(100), [&] { return ++ticks < 3; });
    scheduler.advance(99);
    CHECK(ticks == 0);
    scheduler.advance(1000);
    CHECK(ticks == 3);  // stopped itself by returning false
    CHECK_FALSE(repeating.active());

    // A callback that destroys its own timer (its owner ends) must leave the
    // timer alone afterwards (the sanitizer build sees any use after free).
    auto owned = std::make_unique<rtcpeer::loop::Timer>(scheduler);
    int calls = 0;
    owned->start_repeating(std::chrono::milliseconds(10), [&] {
        ++calls;
        owned.reset();
        return true;
    });
    scheduler.advance(100);
    CHECK(calls == 1);
    CHECK(owned == nullptr);
}

TEST_CASE("hexadecimal numbers: 1 to 8 digits of either case and nothing else") {
    using rtcpeer::text::parse_hex;
    CHECK(parse_hex("0") == 0u);
    CHECK(parse_hex("aB") == 0xABu);
    CHECK(parse_hex("42e01F") == 0x42E01Fu);
    CHECK(parse_hex("ffffffff") == 0xFFFFFFFFu);
    CHECK_FALSE(parse_hex(""));
    CHECK_FALSE(parse_hex("100000000"));  // 9 digits
    for (const char* bad : {"g", "-1", "+1", " 1", "1 ", "0x1", "1:2"}) {
        INFO(bad);
        CHECK_FALSE(parse_hex(bad));
    }
}
