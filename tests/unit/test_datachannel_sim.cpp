// The data-channel registry (datachannel/registry.hpp) on two real SCTP
// associations over the in-memory link of sctp_sim_link.hpp, in simulated
// time: one registry as the DTLS client (even stream ids), one as the
// server (odd). Every case runs on a clock of its own; none takes a socket.
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "datachannel/dcep.hpp"
#include "datachannel/options.hpp"
#include "datachannel/registry.hpp"
#include "sctp/stack.hpp"
#include "sctp_sim_link.hpp"

using rtcpeer::Error;
using rtcpeer::ErrorCategory;
using rtcpeer::datachannel::ChannelOptions;
using rtcpeer::datachannel::DataChannel;
using rtcpeer::datachannel::IncomingChannel;
using rtcpeer::datachannel::Registry;
using rtcpeer::datachannel::StreamId;
using rtcpeer::sim::Pair;
using rtcpeer::sim::pattern;
using rtcpeer::sim::Peer;

namespace {

struct Received {
    std::string data;
    bool binary;
};

// One end: its registry, and what its channels reported, by label.
struct Side {
    Side(Peer& peer, bool dtls_client) : peer(peer) {
        Registry::Callbacks callbacks;
        callbacks.accept = [this](const IncomingChannel& incoming) {
            asked.push_back(incoming);
            return policy(incoming);
        };
        callbacks.on_channel = [this](DataChannel& channel) {
            accepted.push_back(channel.label());
            channels[channel.label()] = &channel;
            channel.set_callbacks(record(channel.label()));
        };
        registry = std::make_unique<Registry>(*peer.association, dtls_client, callbacks);
        peer.on_message = [this](std::uint16_t stream, std::uint32_t ppid, std::string_view data) {
            registry->on_sctp_message(stream, ppid, data);
        };
        peer.on_incoming_reset = [this](std::uint16_t stream) {
            registry->on_incoming_reset(stream);
        };
        peer.on_writable = [this] { registry->on_writable(); };
        peer.on_ended = [this] { registry->on_association_ended(); };
    }

    DataChannel::Callbacks record(const std::string& label) {
        DataChannel::Callbacks callbacks;
        callbacks.on_open = [this, label] { ++opened[label]; };
        callbacks.on_message = [this, label](std::string_view data, bool binary) {
            received[label].push_back({std::string(data), binary});
        };
        callbacks.on_buffered_amount_low = [this, label] {
            low_at[label].push_back(channels.at(label)->buffered_amount());
        };
        callbacks.on_closed = [this, label] {
            ++closed[label];
            channels.erase(label);  // the reference is good until this returns
        };
        return callbacks;
    }

    DataChannel& open(const std::string& label, ChannelOptions options = {}) {
        DataChannel& channel = registry->open(label, std::move(options), record(label));
        channels[label] = &channel;
        return channel;
    }

    DataChannel& channel(const std::string& label) { return *channels.at(label); }

    Peer& peer;
    std::unique_ptr<Registry> registry;
    std::function<bool(const IncomingChannel&)> policy = [](const IncomingChannel&) {
        return true;
    };
    std::vector<IncomingChannel> asked;
    std::vector<std::string> accepted;
    std::map<std::string, DataChannel*> channels;  // until closed
    std::map<std::string, std::vector<Received>> received;
    std::map<std::string, int> opened;
    std::map<std::string, int> closed;
    std::map<std::string, std::vector<std::size_t>> low_at;
};

// Two associations, up, with a registry on each: a is the DTLS client.
struct Net {
    explicit Net(std::uint32_t seed = 1) : pair(seed) {
        pair.connect_and_wait();
        a = std::make_unique<Side>(pair.a(), true);
        b = std::make_unique<Side>(pair.b(), false);
    }
    bool run_until(const std::function<bool()>& done, std::int64_t limit_ms) {
        return pair.run_until(done, limit_ms);
    }
    std::int64_t now() { return pair.scheduler().now_ms(); }
    // A channel from a, acknowledged by b within a second.
    DataChannel& open_acknowledged(const std::string& label, ChannelOptions options = {}) {
        DataChannel& channel = a->open(label, std::move(options));
        REQUIRE(run_until([&] { return channel.acknowledged(); }, 1000));
        return channel;
    }

