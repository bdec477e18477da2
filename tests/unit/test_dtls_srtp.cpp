// DTLS-SRTP end to end in one process: two dtls::Transport objects finish a
// handshake over in-memory queues, agree on a use_srtp profile, each
// exports its SRTP keying material, and the srtp::Session each builds from
// it (split by its DTLS role) reads what the other protects, RTP and RTCP,
// both ways. Then the use_srtp bytes themselves (dtls/use_srtp.hpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "base/scheduler.hpp"
#include "dtls/certificate.hpp"
#include "dtls/transport.hpp"
#include "dtls/use_srtp.hpp"
#include "rtp/rtcp.hpp"
#include "srtp/keying.hpp"
#include "srtp/session.hpp"

using namespace rtcpeer;

namespace {

using Datagram = std::vector<std::uint8_t>;

// A client and a server joined back to back. Datagrams queue and are handed
// over by pump(), never from inside the sender's GnuTLS call.
struct Link {
    dtls::Certificate client_certificate = dtls::Certificate::generate();
    dtls::Certificate server_certificate = dtls::Certificate::generate();
    std::deque<Datagram> to_client, to_server;
    std::function<void(Datagram&)> tamper_to_client;  // changes what the server sends
    std::vector<Error> failures;
    std::vector<std::string> received;  // application data, either side
    dtls::Transport client;
    dtls::Transport server;

    dtls::Transport::Callbacks callbacks() {
        dtls::Transport::Callbacks c;
        c.on_failure = [this](const Error& e) { failures.push_back(e); };
        c.on_data = [this](const std::uint8_t* d, std::size_t n) {
            received.emplace_back(d, d + n);
        };
        return c;
    }

    explicit Link(Scheduler& scheduler = glib_scheduler())
        : client(
              client_certificate, dtls::Role::kClient, {server_certificate.fingerprint()},
              [this](const std::uint8_t* d, std::size_t n) {
                  to_server.emplace_back(d, d + n);
                  return static_cast<int>(n);
              },
              callbacks(), scheduler),
          server(
              server_certificate, dtls::Role::kServer, {client_certificate.fingerprint()},
              [this](const std::uint8_t* d, std::size_t n) {
                  to_client.emplace_back(d, d + n);
                  if (tamper_to_client) tamper_to_client(to_client.back());
                  return static_cast<int>(n);
              },
              callbacks(), scheduler) {}

