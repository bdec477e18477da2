// Two real peer::Connections in one process, in simulated time: real DTLS
// (GnuTLS), real SCTP (usrsctp) and the real data channel, over a fake ICE
// transport pair joined by in-memory queues on a ManualScheduler. Offer,
// answer and candidates go from one Connection's callbacks to the other's
// calls, as signaling would carry them.
//
// Simulated time reaches every clock the layers read. The Connection, DTLS's
// retransmission timer and the sctp::Stack wait on the scheduler; the time
// of day that usrsctp and GnuTLS read moves with it while a pair exists
// (sim_time.hpp).
//
// Each pair uses SCTP ports of its own: usrsctp's AF_CONN address of an
// association is the object itself, and a later pair may get an association
// at the address a closed one had (see test_sctp_sim.cpp).

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "app/options.hpp"
#include "base/scheduler.hpp"
#include "peer/connection.hpp"
#include "rtp/rtcp.hpp"
#include "rtp_test_packet.hpp"
#include "sctp/stack.hpp"
#include "sim_time.hpp"

using rtcpeer::Error;
using rtcpeer::ErrorCategory;
using rtcpeer::ManualScheduler;
using rtcpeer::peer::Connection;
using rtcpeer::peer::DescriptionType;
using rtcpeer::peer::State;
using rtcpeer::sim::Driver;
using rtcpeer::sim::pattern;
using rtcpeer::sim::SimulatedTimeOfDay;

namespace datachannel = rtcpeer::datachannel;
namespace ice = rtcpeer::ice;
namespace sdp = rtcpeer::sdp;

namespace {

constexpr std::int64_t kStepMs = 5;

// ---- The link and the fake ICE transport ----

struct Direction {
    std::deque<std::vector<std::uint8_t>> queue;
    std::size_t offered = 0;
    std::size_t dropped = 0;
    std::size_t drop_every = 0;  // drop every Nth datagram offered (0: none)
    bool cut = false;            // drop everything
};

class FakeTransport final : public ice::Transport {
  public:
    FakeTransport(ManualScheduler& scheduler, std::string name, Direction& out, Callbacks callbacks)
        : scheduler_(scheduler),
          name_(std::move(name)),
          out_(out),
          callbacks_(std::move(callbacks)) {}
    ~FakeTransport() override {
        for (auto id : timers_) scheduler_.cancel(id);
    }

    ice::Credentials local_credentials() const override {
        return {name_ + "uf", name_ + "passwordpasswordpassword"};
    }
    void gather() override {
        later(1, [this] {
            callbacks_.on_local_candidate(local_candidate());
            callbacks_.on_gathering_done();
        });
    }
    void set_remote_credentials(const ice::Credentials& credentials) override {
        remote_credentials_ = credentials;
        maybe_connect();
    }
    bool add_remote_candidate(const sdp::Candidate& candidate, std::string& why) override {
        ++remote_candidates_added;
        if (!candidate.is_udp()) {
            why = "not UDP";
            return false;
        }
        remote_ = candidate;
        maybe_connect();
        return true;
    }
    void remote_gathering_done() override { remote_gathering_done_ = true; }
    int send(const std::uint8_t* data, std::size_t size) override {
        if (!connected_) return -1;
        const std::size_t index = ++out_.offered;
        if (out_.cut || (out_.drop_every != 0 && index % out_.drop_every == 0)) {
            ++out_.dropped;
            return static_cast<int>(size);
        }
        out_.queue.emplace_back(data, data + size);
        return static_cast<int>(size);
    }
    std::vector<std::string> silent_relays() const override { return {}; }

    // What the link delivers.
    void receive(const std::vector<std::uint8_t>& datagram) {
        callbacks_.on_packet(datagram.data(), datagram.size());
    }

    sdp::Candidate local_candidate() const {
        return sdp::parse_candidate("candidate:1 1 udp 2130706431 192.0.2." +
                                    std::string(name_ == "a" ? "1" : "2") + " 50000 typ host");
    }

    bool never_connect = false;
    unsigned remote_candidates_added = 0;
    bool remote_gathering_done_ = false;

  private:
    void later(std::int64_t ms, std::function<void()> f) {
        timers_.push_back(scheduler_.schedule(std::chrono::milliseconds(ms), [f] {
            f();
            return false;
        }));
    }
    // Connectivity checks "succeed" a few milliseconds after both the
    // remote's credentials and a candidate are known.
    void maybe_connect() {
        if (never_connect || connecting_ || !remote_credentials_ || !remote_) return;
        connecting_ = true;
        later(5, [this] {
            connected_ = true;
            callbacks_.on_connected(ice::SelectedPair{local_candidate(), *remote_, ""});
        });
    }