    Pair pair;
    std::unique_ptr<Side> a;
    std::unique_ptr<Side> b;
};

std::string numbered(std::size_t i, std::size_t size) {
    std::string data = std::to_string(i) + ":";
    return data + pattern(i, size > data.size() ? size - data.size() : 0);
}

std::size_t index_of(const std::string& message) { return std::stoul(message); }

// Sends messages 0 to count - 1, each numbered(i, size).
void send_numbered(DataChannel& channel, std::size_t count, std::size_t size, bool binary) {
    for (std::size_t i = 0; i < count; ++i) REQUIRE(channel.send(numbered(i, size), binary));
}

// What send_numbered sent, all of it in order, at the start of `got`.
void require_numbered(const std::vector<Received>& got, std::size_t count, std::size_t size) {
    for (std::size_t i = 0; i < count; ++i) REQUIRE(got[i].data == numbered(i, size));
}

}  // namespace

TEST_CASE("datachannel sim: DCEP opens both ways, acknowledged, messages both ways",
          "[datachannel][sim]") {
    Net net;
    ChannelOptions options;
    options.protocol = "chat";
    options.priority = 512;
    DataChannel& from_a = net.a->open("from-a", options);
    DataChannel& from_b = net.b->open("from-b");
    // Ours open at once, by parity; acknowledged only when the ACK is back.
    CHECK(from_a.stream() == StreamId(0));
    CHECK(from_b.stream() == StreamId(1));
    CHECK(net.a->opened["from-a"] == 1);
    CHECK(from_a.is_open());
    CHECK_FALSE(from_a.acknowledged());
    REQUIRE(from_a.send("hello from a", false));
    REQUIRE(net.run_until([&] { return from_a.acknowledged() && from_b.acknowledged(); }, 1000));

    REQUIRE(net.b->asked.size() == 1);
    CHECK(net.b->asked[0].label == "from-a");
    CHECK(net.b->asked[0].stream == StreamId(0));
    CHECK(net.b->asked[0].options.protocol == "chat");
    CHECK(net.b->asked[0].options.priority == 512);
    CHECK(net.b->asked[0].options.ordered);
    CHECK(net.b->asked[0].options.reliable());
    CHECK(net.b->accepted == std::vector<std::string>{"from-a"});
    CHECK(net.a->accepted == std::vector<std::string>{"from-b"});
    CHECK(net.b->opened["from-a"] == 1);
    CHECK(net.b->channel("from-a").protocol() == "chat");
    CHECK(net.b->channel("from-a").stream() == StreamId(0));

    DataChannel& b_side = net.b->channel("from-a");
    REQUIRE(b_side.send("hello back", true));
    REQUIRE(b_side.send("", true));
    REQUIRE(b_side.send("", false));
    REQUIRE(net.a->channel("from-b").send("on b's channel", false));
    REQUIRE(net.run_until(
        [&] {
            return net.a->received["from-a"].size() == 3 && net.b->received["from-b"].size() == 1;
        },
        1000));
    REQUIRE(net.b->received["from-a"].size() == 1);
    CHECK(net.b->received["from-a"][0].data == "hello from a");
    CHECK_FALSE(net.b->received["from-a"][0].binary);
    const auto& back = net.a->received["from-a"];
    CHECK(back[0].data == "hello back");
    CHECK(back[0].binary);
    // Empty messages: one zero byte on the wire, empty here, kind kept.
    CHECK(back[1].data.empty());
    CHECK(back[1].binary);
    CHECK(back[2].data.empty());
    CHECK_FALSE(back[2].binary);
    CHECK(net.b->received["from-b"][0].data == "on b's channel");
    CHECK(net.a->registry->size() == 2);
    CHECK(net.b->registry->size() == 2);
}