    void pump() {
        for (int round = 0; round < 100 && (!to_client.empty() || !to_server.empty()); ++round) {
            while (!to_server.empty()) {
                Datagram d = std::move(to_server.front());
                to_server.pop_front();
                server.on_datagram(d.data(), d.size());
            }
            while (!to_client.empty()) {
                Datagram d = std::move(to_client.front());
                to_client.pop_front();
                client.on_datagram(d.data(), d.size());
            }
        }
    }
};

Datagram rtp_packet(std::uint16_t seq, std::uint32_t ssrc) {
    Datagram p = {0x80,
                  96,
                  static_cast<std::uint8_t>(seq >> 8),
                  static_cast<std::uint8_t>(seq),
                  0,
                  0,
                  0x10,
                  0x00,
                  static_cast<std::uint8_t>(ssrc >> 24),
                  static_cast<std::uint8_t>(ssrc >> 16),
                  static_cast<std::uint8_t>(ssrc >> 8),
                  static_cast<std::uint8_t>(ssrc)};
    for (int i = 0; i < 200; ++i) p.push_back(static_cast<std::uint8_t>(i ^ seq));
    return p;
}

// Protects plain with from, unprotects the result with to; the status of
// the unprotect, and whether the bytes came back as they were.
srtp::Status carry(srtp::Session& from, srtp::Session& to, const Datagram& plain, bool rtcp) {
    Datagram wire(plain.size() + srtp::Session::kMaxOverhead);
    const auto sent = rtcp ? from.protect_rtcp(plain, wire) : from.protect_rtp(plain, wire);
    REQUIRE(sent.ok());
    wire.resize(sent.size);
    CHECK(wire != plain);
    Datagram out(wire.size());
    const auto got = rtcp ? to.unprotect_rtcp(wire, out) : to.unprotect_rtp(wire, out);
    if (got.ok()) {
        out.resize(got.size);
        CHECK(out == plain);
    }
    return got.status;
}

// A handshake with each side's profiles (empty: rtcpeer's default).
void handshake(Link& link, std::vector<std::uint16_t> client_profiles = {},
               std::vector<std::uint16_t> server_profiles = {}) {
    if (!client_profiles.empty()) link.client.set_srtp_profiles(client_profiles);
    if (!server_profiles.empty()) link.server.set_srtp_profiles(server_profiles);
    link.server.start();
    link.client.start();
    link.pump();
}

// Both sides' exports agree on the profile and the bytes; SRTP and SRTCP
// cross both ways with the keys split from them. The profile.
std::uint16_t check_keys_and_srtp(Link& link) {
    REQUIRE(link.failures.empty());
    REQUIRE(link.client.connected());
    REQUIRE(link.server.connected());
    const auto client_material = link.client.srtp_keying_material();
    const auto server_material = link.server.srtp_keying_material();
    REQUIRE(client_material);
    REQUIRE(server_material);
    CHECK(client_material->profile == server_material->profile);
    CHECK(client_material->material.size() ==
          dtls::use_srtp::keying_material_length(client_material->profile));
    CHECK(client_material->material == server_material->material);

    const auto client_keys = srtp::keys_from_dtls(client_material->profile, srtp::DtlsRole::kClient,
                                                  client_material->material);
    const auto server_keys = srtp::keys_from_dtls(server_material->profile, srtp::DtlsRole::kServer,
                                                  server_material->material);
    REQUIRE(client_keys);
    REQUIRE(server_keys);
    CHECK(static_cast<std::uint16_t>(client_keys->profile) == client_material->profile);
    CHECK(client_keys->keys.local == server_keys->keys.remote);
    CHECK(client_keys->keys.local != client_keys->keys.remote);

    srtp::init();
    srtp::Session client(client_keys->profile, client_keys->keys);
    srtp::Session server(server_keys->profile, server_keys->keys);
    for (std::uint16_t seq = 1; seq <= 50; ++seq) {
        CHECK(carry(client, server, rtp_packet(seq, 0x1234), false) == srtp::Status::kOk);
        CHECK(carry(server, client, rtp_packet(seq, 0x5678), false) == srtp::Status::kOk);
    }
    Datagram report;
    rtp::append_receiver_report(report, rtp::ReceiverReport{rtp::Ssrc(0x1234), {}});
    rtp::append_pli(report, rtp::Ssrc(0x1234), rtp::Ssrc(0x5678));
    CHECK(carry(client, server, report, true) == srtp::Status::kOk);
    CHECK(carry(server, client, report, true) == srtp::Status::kOk);

    // The split matters: a side that took the other role's half cannot read
    // what its peer sends.
    const auto wrong = srtp::keys_from_dtls(client_material->profile, srtp::DtlsRole::kClient,
                                            server_material->material);
    srtp::Session confused(wrong->profile, wrong->keys);
    CHECK(carry(client, confused, rtp_packet(100, 0x1234), false) == srtp::Status::kAuthFailure);
    return client_material->profile;
}

}  // namespace

TEST_CASE("dtls-srtp: two rtcpeer ends negotiate AEAD_AES_128_GCM and share its keys") {
    Link link;
    CHECK_FALSE(link.client.srtp_keying_material().has_value());  // no handshake yet
    handshake(link);
    CHECK(check_keys_and_srtp(link) == dtls::use_srtp::kAeadAes128Gcm);
    // 2 * (16-byte key + 12-byte salt), RFC 7714 §12.
    CHECK(link.client.srtp_keying_material()->material.size() == 56);
}