    ManualScheduler& scheduler_;
    std::string name_;
    Direction& out_;
    Callbacks callbacks_;
    std::vector<ManualScheduler::Id> timers_;
    std::optional<ice::Credentials> remote_credentials_;
    std::optional<sdp::Candidate> remote_;
    bool connecting_ = false;
    bool connected_ = false;
};

// ---- One side ----

struct Received {
    std::string data;
    bool binary;
    std::string label;  // of the channel it came on
};

struct Signal {
    enum class Kind { kDescription, kCandidate } kind;
    DescriptionType type;
    std::string text;
};

struct Peer {
    std::unique_ptr<Connection> connection;
    FakeTransport* transport = nullptr;
    std::vector<State> states;
    std::vector<Received> messages;
    std::vector<Signal> outbox;  // to the other side, in order
    std::size_t candidates_sent = 0;
    datachannel::DataChannel* channel = nullptr;  // the first channel, ours or the remote's
    std::vector<std::string> channels_taken;      // labels of the remote's channels taken
    unsigned channels_closed = 0;
    std::optional<std::pair<std::string, bool>> ended;  // why, graceful
    std::optional<Error> failure;
    std::int64_t failed_at_ms = -1;
    bool media_ready = false;
    std::vector<std::vector<std::uint8_t>> rtp;
    std::vector<std::vector<std::uint8_t>> rtcp;
    std::vector<std::string> media_warnings;

    bool open() const { return connection->state() == State::kOpen; }
};

struct PairOptions {
    bool trickle = true;
    std::chrono::milliseconds connect_timeout{30000};
    bool a_never_connects = false;
    std::optional<sdp::LocalMedia> a_media = std::nullopt;
    std::optional<sdp::LocalMedia> b_media = std::nullopt;
    unsigned accept = 1;  // how many of the remote's channels each side takes
};

class Pair : public Driver {
  public:
    explicit Pair(PairOptions options = {}) : Driver(kStepMs), options_(options) {
        static std::uint16_t next_port = 6000;
        const std::uint16_t port = next_port++;
        make(a_, "a", true, port, a_to_b_);
        make(b_, "b", false, port, b_to_a_);
        a_.transport->never_connect = options.a_never_connects;
    }

    void start() {
        a_.connection->start();
        b_.connection->start();
    }

    // Hands over what waits in the signaling outboxes and on the link, until
    // everything is quiet.
    void deliver() override {
        for (int round = 0; round < 1000000; ++round) {
            if (hold_signaling_) return deliver_link();
            if (!a_.outbox.empty()) {
                signal(a_, b_);
            } else if (!b_.outbox.empty()) {
                signal(b_, a_);
            } else if (!a_to_b_.queue.empty()) {
                carry(a_to_b_, b_);
            } else if (!b_to_a_.queue.empty()) {
                carry(b_to_a_, a_);
            } else {
                return;
            }
        }
        FAIL("the link never went quiet");
    }

    void open() {
        start();
        REQUIRE(run_until([&] { return a_.open() && b_.open(); }, 10000));
    }

    // Sends data as one message on the side's first channel (it queues).
    void send(Peer& from, const std::string& data, bool binary = true) {
        REQUIRE(from.channel != nullptr);
        REQUIRE(from.channel->send(data, binary));
    }

    Peer& a() { return a_; }
    Peer& b() { return b_; }
    Direction& a_to_b() { return a_to_b_; }
    Direction& b_to_a() { return b_to_a_; }
    bool hold_signaling_ = false;

  private:
    void deliver_link() {
        while (!a_to_b_.queue.empty() || !b_to_a_.queue.empty()) {
            if (!a_to_b_.queue.empty()) carry(a_to_b_, b_);
            if (!b_to_a_.queue.empty()) carry(b_to_a_, a_);
        }
    }

    void carry(Direction& from, Peer& to) {
        std::vector<std::uint8_t> datagram = std::move(from.queue.front());
        from.queue.pop_front();
        to.transport->receive(datagram);
    }

    static void signal(Peer& from, Peer& to) {
        Signal signal = std::move(from.outbox.front());
        from.outbox.erase(from.outbox.begin());
        if (signal.kind == Signal::Kind::kDescription) {
            to.connection->set_remote_description(signal.type, signal.text);
        } else {
            to.connection->add_remote_candidate(signal.text);
        }
    }