TEST_CASE("datachannel sim: 50 channels each way keep parity and their own bytes",
          "[datachannel][sim]") {
    Net net(3);
    net.pair.a_to_b().loss = 0.02;
    net.pair.b_to_a().loss = 0.02;
    constexpr int kChannels = 50;
    constexpr std::size_t kMessages = 6;
    std::set<std::uint16_t> a_ids, b_ids;
    for (int i = 0; i < kChannels; ++i) {
        a_ids.insert(net.a->open("a" + std::to_string(i)).stream().value());
        b_ids.insert(net.b->open("b" + std::to_string(i)).stream().value());
    }
    CHECK(a_ids.size() == kChannels);
    CHECK(b_ids.size() == kChannels);
    for (auto id : a_ids) CHECK(id % 2 == 0);
    for (auto id : b_ids) CHECK(id % 2 == 1);
    CHECK(*a_ids.rbegin() == 2 * (kChannels - 1));
    // Each channel's messages depend on its label: a mix-up would show.
    for (int i = 0; i < kChannels; ++i) {
        for (std::size_t m = 0; m < kMessages; ++m) {
            REQUIRE(net.a->channel("a" + std::to_string(i))
                        .send(numbered(i * 100 + m, 100 + i * 50), true));
            REQUIRE(net.b->channel("b" + std::to_string(i))
                        .send(numbered(i * 1000 + m, 80 + i * 30), true));
        }
    }
    auto all_in = [&] {
        for (int i = 0; i < kChannels; ++i) {
            if (net.b->received["a" + std::to_string(i)].size() < kMessages) return false;
            if (net.a->received["b" + std::to_string(i)].size() < kMessages) return false;
        }
        return true;
    };
    REQUIRE(net.run_until(all_in, 30000));
    for (int i = 0; i < kChannels; ++i) {
        INFO("channel " << i);
        const auto& at_b = net.b->received["a" + std::to_string(i)];
        const auto& at_a = net.a->received["b" + std::to_string(i)];
        REQUIRE(at_b.size() == kMessages);
        REQUIRE(at_a.size() == kMessages);
        for (std::size_t m = 0; m < kMessages; ++m) {
            CHECK(at_b[m].data == numbered(i * 100 + m, 100 + i * 50));
            CHECK(at_a[m].data == numbered(i * 1000 + m, 80 + i * 30));
        }
    }
    CHECK(net.a->registry->size() == 2 * kChannels);
    CHECK(net.b->registry->size() == 2 * kChannels);
}

// The DATA chunks of the packets waiting on a link: (unordered, PPID) each.
std::vector<std::pair<bool, std::uint32_t>> data_chunks(const rtcpeer::sim::Direction& link) {
    std::vector<std::pair<bool, std::uint32_t>> chunks;
    for (const auto& packet : link.queue) {
        std::size_t offset = 12;  // the common header
        while (offset + 16 <= packet.size()) {
            const std::size_t length =
                static_cast<std::size_t>(packet[offset + 2]) << 8 | packet[offset + 3];
            if (length < 4) break;
            if (packet[offset] == 0) {  // DATA: flags, then TSN, SID, SSN, PPID
                const std::uint32_t ppid = static_cast<std::uint32_t>(packet[offset + 12]) << 24 |
                                           packet[offset + 13] << 16 | packet[offset + 14] << 8 |
                                           packet[offset + 15];
                chunks.emplace_back((packet[offset + 1] & 0x04) != 0, ppid);
            }
            offset += (length + 3) & ~std::size_t{3};
        }
    }
    return chunks;
}

TEST_CASE("datachannel sim: an unordered channel sends ordered until the ACK",
          "[datachannel][sim]") {
    Net net;
    ChannelOptions options;
    options.ordered = false;
    DataChannel& channel = net.a->open("u", options);
    REQUIRE(channel.send("early", false));
    // Nothing delivered yet: the OPEN and the early message wait on the link.
    const auto before = data_chunks(net.pair.a_to_b());
    REQUIRE(before.size() == 2);
    CHECK(before[0] == std::make_pair(false, std::uint32_t{50}));
    CHECK(before[1] == std::make_pair(false, std::uint32_t{51}));
    REQUIRE(net.run_until([&] { return channel.acknowledged(); }, 1000));
    REQUIRE(channel.send("late", false));
    const auto after = data_chunks(net.pair.a_to_b());
    REQUIRE(after.size() == 1);
    CHECK(after[0] == std::make_pair(true, std::uint32_t{51}));
    REQUIRE(net.run_until([&] { return net.b->received["u"].size() == 2; }, 1000));
    CHECK(net.b->received["u"][0].data == "early");
    CHECK(net.b->received["u"][1].data == "late");
}