TEST_CASE("dtls-srtp: SHA1_80 when one side offers only that") {
    SECTION("the client") {
        Link link;
        handshake(link, {dtls::use_srtp::kAes128CmHmacSha1_80});
        CHECK(check_keys_and_srtp(link) == dtls::use_srtp::kAes128CmHmacSha1_80);
        CHECK(link.client.srtp_keying_material()->material.size() == 60);
    }
    SECTION("the server") {
        Link link;
        handshake(link, {}, {dtls::use_srtp::kAes128CmHmacSha1_80});
        CHECK(check_keys_and_srtp(link) == dtls::use_srtp::kAes128CmHmacSha1_80);
    }
}

TEST_CASE("dtls-srtp: the server's preference decides, not the order of the client's offer") {
    // GnuTLS on its own takes the client's first; rtcpeer's server picks.
    Link link;
    handshake(link, {dtls::use_srtp::kAes128CmHmacSha1_80, dtls::use_srtp::kAeadAes128Gcm});
    CHECK(check_keys_and_srtp(link) == dtls::use_srtp::kAeadAes128Gcm);
}

TEST_CASE("dtls: every record of a datagram that carries several is read") {
    Link link;
    handshake(link);
    REQUIRE(link.server.connected());
    // Three records sent one by one, then handed over as one datagram (a
    // peer may pack records so); and one alone, as rtcpeer sends them.
    for (const std::string text : {"first", "second", "third"})
        REQUIRE(link.client.send(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    REQUIRE(link.to_server.size() == 3);
    Datagram packed;
    for (const Datagram& d : link.to_server) packed.insert(packed.end(), d.begin(), d.end());
    link.to_server.clear();
    link.server.on_datagram(packed.data(), packed.size());
    CHECK(link.received == std::vector<std::string>{"first", "second", "third"});
    const std::string alone = "alone";
    REQUIRE(link.client.send(reinterpret_cast<const std::uint8_t*>(alone.data()), alone.size()));
    link.pump();
    CHECK(link.received.back() == "alone");
    CHECK(link.failures.empty());
}

TEST_CASE("dtls-srtp: no profile in common connects for data without SRTP keys") {
    Link link;
    handshake(link, {dtls::use_srtp::kAes128CmHmacSha1_32}, {dtls::use_srtp::kAes128CmHmacSha1_80});
    REQUIRE(link.failures.empty());
    CHECK(link.client.connected());
    CHECK(link.server.connected());
    CHECK_FALSE(link.client.srtp_keying_material());
    CHECK_FALSE(link.server.srtp_keying_material());
}

TEST_CASE(
    "dtls-srtp: a ServerHello naming a profile the client did not offer fails the handshake") {
    Link link;
    // The server answers SRTP_AEAD_AES_128_GCM; on the way the answer is
    // changed to SHA1_32, which this client left out. The first flight is
    // not yet protected, so only the Finished hashes would notice, later.
    bool changed = false;
    link.tamper_to_client = [&changed](Datagram& d) {
        const Datagram answer = {0x00, 0x0e, 0x00, 0x05, 0x00, 0x02, 0x00, 0x07, 0x00};
        auto at = std::search(d.begin(), d.end(), answer.begin(), answer.end());
        if (at == d.end()) return;
        at[7] = 0x02;
        changed = true;
    };
    handshake(link, {dtls::use_srtp::kAeadAes128Gcm, dtls::use_srtp::kAes128CmHmacSha1_80});
    REQUIRE(changed);
    CHECK_FALSE(link.client.connected());
    REQUIRE_FALSE(link.failures.empty());
    const Error& failure = link.failures.front();
    CHECK(failure.category() == ErrorCategory::kConnection);
    CHECK_THAT(failure.what(),
               Catch::Contains("SRTP_AES128_CM_HMAC_SHA1_32") && Catch::Contains("not offered"));
}

namespace {

namespace us = dtls::use_srtp;

// A DTLS 1.2 hello body with the given extensions block (type, data) pairs.
Datagram hello(us::Hello kind, const std::vector<std::pair<std::uint16_t, Datagram>>& extensions,
               bool with_block = true) {
    Datagram body = {0xfe, 0xfd};
    body.insert(body.end(), 32, 0xab);  // random
    body.push_back(0);                  // session_id
    if (kind == us::Hello::kClient) {
        body.push_back(0);                                              // cookie
        body.insert(body.end(), {0x00, 0x04, 0xc0, 0x2b, 0xc0, 0x2f});  // two suites
        body.insert(body.end(), {0x01, 0x00});                          // null compression
    } else {
        body.insert(body.end(), {0xc0, 0x2b, 0x00});
    }
    if (!with_block) return body;
    Datagram block;
    for (const auto& [type, data] : extensions) {
        block.insert(
            block.end(),
            {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type),
             static_cast<std::uint8_t>(data.size() >> 8), static_cast<std::uint8_t>(data.size())});
        block.insert(block.end(), data.begin(), data.end());
    }
    body.push_back(static_cast<std::uint8_t>(block.size() >> 8));
    body.push_back(static_cast<std::uint8_t>(block.size()));
    body.insert(body.end(), block.begin(), block.end());
    return body;
}

}  // namespace

TEST_CASE("use_srtp: UseSRTPData parses and builds") {
    const Datagram offer = {0x00, 0x06, 0x00, 0x07, 0x00, 0x01, 0x00, 0x02, 0x00};
    const auto parsed = us::parse(offer);
    REQUIRE(parsed);
    CHECK(parsed->profiles == std::vector<std::uint16_t>{0x0007, 0x0001, 0x0002});
    CHECK(parsed->mki.empty());
    CHECK(us::build(*parsed) == offer);

    const us::Extension with_mki{{0x0001}, {0xde, 0xad}};
    CHECK(us::build(with_mki) == Datagram{0x00, 0x02, 0x00, 0x01, 0x02, 0xde, 0xad});
    CHECK(us::parse(us::build(with_mki))->mki == with_mki.mki);

    CHECK_FALSE(us::parse({}));
    CHECK_FALSE(us::parse(Datagram{0x00, 0x00, 0x00}));                    // no profile
    CHECK_FALSE(us::parse(Datagram{0x00, 0x03, 0x00, 0x07, 0x01, 0x00}));  // odd list
    CHECK_FALSE(us::parse(Datagram{0x00, 0x02, 0x00, 0x07}));              // no MKI length
    CHECK_FALSE(us::parse(Datagram{0x00, 0x02, 0x00, 0x07, 0x02, 0xaa}));  // MKI past the end
    CHECK_FALSE(us::parse(Datagram{0x00, 0x02, 0x00, 0x07, 0x00, 0x00}));  // a byte left over
    CHECK_FALSE(us::parse(Datagram{0x00, 0x08, 0x00, 0x07, 0x00}));        // list past the end
}

TEST_CASE("use_srtp: the extension is found in a ClientHello and a ServerHello") {
    const Datagram data = {0x00, 0x02, 0x00, 0x07, 0x00};
    for (auto kind : {us::Hello::kClient, us::Hello::kServer}) {
        const auto body = hello(kind, {{0x0017, {}}, {14, data}, {0x000b, {0x01, 0x00}}});
        const auto found = us::find_extension(kind, body);
        CHECK(found.status == us::Found::kPresent);
        CHECK(Datagram(found.data.begin(), found.data.end()) == data);

        CHECK(us::find_extension(kind, hello(kind, {{0x0017, {}}})).status == us::Found::kAbsent);
        CHECK(us::find_extension(kind, hello(kind, {}, false)).status == us::Found::kAbsent);
        CHECK(us::find_extension(kind, hello(kind, {{14, data}, {14, data}})).status ==
              us::Found::kMalformed);
        auto cut = body;
        cut.pop_back();
        CHECK(us::find_extension(kind, cut).status == us::Found::kMalformed);
        auto longer = body;
        longer.push_back(0);
        CHECK(us::find_extension(kind, longer).status == us::Found::kMalformed);
        CHECK(us::find_extension(kind, Datagram(body.begin(), body.begin() + 20)).status ==
              us::Found::kMalformed);
    }
    // A ClientHello read as a ServerHello does not line up.
    CHECK(us::find_extension(us::Hello::kServer, hello(us::Hello::kClient, {{14, data}})).status !=
          us::Found::kPresent);
}

TEST_CASE("use_srtp: the server picks by its preference; the client checks the answer") {
    const std::vector<std::uint16_t> ours(std::begin(us::kPreference), std::end(us::kPreference));
    CHECK(us::choose(std::vector<std::uint16_t>{0x0001, 0x0007}, ours) == 0x0007);
    CHECK(us::choose(std::vector<std::uint16_t>{0x0005, 0x0001}, ours) == 0x0001);
    CHECK_FALSE(us::choose(std::vector<std::uint16_t>{0x0005, 0x0006}, ours));

    const std::vector<std::uint16_t> offered = {0x0007, 0x0001};
    CHECK(us::check_answer(Datagram{0x00, 0x02, 0x00, 0x07, 0x00}, offered).profile == 0x0007);
    const auto unoffered = us::check_answer(Datagram{0x00, 0x02, 0x00, 0x02, 0x00}, offered);
    CHECK_FALSE(unoffered.profile);
    CHECK_THAT(unoffered.error, Catch::Contains("SRTP_AES128_CM_HMAC_SHA1_32"));
    CHECK_FALSE(
        us::check_answer(Datagram{0x00, 0x04, 0x00, 0x07, 0x00, 0x01, 0x00}, offered).profile);
    CHECK_FALSE(us::check_answer(Datagram{0x00, 0x02, 0x00, 0x07, 0x01, 0x05}, offered).profile);
    const auto garbage = us::check_answer(Datagram{0x01}, offered);
    CHECK_THAT(garbage.error, Catch::Contains("malformed"));

    CHECK(us::keying_material_length(us::kAeadAes128Gcm) == 56);
    CHECK(us::keying_material_length(us::kAes128CmHmacSha1_80) == 60);
    CHECK(us::keying_material_length(0x0005) == 0);
    CHECK(us::profile_name(0x0005) == "0x0005");
}

namespace {

// A hello captured from a real handshake on loopback (tests/fuzz/corpus/use_srtp:
// the first byte says which hello, the body follows).
Datagram captured(const char* name) {
    std::ifstream in(std::string(RTCPEER_FIXTURES) + "/../fuzz/corpus/use_srtp/" + name,
                     std::ios::binary);
    Datagram bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 40);
    return Datagram(bytes.begin() + 1, bytes.end());
}

std::vector<std::uint16_t> offered_in(us::Hello kind, const Datagram& body) {
    const auto found = us::find_extension(kind, body);
    REQUIRE(found.status == us::Found::kPresent);
    const auto extension = us::parse(found.data);
    REQUIRE(extension);
    CHECK(extension->mki.empty());
    return extension->profiles;
}

}  // namespace

