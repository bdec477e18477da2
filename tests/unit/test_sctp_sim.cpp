// Two real SCTP associations (usrsctp) in one process, joined by an
// in-memory datagram link and driven in simulated time by a
// ManualScheduler: no sockets, no DTLS. The link, the pair and the simulated
// time of day are in sctp_sim_link.hpp and sim_time.hpp, which say why
// usrsctp's gettimeofday() must follow the simulated clock.

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "base/loop.hpp"
#include "base/scheduler.hpp"
#include "sctp/association.hpp"
#include "sctp/stack.hpp"
#include "sctp_sim_link.hpp"

using rtcpeer::ManualScheduler;
using rtcpeer::sctp::Association;
using rtcpeer::sctp::Stack;
using rtcpeer::sim::Message;
using rtcpeer::sim::Pair;
using rtcpeer::sim::pattern;
using rtcpeer::sim::Peer;
using SendResult = rtcpeer::sctp::Association::SendResult;

namespace {

SendResult send(Peer& peer, std::uint16_t stream, const std::string& data) {
    return peer.association->send(stream, 51, reinterpret_cast<const std::uint8_t*>(data.data()),
                                  data.size());
}

}  // namespace

TEST_CASE("sim: both ends come up from simultaneous INITs", "[sctp][sim]") {
    Pair pair;
    pair.connect();
    REQUIRE_FALSE(pair.a().up);
    REQUIRE(pair.run_until([&] { return pair.a().up && pair.b().up; }, 5000));
    // No loss and no delay: up within a few steps, not after an INIT time-out.
    CHECK(pair.scheduler().now_ms() < 1000);
    CHECK_FALSE(pair.a().ended);
    CHECK_FALSE(pair.b().ended);
}

TEST_CASE("sim: ordered messages arrive in order and intact", "[sctp][sim]") {
    Pair pair;
    pair.connect_and_wait();
    const std::vector<std::size_t> sizes = {1,     100,   1000,  1187,   1188,   1200,  5000,
                                            65535, 65536, 65537, 100000, 262143, 262144};
    for (std::size_t i = 0; i < sizes.size(); ++i)
        REQUIRE(send(pair.a(), 1, pattern(i, sizes[i])) == SendResult::kSent);
    REQUIRE(pair.run_until([&] { return pair.b().messages.size() >= sizes.size(); }, 5000));
    REQUIRE(pair.b().messages.size() == sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        INFO("message " << i << " of " << sizes[i] << " bytes");
        CHECK(pair.b().messages[i].stream == 1);
        CHECK(pair.b().messages[i].ppid == 51);
        CHECK(pair.b().messages[i].data == pattern(i, sizes[i]));
    }
    REQUIRE(pair.run_until([&] { return pair.a().association->all_acknowledged(); }, 1000));
}

TEST_CASE("sim: a lost DATA packet is retransmitted after the RTO", "[sctp][sim]") {
    Pair pair;
    pair.connect_and_wait();
    // The counters are usrsctp's, for the whole process: compare differences.
    const auto before = Association::counters();
    pair.a_to_b().drop_next_data = 1;
    const std::string message = pattern(7, 1000);
    REQUIRE(send(pair.a(), 2, message) == SendResult::kSent);
    const std::int64_t sent_at = pair.scheduler().now_ms();
    REQUIRE(pair.a_to_b().dropped == 1);
    // Below the RTO floor (30 ms, sctp/stack.cpp) nothing comes.
    REQUIRE_FALSE(pair.run_until([&] { return !pair.b().messages.empty(); }, 20));
    REQUIRE(pair.run_until([&] { return !pair.b().messages.empty(); }, 5000));
    CHECK(pair.scheduler().now_ms() - sent_at >= 30);
    REQUIRE(pair.b().messages.size() == 1);
    CHECK(pair.b().messages[0].data == message);
    const auto after = Association::counters();
    CHECK(after.retransmitted_chunks - before.retransmitted_chunks >= 1);
    CHECK(after.retransmission_timeouts - before.retransmission_timeouts >= 1);
}