TEST_CASE("datachannel sim: an ordered channel under loss delivers in order",
          "[datachannel][sim]") {
    Net net(5);
    DataChannel& channel = net.open_acknowledged("ordered");
    net.pair.a_to_b().loss = 0.1;
    constexpr std::size_t kCount = 300;
    send_numbered(channel, kCount, 200, false);
    auto& got = net.b->received["ordered"];
    REQUIRE(net.run_until([&] { return got.size() >= kCount; }, 30000));
    CHECK(net.pair.a_to_b().dropped > 0);
    require_numbered(got, kCount, 200);
}

TEST_CASE("datachannel sim: an unordered reliable channel under loss delivers all, out of order",
          "[datachannel][sim]") {
    Net net(5);
    ChannelOptions options;
    options.ordered = false;
    DataChannel& channel = net.open_acknowledged("unordered", options);
    REQUIRE(net.b->asked.size() == 1);
    CHECK_FALSE(net.b->asked[0].options.ordered);
    net.pair.a_to_b().loss = 0.1;
    constexpr std::size_t kCount = 300;
    send_numbered(channel, kCount, 200, false);
    auto& got = net.b->received["unordered"];
    REQUIRE(net.run_until([&] { return got.size() >= kCount; }, 30000));
    CHECK(net.pair.a_to_b().dropped > 0);
    std::set<std::size_t> seen;
    std::size_t inversions = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const std::size_t index = index_of(got[i].data);
        REQUIRE(got[i].data == numbered(index, 200));
        seen.insert(index);
        if (i > 0 && index < index_of(got[i - 1].data)) ++inversions;
    }
    CHECK(seen.size() == kCount);
    CHECK(got.size() == kCount);
    // Lost messages came later than those sent after them: not held back.
    CHECK(inversions > 0);
    UNSCOPED_INFO("unordered: " << inversions << " inversions, " << net.pair.a_to_b().dropped
                                << " packets dropped");
}

TEST_CASE("datachannel sim: max-retransmits 0 under heavy loss abandons some and never stalls",
          "[datachannel][sim]") {
    Net net(9);
    ChannelOptions options;
    options.ordered = false;
    options.max_retransmits = 0;
    DataChannel& channel = net.open_acknowledged("lossy", options);
    REQUIRE(net.b->asked.size() == 1);
    CHECK(net.b->asked[0].options.max_retransmits == std::optional<std::uint32_t>(0));
    const auto abandoned_before = net.pair.a().association->abandoned();
    net.pair.a_to_b().loss = 0.3;
    constexpr std::size_t kCount = 200;
    const std::int64_t start = net.now();
    send_numbered(channel, kCount, 300, true);
    auto& got = net.b->received["lossy"];
    auto settled = [&] {
        return got.size() + (net.pair.a().association->abandoned() - abandoned_before) >= kCount;
    };
    REQUIRE(net.run_until(settled, 10000));
    const std::int64_t took = net.now() - start;
    const auto abandoned = net.pair.a().association->abandoned() - abandoned_before;
    UNSCOPED_INFO("max-retransmits 0 at 30% loss: " << got.size() << " delivered, " << abandoned
                                                    << " abandoned in " << took << " ms");
    CHECK(got.size() + abandoned == kCount);
    CHECK(abandoned > 0);
    CHECK(got.size() > kCount / 2);
    // Never retransmitted, so never waiting for a run of RTOs.
    CHECK(took < 2000);
    std::set<std::size_t> seen;
    for (const auto& message : got) {
        REQUIRE(message.data == numbered(index_of(message.data), 300));
        seen.insert(index_of(message.data));
    }
    CHECK(seen.size() == got.size());
    // The association goes on: a reliable channel after it still works.
    net.pair.a_to_b().loss = 0;
    DataChannel& after = net.a->open("after");
    REQUIRE(after.send("still here", false));
    REQUIRE(net.run_until([&] { return net.b->received["after"].size() == 1; }, 2000));
    CHECK(net.pair.a().association->abandoned() - abandoned_before == abandoned);
}