    void make(Peer& peer, const std::string& name, bool offerer, std::uint16_t port,
              Direction& out) {
        rtcpeer::peer::Config config;
        config.offerer = offerer;
        config.trickle = options_.trickle;
        config.sctp_port = port;
        config.connect_timeout = options_.connect_timeout;
        config.media = offerer ? options_.a_media : options_.b_media;
        Connection::Callbacks callbacks;
        callbacks.on_media_ready = [&peer] { peer.media_ready = true; };
        callbacks.on_rtp = [&peer](std::span<const std::uint8_t> packet) {
            peer.rtp.emplace_back(packet.begin(), packet.end());
        };
        callbacks.on_rtcp = [&peer](std::span<const std::uint8_t> packet) {
            peer.rtcp.emplace_back(packet.begin(), packet.end());
        };
        callbacks.on_media_warning = [&peer](const std::string& warning) {
            peer.media_warnings.push_back(warning);
        };
        callbacks.on_local_description = [&peer](DescriptionType type, const std::string& text) {
            peer.outbox.push_back({Signal::Kind::kDescription, type, text});
        };
        callbacks.on_local_candidate = [&peer](const std::string& candidate, const std::string&,
                                               int) {
            ++peer.candidates_sent;
            peer.outbox.push_back({Signal::Kind::kCandidate, DescriptionType::kOffer, candidate});
        };
        // The offerer opens "sim-a" once SCTP is up, as the run does.
        callbacks.on_state = [&peer, offerer, name](State state) {
            peer.states.push_back(state);
            if (state == State::kOpeningChannel && offerer)
                peer.channel = &peer.connection->open_channel("sim-" + name, {},
                                                              receiver(peer, "sim-" + name));
        };
        callbacks.accept_channel = [this, &peer](const datachannel::IncomingChannel&) {
            return peer.channels_taken.size() < options_.accept;
        };
        callbacks.on_channel = [&peer](datachannel::DataChannel& channel) {
            peer.channels_taken.push_back(channel.label());
            if (peer.channel == nullptr) peer.channel = &channel;
            channel.set_callbacks(receiver(peer, channel.label(), &channel));
        };
        callbacks.on_ended = [&peer](const std::string& why, bool graceful) {
            if (!peer.ended) peer.ended.emplace(why, graceful);
        };
        callbacks.on_failure = [this, &peer](const Error& failure) {
            if (peer.failure) return;
            peer.failure = failure;
            peer.failed_at_ms = scheduler_.now_ms();
        };
        peer.connection = std::make_unique<Connection>(
            config,
            [this, &peer, name, &out](ice::Transport::Callbacks transport_callbacks) {
                auto transport = std::make_unique<FakeTransport>(scheduler_, name, out,
                                                                 std::move(transport_callbacks));
                peer.transport = transport.get();
                return transport;
            },
            [this]() -> rtcpeer::sctp::Stack& { return stack_; }, std::move(callbacks), scheduler_);
    }

  public:
    // Callbacks that keep what a channel receives, labelled.
    // channel: the remote's channel, taken; null for the offerer's own.
    static datachannel::DataChannel::Callbacks receiver(
        Peer& peer, std::string label, datachannel::DataChannel* channel = nullptr) {
        datachannel::DataChannel::Callbacks callbacks;
        callbacks.on_message = [&peer, label](std::string_view data, bool binary) {
            peer.messages.push_back({std::string(data), binary, label});
        };
        callbacks.on_closed = [&peer, channel] {
            ++peer.channels_closed;
            if (peer.channel == channel || channel == nullptr) peer.channel = nullptr;
        };
        return callbacks;
    }

  private:
    // Declared in the order they must be built; the connections go first.
    PairOptions options_;
    SimulatedTimeOfDay time_of_day_{scheduler_};
    rtcpeer::sctp::Stack stack_{scheduler_};
    Direction a_to_b_;
    Direction b_to_a_;
    Peer a_;
    Peer b_;
};

}  // namespace

TEST_CASE("connection sim: offer, answer, and the channel opens", "[peer][sim]") {
    Pair pair;
    pair.start();
    CHECK(pair.a().connection->state() == State::kWaitingForRemote);
    CHECK(pair.a().connection->stage() == std::string("ice"));
    REQUIRE(pair.run_until([&] { return pair.a().open() && pair.b().open(); }, 10000));
    // No loss: no handshake flight is waited for.
    CHECK(pair.scheduler().now_ms() < 1000);
    const std::vector<State> path = {State::kWaitingForRemote, State::kConnectingIce,
                                     State::kHandshakingDtls,  State::kConnectingSctp,
                                     State::kOpeningChannel,   State::kOpen};
    CHECK(pair.a().states == path);
    CHECK(pair.b().states == path);
    CHECK(pair.a().connection->stage() == std::string("channel"));
    // The answerer took the offerer's channel.
    REQUIRE(pair.b().channel != nullptr);
    CHECK(pair.b().channel->label() == "sim-a");
    CHECK(pair.a().candidates_sent == 1);
    CHECK(pair.b().candidates_sent == 1);
    REQUIRE(pair.a().connection->selected_pair());
    CHECK(pair.a().connection->selected_pair()->remote.address == "192.0.2.2");
    CHECK(pair.a().connection->demux_counters().dtls > 0);
    CHECK_FALSE(pair.a().failure);
    CHECK_FALSE(pair.b().failure);
}