TEST_CASE("sim: after an outage data moves again within rto_max of the link's return",
          "[sctp][sim]") {
    // usrsctp's RTO doubles up to rto_max (3 s, sctp/stack.cpp) while
    // nothing gets through; the first retransmission after the link is back
    // must get through, not wait for a heartbeat to revive a failed path.
    for (const std::int64_t outage_ms : {1000, 2000, 3000, 6000}) {
        CAPTURE(outage_ms);
        Pair pair;
        pair.connect_and_wait();
        // A's packets are lost; B's SACKs and heartbeats still get through.
        pair.a_to_b().loss = 1.0;
        const std::string message = pattern(3, 100000);
        for (int i = 0; i < 5; ++i) REQUIRE(send(pair.a(), 1, message) == SendResult::kSent);
        REQUIRE_FALSE(pair.run_until([&] { return !pair.b().messages.empty(); }, outage_ms));
        pair.a_to_b().loss = 0;
        const std::int64_t back_at = pair.scheduler().now_ms();
        REQUIRE(pair.run_until([&] { return !pair.b().messages.empty(); }, 10000));
        CHECK(pair.scheduler().now_ms() - back_at <= 3000 + 100);
        CHECK(pair.b().messages[0].data == message);
        CHECK_FALSE(pair.a().ended);
        CHECK_FALSE(pair.b().ended);
    }
}

TEST_CASE("sim: messages survive random loss both ways", "[sctp][sim]") {
    Pair pair(42);
    pair.connect_and_wait();
    pair.a_to_b().loss = 0.1;
    constexpr std::size_t kCount = 200;
    for (std::size_t i = 0; i < kCount; ++i)
        REQUIRE(send(pair.a(), 0, pattern(i, 1000 + i * 37)) == SendResult::kSent);
    REQUIRE(pair.run_until([&] { return pair.b().messages.size() >= kCount; }, 60000));
    CHECK(pair.a_to_b().dropped > 0);
    for (std::size_t i = 0; i < kCount; ++i) {
        INFO("message " << i);
        REQUIRE(pair.b().messages[i].data == pattern(i, 1000 + i * 37));
    }
}

TEST_CASE("sim: a message with the I bit is acknowledged at once", "[sctp][sim]") {
    Pair pair;
    pair.connect_and_wait();
    const std::string message = "the end";
    const auto data = reinterpret_cast<const std::uint8_t*>(message.data());
    auto acknowledged_after_ms = [&](const rtcpeer::sctp::SendOptions& options) {
        REQUIRE(pair.a().association->send(1, 51, data, message.size(), options) ==
                SendResult::kSent);
        const std::int64_t sent_at = pair.scheduler().now_ms();
        REQUIRE(pair.run_until([&] { return pair.a().association->all_acknowledged(); }, 1000));
        return pair.scheduler().now_ms() - sent_at;
    };
    rtcpeer::sctp::SendOptions plain;
    rtcpeer::sctp::SendOptions sack_now;
    sack_now.sack_immediately = true;
    acknowledged_after_ms(plain);  // the association's first DATA is acknowledged at once
    // One packet alone waits for the receiver's delayed SACK (20 ms); with
    // the I bit (RFC 7053) the SACK comes within the step it was sent in.
    CHECK(acknowledged_after_ms(plain) >= 20);
    CHECK(acknowledged_after_ms(sack_now) <= rtcpeer::sim::kStepMs);
    CHECK(pair.b().messages.size() == 3);
}

TEST_CASE("sim: a stream of data is acknowledged every fourth packet, a trickle every second",
          "[sctp][sim]") {
    Pair pair;
    pair.connect_and_wait();
    // SACKs (b sends nothing else) per data packet, while `send_some` runs
    // once a step for `steps` steps and then until all is acknowledged.
    auto sacks_per_data_packet = [&](auto send_some, int steps) {
        const std::size_t data_before = pair.a_to_b().data_packets;
        const std::size_t sacks_before = pair.b_to_a().offered;
        for (int i = 0; i < steps; ++i) {
            send_some();
            pair.step();
        }
        REQUIRE(pair.run_until([&] { return pair.a().association->all_acknowledged(); }, 5000));
        return static_cast<double>(pair.b_to_a().offered - sacks_before) /
               static_cast<double>(pair.a_to_b().data_packets - data_before);
    };
    std::size_t next = 0;
    // Three packets every 10 ms: 300 a second.
    const double trickle = sacks_per_data_packet(
        [&] {
            for (int i = 0; i < 3; ++i)
                REQUIRE(send(pair.a(), 2, pattern(next++, 1000)) == SendResult::kSent);
        },
        100);
    // As much as the window takes: a step delivers hundreds of packets.
    const double stream = sacks_per_data_packet(
        [&] {
            while (send(pair.a(), 2, pattern(next, 16384)) == SendResult::kSent) ++next;
        },
        100);
    UNSCOPED_INFO("SACKs per data packet: trickle " << trickle << ", stream " << stream);
    CHECK(trickle >= 0.45);
    CHECK(stream <= 0.3);
    CHECK(pair.b().messages.size() == next);
}