TEST_CASE("datachannel sim: messages given up are still counted after the association ends",
          "[datachannel][sim]") {
    Net net(9);
    ChannelOptions options;
    options.max_retransmits = 0;
    DataChannel& channel = net.open_acknowledged("lossy", options);
    net.pair.a_to_b().loss = 0.3;
    send_numbered(channel, 100, 300, true);
    // Not read while the association is up: the count must outlive it.
    REQUIRE(net.run_until([&] { return net.pair.a().association->all_acknowledged(); }, 10000));
    net.pair.a_to_b().loss = 0;
    net.pair.b().association->abort();
    REQUIRE(net.run_until([&] { return net.pair.a().ended; }, 1000));
    UNSCOPED_INFO(net.b->received["lossy"].size() << " of 100 delivered");
    CHECK(net.b->received["lossy"].size() < 100);
    CHECK(net.pair.a().association->abandoned() == 100 - net.b->received["lossy"].size());
}

TEST_CASE(
    "datachannel sim: a message sent reliably on a max-retransmits 0 channel is never given up",
    "[datachannel][sim]") {
    // The end-of-file marker goes this way (app/stream_pipe.cpp): every
    // tenth message here is sent reliably, and all of them arrive, while
    // the others are lost as the link drops them.
    Net net(11);
    ChannelOptions options;
    options.max_retransmits = 0;
    DataChannel& channel = net.open_acknowledged("lossy", options);
    net.pair.a_to_b().loss = 0.3;
    constexpr std::size_t kCount = 200;
    for (std::size_t i = 0; i < kCount; ++i)
        REQUIRE(channel.send(numbered(i, 300), true, i % 10 == 9));
    auto& got = net.b->received["lossy"];
    auto has = [&](std::size_t index) {
        for (const auto& message : got)
            if (index_of(message.data) == index) return true;
        return false;
    };
    auto all_reliable = [&] {
        for (std::size_t i = 9; i < kCount; i += 10)
            if (!has(i)) return false;
        return true;
    };
    REQUIRE(net.run_until(all_reliable, 20000));
    CHECK(got.size() < kCount);  // the others were given up as they were lost
    CHECK(net.pair.a().association->abandoned() > 0);
}

TEST_CASE("datachannel sim: a lifetime abandons what could not go in time", "[datachannel][sim]") {
    Net net(11);
    ChannelOptions options;
    options.max_packet_lifetime_ms = 100;
    DataChannel& channel = net.open_acknowledged("timed", options);
    CHECK(net.b->asked.at(0).options.max_packet_lifetime_ms == std::optional<std::uint32_t>(100));
    const auto abandoned_before = net.pair.a().association->abandoned();
    // The link goes dark for a second: what is sent meanwhile expires.
    net.pair.a_to_b().loss = 1.0;
    send_numbered(channel, 20, 100, false);
    for (int i = 0; i < 100; ++i) net.pair.step();
    net.pair.a_to_b().loss = 0;
    REQUIRE(channel.send("fresh", false));
    auto& got = net.b->received["timed"];
    REQUIRE(net.run_until([&] { return !got.empty(); }, 5000));
    for (int i = 0; i < 50; ++i) net.pair.step();
    const auto abandoned = net.pair.a().association->abandoned() - abandoned_before;
    CHECK(abandoned == 20);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == "fresh");
}

TEST_CASE("datachannel sim: large abandoned messages are counted once each", "[datachannel][sim]") {
    Net net(13);
    ChannelOptions options;
    options.max_packet_lifetime_ms = 100;
    DataChannel& channel = net.open_acknowledged("large", options);
    const auto abandoned_before = net.pair.a().association->abandoned();
    // usrsctp reports each abandoned message with its data, in reads of
    // 64 KiB. Bytes that would read as a SHUTDOWN notification at every even
    // offset: a piece taken for a notification of its own ends the association.
    std::string data;
    for (std::size_t i = 0; i < 100000; ++i) data += std::string("\x05\x00", 2);
    net.pair.a_to_b().loss = 1.0;
    constexpr std::size_t kCount = 5;
    for (std::size_t i = 0; i < kCount; ++i) REQUIRE(channel.send(data, true));
    for (int i = 0; i < 100; ++i) net.pair.step();
    net.pair.a_to_b().loss = 0;
    REQUIRE(channel.send("fresh", false));
    auto& got = net.b->received["large"];
    REQUIRE(net.run_until([&] { return !got.empty(); }, 5000));
    for (int i = 0; i < 20; ++i) net.pair.step();
    CHECK_FALSE(net.pair.a().ended);
    CHECK_FALSE(net.pair.b().ended);
    // usrsctp abandons what expired on the wire; one still whole in its
    // queue when the link came back may go late: each is counted once,
    // whatever its chunks, or delivered whole.
    const auto abandoned = net.pair.a().association->abandoned() - abandoned_before;
    CHECK(abandoned >= 1);
    REQUIRE(got.size() + abandoned == kCount + 1);
    for (std::size_t i = 0; i + 1 < got.size(); ++i) CHECK(got[i].data == data);
    CHECK(got.back().data == "fresh");
}