TEST_CASE("connection sim: without trickle the description carries the candidates", "[peer][sim]") {
    Pair pair(PairOptions{false});
    pair.open();
    CHECK(pair.a().candidates_sent == 0);
    CHECK(pair.b().candidates_sent == 0);
    CHECK(pair.b().transport->remote_candidates_added == 1);
    CHECK(pair.b().transport->remote_gathering_done_);  // a=end-of-candidates
}

TEST_CASE("connection sim: candidates that overtake the description are kept", "[peer][sim]") {
    Pair pair;
    pair.start();
    pair.scheduler().advance(10);  // the offerer gathered: offer and candidate are in its outbox
    REQUIRE(pair.a().outbox.size() == 2);
    std::swap(pair.a().outbox[0], pair.a().outbox[1]);
    pair.a().outbox.push_back({Signal::Kind::kCandidate, DescriptionType::kOffer, ""});
    std::swap(pair.a().outbox[1], pair.a().outbox[2]);  // candidate, end, offer
    REQUIRE(pair.run_until([&] { return pair.a().open() && pair.b().open(); }, 10000));
    CHECK(pair.b().transport->remote_candidates_added == 1);
    CHECK(pair.b().transport->remote_gathering_done_);
}

TEST_CASE("connection sim: messages both ways arrive intact and in order", "[peer][sim]") {
    Pair pair;
    pair.open();
    const std::vector<std::size_t> sizes = {0, 1, 1000, 1187, 1200, 5000, 65536, 100000, 262144};
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        pair.send(pair.a(), pattern(i, sizes[i]), i % 2 == 0);
        pair.send(pair.b(), pattern(100 + i, sizes[i]), i % 2 == 1);
    }
    REQUIRE(pair.run_until(
        [&] {
            return pair.a().messages.size() >= sizes.size() &&
                   pair.b().messages.size() >= sizes.size();
        },
        10000));
    REQUIRE(pair.b().messages.size() == sizes.size());
    REQUIRE(pair.a().messages.size() == sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        INFO("message " << i << " of " << sizes[i] << " bytes");
        CHECK(pair.b().messages[i].data == pattern(i, sizes[i]));
        CHECK(pair.b().messages[i].binary == (i % 2 == 0));
        CHECK(pair.a().messages[i].data == pattern(100 + i, sizes[i]));
        CHECK(pair.a().messages[i].binary == (i % 2 == 1));
    }
    REQUIRE(pair.run_until(
        [&] {
            return pair.a().connection->all_acknowledged() &&
                   pair.b().connection->all_acknowledged();
        },
        5000));
    CHECK(pair.a().connection->last_message_ms() > 0);
}

TEST_CASE("connection sim: every 7th datagram lost, from the handshake on", "[peer][sim]") {
    Pair pair;
    pair.a_to_b().drop_every = 7;
    pair.b_to_a().drop_every = 7;
    pair.start();
    // DTLS flights are lost too: GnuTLS resends them on the simulated clock.
    REQUIRE(pair.run_until([&] { return pair.a().open() && pair.b().open(); }, 30000));
    constexpr std::size_t kCount = 60;
    for (std::size_t i = 0; i < kCount; ++i) {
        pair.send(pair.a(), pattern(i, 3000 + i * 101));
        pair.send(pair.b(), pattern(500 + i, 700 + i * 13));
    }
    REQUIRE(pair.run_until(
        [&] { return pair.b().messages.size() >= kCount && pair.a().messages.size() >= kCount; },
        60000));
    CHECK(pair.a_to_b().dropped > 0);
    CHECK(pair.b_to_a().dropped > 0);
    for (std::size_t i = 0; i < kCount; ++i) {
        INFO("message " << i);
        REQUIRE(pair.b().messages[i].data == pattern(i, 3000 + i * 101));
        REQUIRE(pair.a().messages[i].data == pattern(500 + i, 700 + i * 13));
    }
    CHECK_FALSE(pair.a().failure);
    CHECK_FALSE(pair.b().failure);
}

TEST_CASE("connection sim: close reaches the other side in order", "[peer][sim]") {
    Pair pair;
    pair.open();
    pair.send(pair.a(), "last words");
    pair.a().connection->close();
    CHECK(pair.a().connection->state() == State::kClosed);
    REQUIRE(pair.run_until([&] { return pair.b().ended.has_value(); }, 5000));
    // The channel's stream reset may not get out before close_notify: the
    // remote learns of the end from DTLS, as an orderly one.
    CHECK(pair.b().ended->first == "the remote closed DTLS");
    CHECK(pair.b().ended->second);  // graceful
    REQUIRE(pair.b().messages.size() == 1);
    CHECK(pair.b().messages[0].data == "last words");
    CHECK_FALSE(pair.b().connection->remote_abort_reason());
    CHECK_FALSE(pair.b().failure);
}

