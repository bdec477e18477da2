// The in-memory link and simulated time that the SCTP and data-channel
// simulation tests share: two real usrsctp associations in one process,
// joined by a datagram link that the test drives, on a ManualScheduler.
//
// usrsctp's timers move only when the scheduler's clock does
// (sctp/stack.hpp). usrsctp also reads the time of day, and not only for RTT
// samples: a T3-rtx expiry resends only chunks sent at least an RTO ago by
// that clock, a heartbeat is skipped if the path was used recently by it, and
// a PR-SCTP lifetime is measured by it. So while a pair exists, the test
// binary gives usrsctp a gettimeofday() that follows the pair's simulated
// clock (sim_time.hpp); the link has no delay, so the RTO stays at its floor.
//
// Packets are queued by the output callback and delivered from the test's
// own loop, never from inside usrsctp. usrsctp's AF_CONN address of an
// association is the object itself: a later test case may get an
// association at an address that a closed one had, so each pair uses ports
// of its own and no stale association can take its packets.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/loop.hpp"
#include "base/scheduler.hpp"
#include "sctp/association.hpp"
#include "sctp/sack_frequency.hpp"
#include "sctp/stack.hpp"
#include "sim_time.hpp"

namespace rtcpeer::sim {

using rtcpeer::ManualScheduler;
using rtcpeer::sctp::Association;
using rtcpeer::sctp::Config;
using rtcpeer::sctp::Stack;

inline constexpr std::int64_t kStepMs = 10;

inline bool carries_data(const std::vector<std::uint8_t>& packet) {
    return rtcpeer::sctp::SackFrequency::carries_data(packet.data(), packet.size());
}

// One direction of the link: packets wait here until the loop delivers them.
struct Direction {
    std::deque<std::vector<std::uint8_t>> queue;
    std::size_t offered = 0;       // packets handed to the link
    std::size_t data_packets = 0;  // of those, packets with DATA or I-DATA
    std::size_t dropped = 0;
    std::set<std::size_t> drop_index;  // drop the packets offered at these indexes
    int drop_next_data = 0;            // drop this many of the next DATA-carrying packets
    double loss = 0;                   // drop at random, with the pair's seeded RNG
};

struct Message {
    std::uint16_t stream;
    std::uint32_t ppid;
    std::string data;
};

// One end. Without hooks it records what its association reports; a test
// that puts something on top (a data-channel registry) sets the hooks, and
// then messages and resets go to them instead.
struct Peer {
    std::unique_ptr<Association> association;
    bool up = false;
    bool ended = false;
    std::vector<Message> messages;
    std::vector<std::uint16_t> resets;
    std::function<void()> on_writable;
    std::function<void(std::uint16_t, std::uint32_t, std::string_view)> on_message;
    std::function<void(std::uint16_t)> on_incoming_reset;
    std::function<void()> on_ended;
};

class Pair : public Driver {
  public:
    explicit Pair(std::uint32_t seed = 1) : Driver(kStepMs), rng_(seed) {
        static std::uint16_t next_port = 5000;
        const std::uint16_t port = next_port++;
        Config config;
        config.local_port = port;
        config.remote_port = port;
        a_.association = make(config, a_, a_to_b_);
        b_.association = make(config, b_, b_to_a_);
    }

    // Both ends send INIT, as the program does.
    void connect() {
        a_.association->connect();
        b_.association->connect();
    }

    // Hands every queued packet to its receiver, until the link is empty.
    void deliver() override {
        for (int round = 0; round < 1000000; ++round) {
            Direction* from = !a_to_b_.queue.empty()   ? &a_to_b_
                              : !b_to_a_.queue.empty() ? &b_to_a_
                                                       : nullptr;
            if (from == nullptr) return;
            Peer& to = from == &a_to_b_ ? b_ : a_;
            std::vector<std::uint8_t> packet = std::move(from->queue.front());
            from->queue.pop_front();
            to.association->on_packet(packet.data(), packet.size());
        }
        FAIL("the link never went quiet");
    }

    void connect_and_wait() {
        connect();
        REQUIRE(run_until([&] { return a_.up && b_.up; }, 5000));
    }

    Peer& a() { return a_; }
    Peer& b() { return b_; }
    Direction& a_to_b() { return a_to_b_; }
    Direction& b_to_a() { return b_to_a_; }

  private:
    std::unique_ptr<Association> make(const Config& config, Peer& peer, Direction& out) {
        Association::Callbacks callbacks;
        callbacks.on_up = [&peer] { peer.up = true; };
        callbacks.on_message = [&peer](std::uint16_t stream, std::uint32_t ppid,
                                       std::string_view data) {
            if (peer.on_message) return peer.on_message(stream, ppid, data);
            peer.messages.push_back({stream, ppid, std::string(data)});
        };
        callbacks.on_incoming_reset = [&peer](std::uint16_t stream) {
            if (peer.on_incoming_reset) return peer.on_incoming_reset(stream);
            peer.resets.push_back(stream);
        };
        callbacks.on_writable = [&peer] {
            if (peer.on_writable) peer.on_writable();
        };
        callbacks.on_ended = [&peer](const std::string&, bool) {
            peer.ended = true;
            if (peer.on_ended) peer.on_ended();
        };
        callbacks.on_protocol_error = [](const std::string& why) { FAIL(why); };
        auto send = [this, &out](const std::uint8_t* data, std::size_t size, int) {
            std::vector<std::uint8_t> packet(data, data + size);
            const std::size_t index = out.offered++;
            if (carries_data(packet)) ++out.data_packets;
            bool drop = out.drop_index.count(index) != 0;
            if (!drop && out.drop_next_data > 0 && carries_data(packet)) {
                --out.drop_next_data;
                drop = true;
            }
            if (!drop && out.loss > 0)
                drop = std::uniform_real_distribution<double>(0, 1)(rng_) < out.loss;
            if (drop) {
                ++out.dropped;
            } else {
                out.queue.push_back(std::move(packet));
            }
            return true;
        };
        return std::make_unique<Association>(stack_, config, send, callbacks);
    }

    // Declared in the order they must be built; associations go first.
    SimulatedTimeOfDay time_of_day_{scheduler_};
    Stack stack_{scheduler_};
    std::mt19937 rng_;
    Direction a_to_b_;
    Direction b_to_a_;
    Peer a_;
    Peer b_;
};

}  // namespace rtcpeer::sim