TEST_CASE("datachannel sim: negotiated channels open on both sides without DCEP",
          "[datachannel][sim]") {
    Net net;
    ChannelOptions options;
    options.negotiated = StreamId(7);
    options.ordered = false;
    DataChannel& on_a = net.a->open("neg", options);
    DataChannel& on_b = net.b->open("neg", options);
    CHECK(on_a.stream() == StreamId(7));
    CHECK(on_b.stream() == StreamId(7));
    CHECK(on_a.acknowledged());
    CHECK(net.a->opened["neg"] == 1);
    REQUIRE(on_a.send("over negotiated", false));
    REQUIRE(on_b.send("and back", true));
    REQUIRE(net.run_until(
        [&] { return net.b->received["neg"].size() == 1 && net.a->received["neg"].size() == 1; },
        1000));
    CHECK(net.b->received["neg"][0].data == "over negotiated");
    CHECK(net.a->received["neg"][0].data == "and back");
    // No DCEP: no OPEN reached either policy.
    CHECK(net.a->asked.empty());
    CHECK(net.b->asked.empty());
    // The id is taken; a DCEP channel of a's parity skips nothing it needs.
    try {
        net.a->open("again", options);
        FAIL("a second channel on a negotiated id");
    } catch (const Error& e) {
        CHECK(e.category() == ErrorCategory::kUsage);
    }
    CHECK(net.a->open("dcep").stream() == StreamId(0));
    // An id beyond the streams the association negotiated (1024): SCTP
    // refuses its messages, and the channel closes rather than stalls.
    ChannelOptions beyond;
    beyond.negotiated = StreamId(2000);
    DataChannel& far = net.a->open("far", beyond);
    CHECK(far.send("nowhere", false));
    CHECK(net.a->closed["far"] == 1);
    REQUIRE(net.a->channel("dcep").send("still fine", false));
    REQUIRE(net.run_until([&] { return net.b->received["dcep"].size() == 1; }, 1000));
    ChannelOptions both;
    both.max_retransmits = 1;
    both.max_packet_lifetime_ms = 1;
    CHECK_THROWS_AS(net.a->open("both", both), Error);
}

TEST_CASE("datachannel sim: a channel the policy refuses is closed on the opener's side",
          "[datachannel][sim]") {
    Net net;
    net.b->policy = [](const IncomingChannel& incoming) { return incoming.label != "nope"; };
    DataChannel& refused = net.a->open("nope");
    REQUIRE(refused.send("into the void", false));
    net.a->open("yes");
    REQUIRE(net.run_until([&] { return net.a->closed["nope"] == 1; }, 2000));
    for (int i = 0; i < 20; ++i) net.pair.step();
    CHECK(net.b->asked.size() == 2);
    CHECK(net.b->accepted == std::vector<std::string>{"yes"});
    CHECK(net.b->received["nope"].empty());
    CHECK(net.a->registry->size() == 1);
    CHECK(net.b->registry->size() == 1);
    CHECK(net.a->closed["yes"] == 0);
    // Both directions of stream 0 were reset: its id is free again.
    CHECK(net.a->open("reuse").stream() == StreamId(0));
    REQUIRE(net.run_until([&] { return net.b->opened["reuse"] == 1; }, 2000));
}