TEST_CASE("connection sim: an abort carries its reason to the other side", "[peer][sim]") {
    Pair pair;
    pair.open();
    pair.a().connection->abort("interrupted by SIGINT");
    CHECK(pair.a().connection->state() == State::kFailed);
    REQUIRE(pair.run_until([&] { return pair.b().ended.has_value(); }, 5000));
    CHECK_FALSE(pair.b().ended->second);  // not graceful
    REQUIRE(pair.b().connection->remote_abort_reason());
    CHECK(*pair.b().connection->remote_abort_reason() == "interrupted by SIGINT");
}

TEST_CASE("connection sim: a silent remote fails the connection after 15 s", "[peer][sim]") {
    Pair pair;
    pair.open();
    pair.step(2000);  // heartbeats or not, the connection stays
    REQUIRE_FALSE(pair.b().failure);
    pair.a_to_b().cut = true;
    pair.b_to_a().cut = true;
    // Silence counts from the last datagram heard, before the cut.
    const std::int64_t heard_at = pair.b().connection->last_packet_ms();
    REQUIRE(heard_at <= pair.scheduler().now_ms());
    REQUIRE_FALSE(pair.run_until([&] { return pair.b().failure.has_value(); },
                                 heard_at + 14500 - pair.scheduler().now_ms()));
    REQUIRE(pair.run_until([&] { return pair.b().failure.has_value(); }, 3000));
    const std::int64_t silent = pair.b().failed_at_ms - heard_at;
    CHECK(silent >= 15000);
    CHECK(silent <= 16000);  // the check runs once a second
    CHECK(pair.b().failure->category() == ErrorCategory::kConnection);
    CHECK(pair.b().failure->line() ==
          "rtcpeer: connection: nothing heard from the remote for 15 s");
    CHECK(pair.b().connection->state() == State::kFailed);
}

TEST_CASE("connection sim: the connect time-out names the stage", "[peer][sim]") {
    SECTION("ice") {
        Pair pair(PairOptions{true, std::chrono::milliseconds(2000), true});
        pair.start();
        REQUIRE(pair.run_until([&] { return pair.a().failure.has_value(); }, 5000));
        CHECK(pair.a().failure->category() == ErrorCategory::kTimeout);
        CHECK(pair.a().failure->line() ==
              "rtcpeer: ice: not connected within 2 s (connect time-out)");
        CHECK(pair.a().failure->setting() == "connect time-out");
        // What the program prints: the app names its flag.
        CHECK(rtcpeer::name_option(*pair.a().failure).line() ==
              "rtcpeer: ice: not connected within 2 s (--connect-timeout)");
    }
    SECTION("dtls") {
        Pair pair(PairOptions{true, std::chrono::milliseconds(2000)});
        pair.a_to_b().cut = true;
        pair.b_to_a().cut = true;
        pair.start();
        REQUIRE(pair.run_until([&] { return pair.a().failure.has_value(); }, 5000));
        CHECK(pair.a().failure->line() == "rtcpeer: dtls: not up within 2 s (connect time-out)");
        CHECK(pair.a().connection->state() == State::kFailed);
        CHECK(pair.a().connection->stage() == std::string("dtls"));
    }
}

TEST_CASE("connection sim: RTP, STUN and stray datagrams are sorted out and dropped",
          "[peer][sim]") {
    Pair pair;
    pair.open();
    const auto before = pair.b().connection->demux_counters();
    pair.b().transport->receive({0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1});  // RTP
    pair.b().transport->receive({0x80, 0xc8, 0, 1, 0, 0, 0, 1});              // RTCP SR
    pair.b().transport->receive({0x00, 0x01, 0, 0});                          // STUN
    pair.b().transport->receive({200, 1, 2, 3});                              // none of them
    pair.b().transport->receive({});
    const auto& after = pair.b().connection->demux_counters();
    CHECK(after.rtp - before.rtp == 2);
    // Without a track nothing is keyed: both are counted and dropped unread.
    const auto& srtp = pair.b().connection->srtp_counters();
    CHECK(srtp.unkeyed == 2);
    CHECK(pair.b().rtp.empty());
    CHECK(after.stun - before.stun == 1);
    CHECK(after.dropped - before.dropped == 2);
    // DTLS and the channel are unharmed.
    pair.send(pair.a(), "still here");
    REQUIRE(pair.run_until([&] { return !pair.b().messages.empty(); }, 1000));
    CHECK(pair.b().messages.back().data == "still here");
    CHECK_FALSE(pair.b().failure);
}

TEST_CASE("connection sim: at most 256 remote candidates reach ICE", "[peer][sim]") {
    Pair pair;
    pair.start();
    pair.step(10);
    for (int i = 0; i < 300; ++i) {
        pair.a().outbox.push_back({Signal::Kind::kCandidate, DescriptionType::kOffer,
                                   "candidate:" + std::to_string(i) + " 1 udp 100 198.51.100." +
                                       std::to_string(i % 250) + " " + std::to_string(1000 + i) +
                                       " typ host"});
    }
    REQUIRE(pair.run_until([&] { return pair.a().open() && pair.b().open(); }, 10000));
    CHECK(pair.b().transport->remote_candidates_added == 256);
}

