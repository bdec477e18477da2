#include <arpa/inet.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "ice/datagram_batch.hpp"
#include "ice/datagram_reader.hpp"

using namespace rtcpeer::ice;

namespace {

// The remote's side of a consent check, made with libnice's STUN library as
// libnice, aiortc or a browser would send it: USERNAME "ours:theirs",
// MESSAGE-INTEGRITY with our password, FINGERPRINT.
struct Remote {
    StunAgent agent;
    std::uint8_t request[512];
    std::size_t request_size = 0;
    std::string pwd;

    Remote() {
        stun_agent_init(&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                        static_cast<StunAgentUsageFlags>(STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
                                                         STUN_AGENT_USAGE_USE_FINGERPRINT));
    }

    void check(const std::string& username, const std::string& password, bool use_candidate,
               bool controlling) {
        pwd = password;
        StunMessage message{};
        request_size = stun_usage_ice_conncheck_create(
            &agent, &message, request, sizeof request,
            reinterpret_cast<const std::uint8_t*>(username.data()), username.size(),
            reinterpret_cast<const std::uint8_t*>(password.data()), password.size(), use_candidate,
            controlling, 0x6e0001ff, 0x1122334455667788ULL, nullptr,
            STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
        REQUIRE(request_size > 0);
    }

    // Whether `reply` is a success response to the check, signed with the
    // password, and the address it reports.
    bool accepts(const std::uint8_t* reply, std::size_t size, sockaddr_storage& mapped) {
        StunMessage response{};
        auto validater = [](StunAgent*, StunMessage*, std::uint8_t*, std::uint16_t,
                            std::uint8_t** password, std::size_t* length, void* data) {
            auto* text = static_cast<std::string*>(data);
            *password = reinterpret_cast<std::uint8_t*>(text->data());
            *length = text->size();
            return true;
        };
        if (stun_agent_validate(&agent, &response, reply, size, validater, &pwd) !=
            STUN_VALIDATION_SUCCESS)
            return false;
        if (stun_message_get_class(&response) != STUN_RESPONSE) return false;
        socklen_t length = sizeof mapped;
        return stun_usage_ice_conncheck_process(&response, &mapped, &length,
                                                STUN_USAGE_ICE_COMPATIBILITY_RFC5245) ==
               STUN_USAGE_ICE_RETURN_SUCCESS;
    }
};

// A numeric IPv4 or IPv6 address and a port.
sockaddr_storage address(const char* text, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    REQUIRE(getaddrinfo(text, std::to_string(port).c_str(), &hints, &found) == 0);
    sockaddr_storage storage{};
    std::memcpy(&storage, found->ai_addr, found->ai_addrlen);
    freeaddrinfo(found);
    return storage;
}

const StunIdentity kUs{"ourU", "our-password-of-22chars", "theirU", false};

StunOutcome answer(const Remote& remote, const sockaddr_storage& from, bool from_selected,
                   const StunIdentity& identity, std::vector<std::uint8_t>& reply) {
    reply.assign(512, 0);
    const socklen_t length =
        from.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    return answer_binding_request(remote.request, remote.request_size, from, length, from_selected,
                                  identity, reply.data(), reply.size());
}

}  // namespace

TEST_CASE("a consent check is answered: signed with our password, mapping the source") {
    for (const sockaddr_storage& from :
         {address("192.0.2.7", 40123), address("2001:db8::9", 5004)}) {
        Remote remote;
        remote.check("ourU:theirU", kUs.local_pwd, false, true);
        std::vector<std::uint8_t> reply;
        const StunOutcome outcome = answer(remote, from, true, kUs, reply);
        REQUIRE(outcome.verdict == StunVerdict::kAnswer);
        sockaddr_storage mapped{};
        REQUIRE(remote.accepts(reply.data(), outcome.reply_size, mapped));
        REQUIRE(mapped.ss_family == from.ss_family);
        if (from.ss_family == AF_INET) {
            const auto& a = reinterpret_cast<const sockaddr_in&>(mapped);
            const auto& b = reinterpret_cast<const sockaddr_in&>(from);
            CHECK(a.sin_port == b.sin_port);
            CHECK(a.sin_addr.s_addr == b.sin_addr.s_addr);
        } else {
            const auto& a = reinterpret_cast<const sockaddr_in6&>(mapped);
            const auto& b = reinterpret_cast<const sockaddr_in6&>(from);
            CHECK(a.sin6_port == b.sin6_port);
            CHECK(std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0);
        }
    }
}

TEST_CASE("the remote refuses an answer whose integrity does not hold") {
    // The test's own check: accepts() verifies MESSAGE-INTEGRITY with the
    // key of the transaction (the password the check was made with), so
    // the case above proves that the answer was signed with it.
    Remote remote;
    remote.check("ourU:theirU", kUs.local_pwd, false, true);
    std::vector<std::uint8_t> reply;
    const StunOutcome outcome = answer(remote, address("192.0.2.7", 1), true, kUs, reply);
    REQUIRE(outcome.verdict == StunVerdict::kAnswer);
    reply[outcome.reply_size - 12] ^= 1;  // the HMAC's last bytes
    sockaddr_storage mapped{};
    CHECK_FALSE(remote.accepts(reply.data(), outcome.reply_size, mapped));
}

TEST_CASE("a check that does not validate goes to libnice") {
    std::vector<std::uint8_t> reply;
    const sockaddr_storage from = address("192.0.2.7", 40123);
    SECTION("another password") {
        Remote remote;
        remote.check("ourU:theirU", "not-our-password-at-all", false, true);
        CHECK(answer(remote, from, true, kUs, reply).verdict == StunVerdict::kHandBack);
    }
    SECTION("another ufrag") {
        Remote remote;
        remote.check("elseU:theirU", kUs.local_pwd, false, true);
        CHECK(answer(remote, from, true, kUs, reply).verdict == StunVerdict::kHandBack);
    }
    SECTION("another remote ufrag") {
        Remote remote;
        remote.check("ourU:strangerU", kUs.local_pwd, false, true);
        CHECK(answer(remote, from, true, kUs, reply).verdict == StunVerdict::kHandBack);
    }
    SECTION("a byte changed on the way") {
        // FINGERPRINT then fails too: not taken for STUN, never answered.
        Remote remote;
        remote.check("ourU:theirU", kUs.local_pwd, false, true);
        remote.request[remote.request_size - 12] ^= 1;
        CHECK(answer(remote, from, true, kUs, reply).verdict != StunVerdict::kAnswer);
    }
}

TEST_CASE("a nomination is answered only for the selected pair") {
    std::vector<std::uint8_t> reply;
    Remote remote;
    remote.check("ourU:theirU", kUs.local_pwd, true, true);
    CHECK(answer(remote, address("192.0.2.7", 40123), true, kUs, reply).verdict ==
          StunVerdict::kAnswer);
    const StunOutcome other = answer(remote, address("192.0.2.8", 40123), false, kUs, reply);
    CHECK(other.verdict == StunVerdict::kHandBack);
    CHECK(std::string(other.why) == "a nomination of another pair");
}

TEST_CASE("a role conflict goes to libnice") {
    std::vector<std::uint8_t> reply;
    StunIdentity controlling = kUs;
    controlling.controlling = true;
    Remote remote;
    remote.check("ourU:theirU", kUs.local_pwd, false, true);
    CHECK(answer(remote, address("192.0.2.7", 1), true, controlling, reply).verdict ==
          StunVerdict::kHandBack);
    remote.check("ourU:theirU", kUs.local_pwd, false, false);
    CHECK(answer(remote, address("192.0.2.7", 1), true, kUs, reply).verdict ==
          StunVerdict::kHandBack);
    CHECK(answer(remote, address("192.0.2.7", 1), true, controlling, reply).verdict ==
          StunVerdict::kAnswer);
}

TEST_CASE("STUN responses, indications and other bytes are dropped") {
    std::vector<std::uint8_t> reply;
    Remote remote;
    remote.check("ourU:theirU", kUs.local_pwd, false, true);
    const sockaddr_storage from = address("192.0.2.7", 1);
    // Our own answer, coming back, is a response.
    const StunOutcome answered = answer(remote, from, true, kUs, reply);
    REQUIRE(answered.verdict == StunVerdict::kAnswer);
    std::vector<std::uint8_t> back(512);
    CHECK(answer_binding_request(reply.data(), answered.reply_size, from, sizeof(sockaddr_in), true,
                                 kUs, back.data(), back.size())
              .verdict == StunVerdict::kDrop);
    // A Binding indication (libnice's keepalive): header only.
    std::uint8_t indication[20] = {0x00, 0x11, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
    CHECK(answer_binding_request(indication, sizeof indication, from, sizeof(sockaddr_in), true,
                                 kUs, back.data(), back.size())
              .verdict == StunVerdict::kDrop);
    std::uint8_t garbage[7] = {0, 1, 2, 3, 4, 5, 6};
    CHECK(answer_binding_request(garbage, sizeof garbage, from, sizeof(sockaddr_in), true, kUs,
                                 back.data(), back.size())
              .verdict == StunVerdict::kDrop);
}

namespace {

// A UDP socket bound to a free loopback port.
struct LoopbackSocket {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_storage address = ::address("127.0.0.1", 0);
    socklen_t length = sizeof(sockaddr_in);

    LoopbackSocket() {
        REQUIRE(fd >= 0);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    }
    ~LoopbackSocket() { ::close(fd); }
    void send_to(const LoopbackSocket& other, const std::uint8_t* data, std::size_t size) const {
        REQUIRE(::sendto(fd, data, size, 0, reinterpret_cast<const sockaddr*>(&other.address),
                         other.length) == static_cast<ssize_t>(size));
    }
};

// Runs the default main context until `done` (called once between
// iterations) says so, or a second has passed.
template <typename Done>
bool run_until(Done done) {
    const gint64 deadline = g_get_monotonic_time() + 1000000;
    while (g_get_monotonic_time() < deadline) {
        if (done()) return true;
        g_main_context_iteration(nullptr, FALSE);
    }
    return false;
}

// Callbacks that keep each packet the reader passes up.
DatagramReader::Callbacks collect(std::vector<std::vector<std::uint8_t>>& packets) {
    DatagramReader::Callbacks callbacks;
    callbacks.on_packet = [&packets](const std::uint8_t* data, std::size_t size) {
        packets.emplace_back(data, data + size);
    };
    return callbacks;
}

}  // namespace

TEST_CASE("the reader passes DTLS up, answers a check and hands a bad one back") {
    LoopbackSocket ours;
    LoopbackSocket theirs;
    std::vector<std::vector<std::uint8_t>> packets;
    int answered = 0;
    std::string handed_back;
    DatagramReader::Callbacks callbacks = collect(packets);
    callbacks.on_answered = [&] { ++answered; };
    callbacks.on_hand_back = [&](const std::string& why) { handed_back = why; };
    DatagramReader reader(ours.fd, theirs.address, theirs.length, kUs, callbacks);

    // 40 DTLS-looking datagrams (more than one recvmmsg), then junk.
    for (int i = 0; i < 40; ++i) {
        const std::uint8_t record[] = {23, 0xfe, 0xfd, static_cast<std::uint8_t>(i)};
        theirs.send_to(ours, record, sizeof record);
    }
    const std::uint8_t junk[] = {99, 1, 2};
    theirs.send_to(ours, junk, sizeof junk);
    REQUIRE(run_until([&] { return packets.size() == 40 && reader.counts().dropped == 1; }));
    CHECK(packets[39][3] == 39);

    Remote remote;
    remote.check("ourU:theirU", kUs.local_pwd, false, true);
    theirs.send_to(ours, remote.request, remote.request_size);
    REQUIRE(run_until([&] { return answered == 1; }));
    std::uint8_t reply[512];
    ssize_t got = -1;
    REQUIRE(run_until([&] { return (got = ::recv(theirs.fd, reply, sizeof reply, 0)) > 0; }));
    sockaddr_storage mapped{};
    CHECK(remote.accepts(reply, static_cast<std::size_t>(got), mapped));

    // A nomination from another address: libnice must see it.
    LoopbackSocket stranger;
    remote.check("ourU:theirU", kUs.local_pwd, true, true);
    stranger.send_to(ours, remote.request, remote.request_size);
    REQUIRE(run_until([&] { return !handed_back.empty(); }));
    CHECK(handed_back == "a nomination of another pair");
    CHECK_FALSE(reader.reading());
    // From now on the socket is libnice's: the reader reads nothing more.
    const std::uint8_t record[] = {23, 0xfe, 0xfd, 0};
    theirs.send_to(ours, record, sizeof record);
    for (int i = 0; i < 20; ++i) {
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(1000);
    }
    CHECK(packets.size() == 40);
    std::uint8_t left[16];
    CHECK(::recv(ours.fd, left, sizeof left, 0) == sizeof record);
}

namespace {

// Queues 10 DTLS-looking datagrams of 100 bytes and one of 40, numbered in
// byte 3, and sends them: one UDP segmentation-offload write, which on
// loopback reaches a socket with UDP_GRO on as one datagram.
void send_numbered(DatagramBatch& batch) {
    for (int i = 0; i < 11; ++i) {
        std::vector<std::uint8_t> record(i < 10 ? 100 : 40, static_cast<std::uint8_t>(i));
        record[0] = 23;
        REQUIRE(batch.send(record.data(), record.size()) == static_cast<int>(record.size()));
    }
    batch.flush();
}

}  // namespace

TEST_CASE("a coalesced read is split into its datagrams, and coalescing ends with the reader") {
    LoopbackSocket ours;
    LoopbackSocket theirs;
    std::vector<std::vector<std::uint8_t>> packets;
    DatagramBatch batch(theirs.fd, ours.address, ours.length);
    {
        DatagramReader reader(ours.fd, theirs.address, theirs.length, kUs, collect(packets));
        send_numbered(batch);
        REQUIRE(run_until([&] { return packets.size() == 11; }));
        CHECK(reader.counts().coalesced == 1);
        CHECK(reader.counts().datagrams == 11);
    }
    for (int i = 0; i < 11; ++i) {
        CHECK(packets[i].size() == (i < 10 ? 100u : 40u));
        CHECK(packets[i][3] == i);
    }
    // The socket is libnice's again, which reads one datagram a call.
    send_numbered(batch);
    std::uint8_t one[4096];
    ssize_t got = -1;
    REQUIRE(run_until([&] { return (got = ::recv(ours.fd, one, sizeof one, 0)) > 0; }));
    CHECK(got == 100);
}

namespace {

// The process's write(2)-family system calls so far (/proc/self/io,
// syscw): GLib wakes its loop with a write to an eventfd, which counts;
// sendmsg() and recvmmsg() do not. -1 where the kernel keeps no count.
long long write_calls() {
    std::ifstream io("/proc/self/io");
    std::string key;
    long long value = 0;
    while (io >> key >> value) {
        if (key == "syscw:") return value;
    }
    return -1;
}

}  // namespace

TEST_CASE("batches leave and arrive without waking the loop through its eventfd") {
    // Each wake-up is a write, a read and one more loop iteration; GLib
    // 2.74 made one per batch armed with a ready time and two per dispatch
    // of a source that may not recurse (datagram_batch.cpp,
    // datagram_reader.cpp).
    if (write_calls() < 0) {
        WARN("no /proc/self/io here: the wake-ups are not counted");
        return;
    }
    LoopbackSocket ours;
    LoopbackSocket theirs;
    std::vector<std::vector<std::uint8_t>> packets;
    DatagramReader reader(ours.fd, theirs.address, theirs.length, kUs, collect(packets));
    DatagramBatch batch(theirs.fd, ours.address, ours.length);
    const long long before = write_calls();
    for (std::size_t round = 1; round <= 10; ++round) {
        for (int i = 0; i < 4; ++i) {
            const std::uint8_t record[] = {23, 0xfe, 0xfd, static_cast<std::uint8_t>(i)};
            batch.send(record, sizeof record);
        }
        CHECK(batch.pending());
        // No flush(): the batch leaves when the loop next runs.
        REQUIRE(run_until([&] { return packets.size() == 4 * round; }));
        CHECK_FALSE(batch.pending());
    }
    CHECK(write_calls() - before == 0);
}