TEST_CASE("datachannel sim: close from either side closes both, after the queue went out",
          "[datachannel][sim]") {
    Net net;
    DataChannel& x = net.a->open("x");
    REQUIRE(net.run_until([&] { return net.b->opened["x"] == 1; }, 1000));
    // More than SCTP's send buffer: part of it still waits in the channel.
    constexpr std::size_t kCount = 60;
    send_numbered(x, kCount, 65536, true);
    CHECK(x.buffered_amount() > 0);
    x.close();
    CHECK_FALSE(x.send("too late", false));
    REQUIRE(
        net.run_until([&] { return net.a->closed["x"] == 1 && net.b->closed["x"] == 1; }, 5000));
    // What was queued before the close arrived, all of it, before the reset.
    REQUIRE(net.b->received["x"].size() == kCount);
    require_numbered(net.b->received["x"], kCount, 65536);

    // The side that accepted a channel closes it.
    net.b->open("y");
    REQUIRE(net.run_until([&] { return net.a->opened["y"] == 1; }, 1000));
    net.a->channel("y").close();
    REQUIRE(
        net.run_until([&] { return net.a->closed["y"] == 1 && net.b->closed["y"] == 1; }, 5000));
    for (int i = 0; i < 20; ++i) net.pair.step();
    CHECK(net.a->closed["x"] == 1);
    CHECK(net.b->closed["y"] == 1);
    CHECK(net.a->registry->size() == 0);
    CHECK(net.b->registry->size() == 0);
}

TEST_CASE("datachannel sim: the end of the association closes every channel",
          "[datachannel][sim]") {
    Net net;
    for (int i = 0; i < 3; ++i) net.a->open("c" + std::to_string(i));
    REQUIRE(net.run_until([&] { return net.b->accepted.size() == 3; }, 1000));
    net.pair.a().association->abort();
    net.a->registry->on_association_ended();
    net.pair.step();
    CHECK(net.pair.b().ended);
    for (int i = 0; i < 3; ++i) {
        CHECK(net.a->closed["c" + std::to_string(i)] == 1);
        CHECK(net.b->closed["c" + std::to_string(i)] == 1);
    }
    CHECK(net.b->registry->size() == 0);
    CHECK_THROWS_AS(net.b->open("late"), Error);
}

TEST_CASE("datachannel sim: buffered amount and the low-water callback under back-pressure",
          "[datachannel][sim]") {
    Net net;
    DataChannel& channel = net.open_acknowledged("bulk");
    net.pair.b().association->set_receiving(false);
    constexpr std::size_t kSize = 65536;
    constexpr std::size_t kCount = 100;  // 6.5 MB, beyond both SCTP buffers
    constexpr std::size_t kThreshold = 256 * 1024;
    channel.set_buffered_amount_low_threshold(kThreshold);
    send_numbered(channel, kCount, kSize, true);
    for (int i = 0; i < 300; ++i) net.pair.step();
    // SCTP took what its buffers hold; the rest waits in the channel.
    const std::size_t waiting = channel.buffered_amount();
    UNSCOPED_INFO("held in the channel while the receiver reads nothing: " << waiting);
    CHECK(waiting % kSize == 0);
    CHECK(waiting >= kCount * kSize - (rtcpeer::sctp::Stack::kSendBufferBytes +
                                       rtcpeer::sctp::Stack::kReceiveBufferBytes));
    CHECK(waiting < kCount * kSize);
    CHECK(net.a->registry->buffered_amount() == waiting);
    CHECK(net.a->low_at["bulk"].empty());
    CHECK(net.b->received["bulk"].empty());

    net.pair.b().association->set_receiving(true);
    REQUIRE(net.run_until([&] { return net.b->received["bulk"].size() == kCount; }, 60000));
    CHECK(channel.buffered_amount() == 0);
    // Once, on the way down through the threshold, at or below it.
    REQUIRE(net.a->low_at["bulk"].size() == 1);
    CHECK(net.a->low_at["bulk"][0] <= kThreshold);
    CHECK(net.a->low_at["bulk"][0] > kThreshold - kSize - 1);
    require_numbered(net.b->received["bulk"], kCount, kSize);
}