TEST_CASE("sim: a stream reset reaches the other side", "[sctp][sim]") {
    Pair pair;
    pair.connect_and_wait();
    REQUIRE(send(pair.a(), 3, "last words") == SendResult::kSent);
    pair.a().association->reset_stream(3);
    REQUIRE(pair.run_until([&] { return !pair.b().resets.empty(); }, 5000));
    CHECK(pair.b().resets == std::vector<std::uint16_t>{3});
    REQUIRE(pair.b().messages.size() == 1);
    CHECK(pair.b().messages[0].data == "last words");
    CHECK(pair.a().resets.empty());
}

TEST_CASE("sim: a receiver that stops reading stops the sender", "[sctp][sim]") {
    Pair pair;
    pair.connect_and_wait();
    pair.b().association->set_receiving(false);
    constexpr std::size_t kSize = 65536;
    std::size_t next = 0;  // the index of the next message to send
    // Send while the link runs, until send has refused for a second of
    // simulated time: the receiver's window and then the send buffer are full.
    int refused_steps = 0;
    for (int i = 0; i < 5000 && refused_steps < 100; ++i) {
        const SendResult result = send(pair.a(), 4, pattern(next, kSize));
        REQUIRE(result != SendResult::kFailed);
        if (result == SendResult::kSent) {
            ++next;
            refused_steps = 0;
        } else {
            ++refused_steps;
        }
        pair.step();
    }
    REQUIRE(refused_steps >= 100);
    UNSCOPED_INFO("sent before the sender stopped: " << next << " messages of " << kSize);
    CHECK(pair.b().messages.empty());
    CHECK(pair.b().association->has_unread());
    // Both buffers are full: what was taken is at least the receive window
    // and at most both buffers.
    CHECK(next * kSize >= static_cast<std::size_t>(Stack::kReceiveBufferBytes) / 2);
    CHECK(next * kSize <=
          static_cast<std::size_t>(Stack::kReceiveBufferBytes + Stack::kSendBufferBytes));
    // More time delivers nothing. (The sender still probes the closed
    // window, one chunk per RTO, which usrsctp may take into its buffer.)
    for (int i = 0; i < 500; ++i) pair.step();
    CHECK(pair.b().messages.empty());

    // Resume: the sender sends the rest as room comes.
    const std::size_t total = next + 20;
    pair.a().on_writable = [&] {
        while (next < total && send(pair.a(), 4, pattern(next, kSize)) == SendResult::kSent) ++next;
    };
    pair.b().association->set_receiving(true);
    CHECK_FALSE(pair.b().messages.empty());  // what waited is read at once
    pair.a().on_writable();                  // sends what fits now; then on each "writable"
    REQUIRE(pair.run_until([&] { return pair.b().messages.size() >= total; }, 20000));
    REQUIRE(pair.b().messages.size() == total);
    for (std::size_t i = 0; i < total; ++i) {
        INFO("message " << i);
        REQUIRE(pair.b().messages[i].data == pattern(i, kSize));
    }
}

TEST_CASE("sim: each of many streams keeps its order", "[sctp][sim]") {
    Pair pair(7);
    pair.connect_and_wait();
    pair.a_to_b().loss = 0.05;
    pair.b_to_a().loss = 0.05;
    constexpr std::uint16_t kStreams = 50;
    constexpr std::size_t kPerStream = 8;
    // Stream after stream, so that a later message of a stream whose
    // earlier one was lost arrives first; and the first DATA packet is lost.
    pair.a_to_b().drop_next_data = 1;
    for (std::uint16_t stream = 0; stream < kStreams; ++stream) {
        for (std::size_t i = 0; i < kPerStream; ++i) {
            const std::string data = std::to_string(stream) + ":" + std::to_string(i) + ":" +
                                     pattern(stream * 100 + i, 300 + stream * 10);
            REQUIRE(send(pair.a(), stream, data) == SendResult::kSent);
        }
    }
    REQUIRE(pair.run_until(
        [&] { return pair.b().messages.size() >= std::size_t{kStreams} * kPerStream; }, 60000));
    CHECK(pair.a_to_b().dropped > 0);
    std::vector<std::size_t> next(kStreams, 0);
    for (const Message& message : pair.b().messages) {
        REQUIRE(message.stream < kStreams);
        const std::size_t i = next[message.stream]++;
        INFO("stream " << message.stream << " message " << i);
        CHECK(message.data == std::to_string(message.stream) + ":" + std::to_string(i) + ":" +
                                  pattern(message.stream * 100 + i, 300 + message.stream * 10));
    }
}