TEST_CASE("use_srtp: the hellos pion 3.1.56 and rtcpeer's GnuTLS send") {
    const std::vector<std::uint16_t> gcm_first = {us::kAeadAes128Gcm, us::kAes128CmHmacSha1_80};
    CHECK(offered_in(us::Hello::kClient, captured("client-hello-pion-112")) == gcm_first);
    CHECK(offered_in(us::Hello::kClient, captured("client-hello-gnutls-163")) ==
          std::vector<std::uint16_t>(std::begin(us::kPreference), std::end(us::kPreference)));
    CHECK(offered_in(us::Hello::kServer, captured("server-hello-pion-64")) ==
          std::vector<std::uint16_t>{us::kAeadAes128Gcm});
    CHECK(offered_in(us::Hello::kServer, captured("server-hello-gnutls-96")) ==
          std::vector<std::uint16_t>{us::kAeadAes128Gcm});
    CHECK(us::choose(gcm_first, us::kPreference) == us::kAeadAes128Gcm);
}

// GnuTLS's own retransmission (new records) waits on the real clock, 100 ms;
// the copies below go by the test's clock. True while the real clock can
// not yet have let GnuTLS retransmit.
bool before_gnutls_retransmits(std::chrono::steady_clock::time_point started) {
    if (std::chrono::steady_clock::now() - started < std::chrono::milliseconds(90)) return true;
    WARN("slow machine: GnuTLS's own retransmission may have come first");
    return false;
}