TEST_CASE("datachannel sim: a channel with 5 MB queued does not hold up another",
          "[datachannel][sim]") {
    Net net;
    DataChannel& big = net.a->open("big");
    DataChannel& small = net.a->open("small");
    REQUIRE(net.run_until([&] { return big.acknowledged() && small.acknowledged(); }, 1000));
    // The link has no bandwidth limit, so time says little: what counts is
    // how many of the big channel's messages arrive before the small one.
    std::size_t big_before_small = 0;
    net.b->channels.at("small")->set_callbacks({
        nullptr,
        [&](std::string_view data, bool) {
            big_before_small = net.b->received["big"].size();
            net.b->received["small"].push_back({std::string(data), false});
        },
        nullptr,
        nullptr,
        nullptr,
    });
    constexpr std::size_t kSize = 65536;
    constexpr std::size_t kCount = 80;  // 5.2 MB
    send_numbered(big, kCount, kSize, true);
    CHECK(big.buffered_amount() > 0);  // more than SCTP takes at once
    REQUIRE(small.send("ping", false));
    REQUIRE(net.run_until([&] { return net.b->received["big"].size() == kCount; }, 60000));
    REQUIRE(net.b->received["small"].size() == 1);
    UNSCOPED_INFO("big messages before the small one: " << big_before_small << " of " << kCount);
    // Round-robin in the registry, and usrsctp's own per-stream round-robin:
    // the small message waits for about one message of the big channel.
    CHECK(big_before_small <= 4);
    require_numbered(net.b->received["big"], kCount, kSize);
}

TEST_CASE("datachannel sim: a remote that breaks DCEP is a protocol error; strays are ignored",
          "[datachannel][sim]") {
    Net net;
    DataChannel& channel = net.a->open("one");
    REQUIRE(net.run_until([&] { return net.b->opened["one"] == 1; }, 1000));
    auto& b = *net.b->registry;
    try {
        b.on_sctp_message(3, 50, std::string_view("\x03\x00", 2));
        FAIL("a malformed DCEP message was accepted");
    } catch (const Error& e) {
        CHECK(e.category() == ErrorCategory::kProtocol);
        CHECK(std::string(e.what()) == "malformed DCEP message on stream 3");
    }
    rtcpeer::datachannel::Open open;
    open.label = "dup";
    const auto bytes = rtcpeer::datachannel::build_open(open);
    const std::string message(bytes.begin(), bytes.end());
    try {
        b.on_sctp_message(0, 50, message);
        FAIL("a second OPEN on an open stream was accepted");
    } catch (const Error& e) {
        CHECK(e.category() == ErrorCategory::kProtocol);
    }
    CHECK_THROWS_AS(b.on_sctp_message(0, 99, "what"), Error);
    // Data on a stream without a channel, and an ACK for nothing: ignored.
    b.on_sctp_message(40, 51, "stray");
    b.on_sctp_message(42, 50, std::string_view("\x02", 1));
    b.on_incoming_reset(44);
    CHECK(net.b->accepted == std::vector<std::string>{"one"});
    CHECK(channel.is_open());
    // An OPEN on a stream of b's own parity is still put to the policy.
    b.on_sctp_message(5, 50, message);
    CHECK(net.b->accepted.back() == "dup");
    CHECK(net.b->channel("dup").stream() == StreamId(5));
}

TEST_CASE("datachannel options map to DCEP channel types and back", "[datachannel]") {
    using rtcpeer::datachannel::ChannelType;
    using rtcpeer::datachannel::from_open;
    using rtcpeer::datachannel::to_open;
    ChannelOptions reliable;
    CHECK(to_open("l", reliable).channel_type == ChannelType::kReliable);
    ChannelOptions unordered;
    unordered.ordered = false;
    CHECK(to_open("l", unordered).channel_type == ChannelType::kReliableUnordered);
    ChannelOptions rexmit;
    rexmit.max_retransmits = 3;
    CHECK(to_open("l", rexmit).channel_type == ChannelType::kPartialReliableRexmit);
    CHECK(to_open("l", rexmit).reliability == 3);
    ChannelOptions timed;
    timed.ordered = false;
    timed.max_packet_lifetime_ms = 250;
    timed.protocol = "p";
    CHECK(to_open("l", timed).channel_type == ChannelType::kPartialReliableTimedUnordered);
    for (const auto& options : {reliable, unordered, rexmit, timed})
        CHECK(from_open(to_open("l", options)) == options);
    // Before the ACK an unordered channel still sends ordered.
    CHECK_FALSE(rtcpeer::datachannel::send_options(timed, false).unordered);
    CHECK(rtcpeer::datachannel::send_options(timed, true).unordered);
    CHECK(rtcpeer::datachannel::send_options(timed, true).value == 250);
}