TEST_CASE("connection sim: an unexpected description is refused", "[peer][sim]") {
    Pair pair;
    pair.start();
    try {
        pair.a().connection->set_remote_description(DescriptionType::kOffer, "v=0\r\n");
        FAIL("no error");
    } catch (const Error& failure) {
        CHECK(failure.line() == "rtcpeer: signaling: unexpected offer (this side is the offerer)");
        CHECK(failure.category() == ErrorCategory::kProtocol);
    }
}

TEST_CASE("connection sim: many channels both ways on one connection", "[peer][sim]") {
    PairOptions options;
    options.accept = 100;
    Pair pair(options);
    pair.open();
    // 20 more from the offerer, 10 from the answerer, half of them unordered.
    std::vector<datachannel::DataChannel*> ours;
    for (int i = 0; i < 30; ++i) {
        Peer& from = i < 20 ? pair.a() : pair.b();
        datachannel::ChannelOptions channel_options;
        channel_options.ordered = i % 2 == 0;
        const std::string label = "c" + std::to_string(i);
        ours.push_back(
            &from.connection->open_channel(label, channel_options, Pair::receiver(from, label)));
    }
    for (int i = 0; i < 30; ++i) {
        for (int m = 0; m < 5; ++m)
            REQUIRE(ours[i]->send(pattern(i * 10 + m, 2000 + i * 97), true));
    }
    auto count = [](const Peer& peer, const std::string& label) {
        std::size_t n = 0;
        for (const Received& r : peer.messages) n += r.label == label;
        return n;
    };
    REQUIRE(pair.run_until(
        [&] {
            for (int i = 0; i < 30; ++i)
                if (count(i < 20 ? pair.b() : pair.a(), "c" + std::to_string(i)) < 5) return false;
            return true;
        },
        10000));
    for (int i = 0; i < 30; ++i) {
        const Peer& to = i < 20 ? pair.b() : pair.a();
        std::vector<std::string> got;
        for (const Received& r : to.messages)
            if (r.label == "c" + std::to_string(i)) got.push_back(r.data);
        REQUIRE(got.size() == 5);
        for (int m = 0; m < 5; ++m) CHECK(got[m] == pattern(i * 10 + m, 2000 + i * 97));
    }
    // Each side's ids have its DTLS role's parity, the other side's the other.
    const bool a_even = ours[0]->stream().value() % 2 == 0;
    for (int i = 0; i < 30; ++i)
        CHECK((ours[i]->stream().value() % 2 == 0) == (a_even == (i < 20)));
    CHECK(pair.b().channels_taken.size() == 21);  // sim-a and c0..c19
    CHECK(pair.a().channels_taken.size() == 10);
    CHECK_FALSE(pair.a().failure);
    CHECK_FALSE(pair.b().failure);
}

namespace {

sdp::LocalMedia media(bool send, bool receive, bool data = true) {
    sdp::LocalMedia m;
    m.video.send = m.audio.send = send;
    m.video.receive = m.audio.receive = receive;
    m.data_channel = data;
    return m;
}

// The offerer sends video only, with no data channel; the answerer
// receives video and wants audio too, which the offer lacks.
PairOptions video_only_offer() {
    sdp::LocalMedia offer;
    offer.video.send = true;
    offer.data_channel = false;
    return PairOptions{false, std::chrono::milliseconds(30000), false, offer, media(false, true)};
}

// An RTP packet: payload type, SSRC, sequence number and a payload that
// depends on them.
std::vector<std::uint8_t> rtp_packet(std::uint8_t payload_type, std::uint32_t ssrc,
                                     std::uint16_t sequence, std::size_t size) {
    std::vector<std::uint8_t> p = rtcpeer::testing::rtp_header(
        payload_type, sequence, static_cast<std::uint32_t>(sequence << 4) & 0xffff, ssrc);
    const std::string body = pattern(sequence ^ ssrc, size);
    p.insert(p.end(), body.begin(), body.end());
    return p;
}

const sdp::NegotiatedTrack* track(const Connection& connection, sdp::MediaKind kind) {
    for (const auto& t : connection.tracks())
        if (t.kind == kind) return &t;
    return nullptr;
}

}  // namespace