TEST_CASE("sim: an abort with a reason reaches the other side", "[sctp][sim]") {
    Pair pair;
    pair.connect_and_wait();
    pair.a().association->abort("the input failed");
    pair.step();
    CHECK(pair.b().ended);
    REQUIRE(pair.b().association->remote_abort_reason().has_value());
    CHECK(*pair.b().association->remote_abort_reason() == "the input failed");
}

TEST_CASE("ManualScheduler runs due callbacks in time order", "[scheduler]") {
    ManualScheduler scheduler(1000);
    std::vector<std::string> log;
    auto note = [&](const char* what) {
        return [&log, &scheduler, what] {
            log.push_back(std::string(what) + "@" + std::to_string(scheduler.now_ms()));
            return false;
        };
    };
    scheduler.schedule(std::chrono::milliseconds(30), note("c"));
    scheduler.schedule(std::chrono::milliseconds(10), note("a"));
    scheduler.schedule(std::chrono::milliseconds(10), note("b"));
    const auto cancelled = scheduler.schedule(std::chrono::milliseconds(20), note("x"));
    int repeats = 0;
    scheduler.schedule(std::chrono::milliseconds(25), [&] {
        log.push_back("r@" + std::to_string(scheduler.now_ms()));
        return ++repeats < 2;
    });
    scheduler.cancel(cancelled);
    scheduler.advance(9);
    CHECK(log.empty());
    scheduler.advance(100);
    CHECK(scheduler.now_ms() == 1109);
    CHECK(log == std::vector<std::string>{"a@1010", "b@1010", "r@1025", "c@1030", "r@1050"});
    CHECK(scheduler.pending() == 0);
}

TEST_CASE("loop::Timer on a ManualScheduler", "[scheduler]") {
    ManualScheduler scheduler;
    rtcpeer::loop::Timer once(scheduler);
    rtcpeer::loop::Timer repeating(scheduler);
    int fired = 0;
    int ticks = 0;
    once.start_once(std::chrono::milliseconds(50), [&] { ++fired; });
    repeating.start_repeating(std::chrono::milliseconds(10), [&] { return ++ticks < 3; });
    CHECK(once.active());
    scheduler.advance(49);
    CHECK(fired == 0);
    CHECK(ticks == 3);
    CHECK_FALSE(repeating.active());
    scheduler.advance(1);
    CHECK(fired == 1);
    CHECK_FALSE(once.active());
    // Restarting from its own callback keeps the timer running; reset stops it.
    once.start_once(std::chrono::milliseconds(5), [&] {
        ++fired;
        once.start_once(std::chrono::milliseconds(5), [&] { ++fired; });
    });
    scheduler.advance(5);
    CHECK(fired == 2);
    CHECK(once.active());
    once.reset();
    scheduler.advance(100);
    CHECK(fired == 2);
    CHECK(scheduler.pending() == 0);
}

TEST_CASE("loop::Timer on GLib's main loop", "[scheduler]") {
    rtcpeer::loop::Timer once;
    rtcpeer::loop::Timer repeating;
    rtcpeer::loop::Timer cancelled;
    int fired = 0;
    int ticks = 0;
    bool cancelled_ran = false;
    once.start_once(std::chrono::milliseconds(1), [&] { ++fired; });
    repeating.start_repeating(std::chrono::milliseconds(1), [&] { return ++ticks < 3; });
    cancelled.start_once(std::chrono::milliseconds(1), [&] { cancelled_ran = true; });
    cancelled.reset();
    const gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while ((fired < 1 || repeating.active()) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(nullptr, TRUE);
    CHECK(fired == 1);
    CHECK_FALSE(once.active());
    CHECK(ticks == 3);
    CHECK_FALSE(repeating.active());
    CHECK_FALSE(cancelled_ran);
}
