// DTLS-SRTP end to end in one process: two dtls::Transport objects finish a
// handshake over in-memory queues, each exports its SRTP keying material,
// and the srtp::Session each builds from it (split by its DTLS role) reads
// what the other protects, RTP and RTCP, both ways.
#include <gnutls/gnutls.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <deque>
#include <vector>

#include "dtls/certificate.hpp"
#include "dtls/transport.hpp"
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
    std::vector<Error> failures;
    dtls::Transport client;
    dtls::Transport server;

    static dtls::Transport::Callbacks callbacks(std::vector<Error>& failures) {
        dtls::Transport::Callbacks c;
        c.on_failure = [&failures](const Error& e) { failures.push_back(e); };
        return c;
    }

    Link()
        : client(
              client_certificate, dtls::Role::kClient, {server_certificate.fingerprint()},
              [this](const std::uint8_t* d, std::size_t n) {
                  to_server.emplace_back(d, d + n);
                  return static_cast<int>(n);
              },
              callbacks(failures)),
          server(
              server_certificate, dtls::Role::kServer, {client_certificate.fingerprint()},
              [this](const std::uint8_t* d, std::size_t n) {
                  to_client.emplace_back(d, d + n);
                  return static_cast<int>(n);
              },
              callbacks(failures)) {}

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

}  // namespace

TEST_CASE("dtls-srtp: both sides export the same keys, and SRTP crosses with them") {
    Link link;
    CHECK_FALSE(link.client.srtp_keying_material().has_value());  // no handshake yet
    link.server.start();
    link.client.start();
    link.pump();
    REQUIRE(link.failures.empty());
    REQUIRE(link.client.connected());
    REQUIRE(link.server.connected());

    const auto client_material = link.client.srtp_keying_material();
    const auto server_material = link.server.srtp_keying_material();
    REQUIRE(client_material);
    REQUIRE(server_material);
    // Our first profile: SRTP_AES128_CM_HMAC_SHA1_80, 2 * (16 + 14) bytes.
    CHECK(client_material->profile == 0x0001);
    CHECK(server_material->profile == 0x0001);
    CHECK(client_material->material.size() == 60);
    CHECK(client_material->material == server_material->material);

    const auto client_keys = srtp::keys_from_dtls(client_material->profile, srtp::DtlsRole::kClient,
                                                  client_material->material);
    const auto server_keys = srtp::keys_from_dtls(server_material->profile, srtp::DtlsRole::kServer,
                                                  server_material->material);
    REQUIRE(client_keys);
    REQUIRE(server_keys);
    CHECK(client_keys->profile == srtp::Profile::kAes128CmHmacSha1_80);
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

    CHECK_FALSE(srtp::keys_from_dtls(0x0005, srtp::DtlsRole::kClient, client_material->material));
    CHECK_FALSE(srtp::keys_from_dtls(0x0001, srtp::DtlsRole::kClient,
                                     std::span(client_material->material).first(56)));
}

TEST_CASE("dtls-srtp: Debian 12's GnuTLS cannot negotiate the AEAD (GCM) profiles") {
    // GnuTLS 3.7.9 names four profiles (AES128-CM with HMAC-SHA1 80 and 32,
    // and their NULL-cipher twins); SRTP_AEAD_AES_128_GCM came later. When
    // this fails, GnuTLS has learnt the name: offer it in dtls/transport.cpp.
    gnutls_srtp_profile_t profile{};
    CHECK(gnutls_srtp_get_profile_id("SRTP_AES128_CM_HMAC_SHA1_80", &profile) == 0);
    CHECK(gnutls_srtp_get_profile_id("SRTP_AEAD_AES_128_GCM", &profile) < 0);
    CHECK(gnutls_srtp_get_profile_id("SRTP_AEAD_AES_256_GCM", &profile) < 0);
}