TEST_CASE("connection sim: audio and video through SRTP both ways, the channel alongside",
          "[peer][sim][media]") {
    Pair pair(PairOptions{true, std::chrono::milliseconds(30000), false, media(true, true),
                          media(true, true)});
    pair.open();
    REQUIRE(pair.a().media_ready);
    REQUIRE(pair.b().media_ready);
    for (Peer* peer : {&pair.a(), &pair.b()}) {
        REQUIRE(peer->connection->tracks().size() == 2);
        const auto* video = track(*peer->connection, sdp::MediaKind::kVideo);
        const auto* audio = track(*peer->connection, sdp::MediaKind::kAudio);
        REQUIRE(video);
        REQUIRE(audio);
        CHECK(video->direction == sdp::Direction::kSendrecv);
        CHECK(video->codec.name == "VP8");
        CHECK(audio->codec.name == "opus");
        CHECK(video->nack);
        CHECK(video->pli);
        CHECK(video->local_ssrc != 0);
        CHECK(peer->connection->data_channel_negotiated());
        CHECK(peer->media_warnings.empty());
    }
    // The remote's SSRCs are the ones the other side sends with.
    const auto* a_video = track(*pair.a().connection, sdp::MediaKind::kVideo);
    const auto* b_video = track(*pair.b().connection, sdp::MediaKind::kVideo);
    REQUIRE(b_video->remote_ssrcs.size() == 1);
    CHECK(b_video->remote_ssrcs[0] == a_video->local_ssrc);

    std::vector<std::vector<std::uint8_t>> sent_ab, sent_ba;
    for (std::uint16_t i = 0; i < 200; ++i) {
        const std::size_t size = 1 + (i * 37u) % 1150;
        sent_ab.push_back(rtp_packet(a_video->codec.payload_type, a_video->local_ssrc,
                                     static_cast<std::uint16_t>(65500 + i), size));
        sent_ba.push_back(rtp_packet(b_video->codec.payload_type, b_video->local_ssrc, i, size));
        REQUIRE(pair.a().connection->send_rtp(sent_ab.back()));
        REQUIRE(pair.b().connection->send_rtp(sent_ba.back()));
    }
    std::vector<std::uint8_t> pli;
    rtcpeer::rtp::append_pli(pli, rtcpeer::rtp::Ssrc(b_video->local_ssrc),
                             rtcpeer::rtp::Ssrc(a_video->local_ssrc));
    REQUIRE(pair.b().connection->send_rtcp(pli));
    pair.send(pair.a(), "data too");
    REQUIRE(
        pair.run_until([&] { return !pair.b().messages.empty() && !pair.a().rtcp.empty(); }, 1000));
    CHECK(pair.b().messages[0].data == "data too");
    REQUIRE(pair.b().rtp.size() == sent_ab.size());
    REQUIRE(pair.a().rtp.size() == sent_ba.size());
    for (std::size_t i = 0; i < sent_ab.size(); ++i) {
        INFO("packet " << i);
        REQUIRE(pair.b().rtp[i] == sent_ab[i]);
        REQUIRE(pair.a().rtp[i] == sent_ba[i]);
    }
    REQUIRE(pair.a().rtcp.size() == 1);
    CHECK(pair.a().rtcp[0] == pli);
    // On the wire the packets were protected: the payload does not show.
    CHECK(pair.a().connection->srtp_counters().rtp_sent == 200);
    CHECK(pair.b().connection->srtp_counters().rtp_received == 200);
    CHECK(pair.b().connection->srtp_counters().auth_failures == 0);

    // A replayed, a corrupted and a short packet are counted and dropped.
    std::vector<std::uint8_t> captured;
    pair.a().transport->receive({});  // nothing happens
    pair.hold_signaling_ = true;
    REQUIRE(pair.a().connection->send_rtp(sent_ab[0]) == true);  // same index: a replay
    REQUIRE(pair.a_to_b().queue.size() == 1);
    captured = pair.a_to_b().queue.front();
    pair.a_to_b().queue.clear();
    pair.b().transport->receive(captured);
    pair.b().transport->receive(captured);
    auto corrupted = rtp_packet(96, 1, 7, 100);
    pair.b().transport->receive(corrupted);
    pair.b().transport->receive({0x80, 0x60, 0, 1});
    const auto& counters = pair.b().connection->srtp_counters();
    CHECK(counters.rtp_received == 200);
    CHECK(counters.replays == 2);
    CHECK(counters.auth_failures + counters.malformed == 2);
    CHECK_FALSE(pair.a().failure);
    CHECK_FALSE(pair.b().failure);
}