TEST_CASE("dtls: a flight lost on the way goes out again as the same datagrams, 10 ms later") {
    ManualScheduler scheduler;
    Link link(scheduler);
    auto& to_server = link.to_server;
    const auto started = std::chrono::steady_clock::now();
    link.server.start();
    link.client.start();
    REQUIRE(!to_server.empty());
    const std::deque<Datagram> lost = to_server;  // the ClientHello's flight, dropped
    to_server.clear();
    scheduler.advance(9);
    CHECK(to_server.empty());
    scheduler.advance(1);
    if (before_gnutls_retransmits(started)) {
        CHECK(to_server == lost);
    } else {
        CHECK(!to_server.empty());
    }
    // And the handshake completes from the copy.
    link.pump();
    CHECK(link.client.connected());
    CHECK(link.server.connected());
    CHECK(link.failures.empty());
    // Once, early: the next copy of a flight is the one after 1 s without a send.
    to_server.clear();
    link.to_client.clear();
    scheduler.advance(500);
    CHECK(to_server.empty());
}

TEST_CASE("dtls: a flight the remote is answering is not copied early") {
    ManualScheduler scheduler;
    Link link(scheduler);
    const auto started = std::chrono::steady_clock::now();
    link.server.start();
    link.client.start();
    // The ClientHello reaches the server; its answer reaches the client,
    // whose next flight (Certificate ... Finished) is lost.
    while (!link.to_server.empty()) {
        link.server.on_datagram(link.to_server.front().data(), link.to_server.front().size());
        link.to_server.pop_front();
    }
    const std::deque<Datagram> answer = link.to_client;
    REQUIRE(!answer.empty());
    while (!link.to_client.empty()) {
        link.client.on_datagram(link.to_client.front().data(), link.to_client.front().size());
        link.to_client.pop_front();
    }
    REQUIRE(!link.to_server.empty());
    const std::deque<Datagram> lost = link.to_server;
    link.to_server.clear();

    SECTION("nothing more from the server: the copy goes out") {
        scheduler.advance(10);
        if (before_gnutls_retransmits(started)) CHECK(link.to_server == lost);
    }
    SECTION("a datagram from the server after the flight went out: no copy") {
        // The server's answer again, as the network may duplicate it; the
        // client drops it as a replay, but it came after the flight.
        link.client.on_datagram(answer.front().data(), answer.front().size());
        link.to_server.clear();
        scheduler.advance(10);
        if (before_gnutls_retransmits(started)) CHECK(link.to_server.empty());
    }
    CHECK(link.failures.empty());
}

TEST_CASE("dtls: the server's last flight is copied unless the client's data comes first") {
    ManualScheduler scheduler;
    Link link(scheduler);
    link.server.start();
    link.client.start();
    link.pump();
    REQUIRE(link.client.connected());
    REQUIRE(link.server.connected());
    const std::string hello = "INIT";
    SECTION("no data from the client within 10 ms: the copy goes out, and the client drops it") {
        scheduler.advance(10);
        CHECK(!link.to_client.empty());
        link.pump();
        CHECK(link.client.connected());
    }
    SECTION("the client's data first: no copy") {
        REQUIRE(
            link.client.send(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()));
        link.pump();
        scheduler.advance(10);
        CHECK(link.to_client.empty());
    }
    CHECK(link.to_server.empty());
    // Data still flows both ways.
    REQUIRE(link.client.send(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()));
    REQUIRE(link.server.send(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()));
    link.pump();
    CHECK(std::count(link.received.begin(), link.received.end(), hello) >= 2);
    CHECK(link.failures.empty());
}