TEST_CASE("connection sim: an unordered channel under loss delivers every message", "[peer][sim]") {
    PairOptions options;
    options.accept = 2;
    Pair pair(options);
    pair.open();
    datachannel::ChannelOptions unordered;
    unordered.ordered = false;
    datachannel::DataChannel& loose =
        pair.a().connection->open_channel("loose", unordered, Pair::receiver(pair.a(), "loose"));
    REQUIRE(pair.run_until([&] { return pair.b().channels_taken.size() == 2; }, 1000));
    pair.a_to_b().drop_every = 5;
    pair.b_to_a().drop_every = 5;
    constexpr std::size_t kCount = 300;
    for (std::size_t i = 0; i < kCount; ++i) REQUIRE(loose.send(pattern(i, 900), true));
    REQUIRE(pair.run_until([&] { return pair.b().messages.size() >= kCount; }, 30000));
    std::vector<std::string> expected;
    for (std::size_t i = 0; i < kCount; ++i) expected.push_back(pattern(i, 900));
    std::vector<std::string> got;
    for (const Received& r : pair.b().messages) {
        CHECK(r.label == "loose");
        got.push_back(r.data);
    }
    // Reliable: every message, once; unordered: a lost one does not hold
    // back those behind it, so some arrive before their predecessors.
    CHECK(got != expected);
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    CHECK(got == expected);
    CHECK_FALSE(pair.b().failure);
}

TEST_CASE("connection sim: a receiver that stops reading holds the sender back", "[peer][sim]") {
    Pair pair;
    pair.open();
    datachannel::DataChannel& channel = *pair.a().channel;
    channel.set_buffered_amount_low_threshold(256 * 1024);
    unsigned lows = 0;
    auto callbacks = Pair::receiver(pair.a(), "sim-a");
    callbacks.on_buffered_amount_low = [&lows] { ++lows; };
    channel.set_callbacks(callbacks);
    pair.b().connection->set_receiving(false);
    constexpr std::size_t kMessages = 128;  // 8 MiB, more than SCTP's buffers hold
    constexpr std::size_t kSize = 64 * 1024;
    for (std::size_t i = 0; i < kMessages; ++i) REQUIRE(channel.send(pattern(i, kSize), true));
    pair.step(3000);
    // Held: SCTP's window closed, the rest waits in the channel's queue.
    CHECK(pair.b().messages.empty());
    CHECK(channel.buffered_amount() > kSize * kMessages / 2);
    CHECK(lows == 0);
    CHECK_FALSE(pair.a().connection->all_acknowledged());
    pair.b().connection->set_receiving(true);
    REQUIRE(pair.run_until([&] { return pair.b().messages.size() >= kMessages; }, 60000));
    for (std::size_t i = 0; i < kMessages; ++i)
        REQUIRE(pair.b().messages[i].data == pattern(i, kSize));
    CHECK(channel.buffered_amount() == 0);
    CHECK(lows >= 1);
    REQUIRE(pair.run_until([&] { return pair.a().connection->all_acknowledged(); }, 5000));
    CHECK_FALSE(pair.a().failure);
    CHECK_FALSE(pair.b().failure);
}

TEST_CASE("connection sim: media only, and a one-way track", "[peer][sim][media]") {
    Pair pair(video_only_offer());
    pair.open();
    CHECK_FALSE(pair.a().connection->data_channel_negotiated());
    CHECK_FALSE(pair.b().connection->data_channel_negotiated());
    CHECK_FALSE(pair.a().connection->has_association());
    REQUIRE(pair.a().connection->tracks().size() == 1);
    REQUIRE(pair.b().connection->tracks().size() == 1);
    CHECK(pair.a().connection->tracks()[0].direction == sdp::Direction::kSendonly);
    CHECK(pair.b().connection->tracks()[0].direction == sdp::Direction::kRecvonly);
    CHECK_FALSE(pair.b().media_warnings.empty());  // no audio in the offer
    const auto& t = pair.a().connection->tracks()[0];
    const auto packet = rtp_packet(t.codec.payload_type, t.local_ssrc, 1, 500);
    REQUIRE(pair.a().connection->send_rtp(packet));
    REQUIRE(pair.run_until([&] { return !pair.b().rtp.empty(); }, 1000));
    CHECK(pair.b().rtp[0] == packet);
}

TEST_CASE("connection sim: media only, a quiet remote is not taken for gone until it was heard",
          "[peer][sim][media]") {
    // No data channel and no engine here: nothing but the DTLS handshake
    // crosses until a packet is sent. aiortc, receiving only, stays as
    // quiet until it has seen a stream.
    Pair pair(video_only_offer());
    pair.open();
    pair.step(40000);
    CHECK_FALSE(pair.a().failure);
    CHECK_FALSE(pair.b().failure);
    // One packet from the remote: from then on its silence counts.
    const auto& t = pair.a().connection->tracks()[0];
    REQUIRE(pair.a().connection->send_rtp(rtp_packet(t.codec.payload_type, t.local_ssrc, 1, 500)));
    REQUIRE(pair.run_until([&] { return !pair.b().rtp.empty(); }, 1000));
    REQUIRE(pair.run_until([&] { return pair.b().failure.has_value(); }, 17000));
    CHECK(pair.b().failure->line() ==
          "rtcpeer: connection: nothing heard from the remote for 15 s");
    CHECK_FALSE(pair.a().failure);  // b sent nothing: still quiet for a
}
