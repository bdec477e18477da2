#include <catch2/catch.hpp>
#include <cstdint>
#include <numeric>
#include <vector>

#include "rtp/packet.hpp"
#include "rtp/rtcp.hpp"
#include "srtp/keying.hpp"
#include "srtp/session.hpp"

using namespace rtcpeer;
using srtp::DtlsRole;
using srtp::Profile;
using srtp::Session;
using srtp::Status;

namespace {

std::vector<std::uint8_t> rtp_packet(std::uint16_t seq, std::size_t payload = 160) {
    std::vector<std::uint8_t> p = {0x80,
                                   111,
                                   static_cast<std::uint8_t>(seq >> 8),
                                   static_cast<std::uint8_t>(seq),
                                   0,
                                   0,
                                   0x12,
                                   0x34,
                                   0xDE,
                                   0xAD,
                                   0xBE,
                                   0xEF};
    for (std::size_t i = 0; i < payload; ++i) p.push_back(static_cast<std::uint8_t>(i * 7 + seq));
    return p;
}

std::vector<std::uint8_t> material(Profile profile) {
    std::vector<std::uint8_t> bytes(srtp::keying_material_length(profile));
    std::iota(bytes.begin(), bytes.end(), std::uint8_t{1});
    return bytes;
}

// Both ends of one DTLS-SRTP connection.
struct Pair {
    Session client;
    Session server;
    explicit Pair(Profile profile)
        : client(profile,
                 *srtp::split_keying_material(profile, DtlsRole::kClient, material(profile))),
          server(profile,
                 *srtp::split_keying_material(profile, DtlsRole::kServer, material(profile))) {}
};

std::vector<std::uint8_t> buffer(std::size_t size) {
    return std::vector<std::uint8_t>(size + Session::kMaxOverhead);
}

}  // namespace

TEST_CASE("keying material splits by DTLS role (RFC 5764 4.2)") {
    // 01..10 client key, 11..20 server key, 21..2e client salt, 2f..3c server salt.
    const auto bytes = material(Profile::kAes128CmHmacSha1_80);
    REQUIRE(bytes.size() == 60);
    std::vector<std::uint8_t> client_key_salt, server_key_salt;
    for (int i = 0x01; i <= 0x10; ++i) client_key_salt.push_back(static_cast<std::uint8_t>(i));
    for (int i = 0x21; i <= 0x2E; ++i) client_key_salt.push_back(static_cast<std::uint8_t>(i));
    for (int i = 0x11; i <= 0x20; ++i) server_key_salt.push_back(static_cast<std::uint8_t>(i));
    for (int i = 0x2F; i <= 0x3C; ++i) server_key_salt.push_back(static_cast<std::uint8_t>(i));

    const auto client =
        srtp::split_keying_material(Profile::kAes128CmHmacSha1_80, DtlsRole::kClient, bytes);
    REQUIRE(client);
    CHECK(client->local == client_key_salt);
    CHECK(client->remote == server_key_salt);
    const auto server =
        srtp::split_keying_material(Profile::kAes128CmHmacSha1_80, DtlsRole::kServer, bytes);
    REQUIRE(server);
    CHECK(server->local == server_key_salt);
    CHECK(server->remote == client_key_salt);

    // GCM: 16-byte keys, 12-byte salts, 56 bytes in all.
    const auto gcm = material(Profile::kAeadAes128Gcm);
    REQUIRE(gcm.size() == 56);
    const auto gcm_client =
        srtp::split_keying_material(Profile::kAeadAes128Gcm, DtlsRole::kClient, gcm);
    REQUIRE(gcm_client);
    REQUIRE(gcm_client->local.size() == 28);
    CHECK(gcm_client->local[15] == 0x10);  // end of the client key
    CHECK(gcm_client->local[16] == 0x21);  // client salt after both keys
    CHECK(gcm_client->local[27] == 0x2C);
    CHECK(gcm_client->remote[0] == 0x11);
    CHECK(gcm_client->remote[16] == 0x2D);
    CHECK(gcm_client->remote[27] == 0x38);

    CHECK(srtp::keying_material_length(Profile::kAeadAes256Gcm) == 88);
    CHECK_FALSE(srtp::split_keying_material(Profile::kAeadAes128Gcm, DtlsRole::kClient, bytes));
    CHECK(srtp::profile_from_id(7) == Profile::kAeadAes128Gcm);
    CHECK_FALSE(srtp::profile_from_id(3));
    CHECK(srtp::to_string(Profile::kAes128CmHmacSha1_80) == "SRTP_AES128_CM_HMAC_SHA1_80");
}

TEST_CASE("init is idempotent") {
    srtp::init();
    srtp::init();
    SUCCEED();
}

TEST_CASE("SRTP and SRTCP round-trip between mirrored sessions") {
    const Profile profile = GENERATE(Profile::kAes128CmHmacSha1_80, Profile::kAes128CmHmacSha1_32,
                                     Profile::kAeadAes128Gcm, Profile::kAeadAes256Gcm);
    INFO(srtp::to_string(profile));
    Pair pair(profile);

    for (std::uint16_t seq = 65530; seq != 10; ++seq) {
        const auto plain = rtp_packet(seq);
        auto protected_ = buffer(plain.size());
        const auto sent = pair.client.protect_rtp(plain, protected_);
        REQUIRE(sent.ok());
        CHECK(sent.size > plain.size());
        protected_.resize(sent.size);
        // The payload is encrypted, the header is not.
        CHECK(std::equal(plain.begin(), plain.begin() + 12, protected_.begin()));
        CHECK_FALSE(std::equal(plain.begin() + 12, plain.end(), protected_.begin() + 12));

        std::vector<std::uint8_t> out(protected_.size());
        const auto received = pair.server.unprotect_rtp(protected_, out);
        REQUIRE(received.ok());
        out.resize(received.size);
        CHECK(out == plain);
    }

    // The other way, and RTCP, in place.
    std::vector<std::uint8_t> rtcp;
    rtp::append_receiver_report(rtcp, rtp::ReceiverReport{rtp::Ssrc(9), {}});
    rtp::append_pli(rtcp, rtp::Ssrc(9), rtp::Ssrc(0xDEADBEEF));
    const auto plain_rtcp = rtcp;
    rtcp.resize(rtcp.size() + Session::kMaxOverhead);
    const auto sent = pair.server.protect_rtcp({rtcp.data(), plain_rtcp.size()}, rtcp);
    REQUIRE(sent.ok());
    CHECK(sent.size > plain_rtcp.size() + 4);  // E flag and index, then the tag
    const auto received = pair.client.unprotect_rtcp({rtcp.data(), sent.size}, rtcp);
    REQUIRE(received.ok());
    rtcp.resize(received.size);
    CHECK(rtcp == plain_rtcp);

    // A session does not accept what it protected itself: the keys differ.
    const auto plain = rtp_packet(500);
    auto own = buffer(plain.size());
    const auto looped = pair.client.protect_rtp(plain, own);
    REQUIRE(looped.ok());
    std::vector<std::uint8_t> out(looped.size);
    CHECK(pair.client.unprotect_rtp({own.data(), looped.size}, out).status == Status::kAuthFailure);
}

TEST_CASE("a flipped bit is an authentication failure, a second copy a replay") {
    const Profile profile = GENERATE(Profile::kAes128CmHmacSha1_80, Profile::kAeadAes128Gcm);
    INFO(srtp::to_string(profile));
    Pair pair(profile);
    const auto plain = rtp_packet(1000);
    auto wire = buffer(plain.size());
    const auto sent = pair.client.protect_rtp(plain, wire);
    REQUIRE(sent.ok());
    wire.resize(sent.size);
    std::vector<std::uint8_t> out(wire.size());

    // Flip one bit in the payload, the header, and the tag: all refused, and
    // none of them spends the sequence number.
    for (std::size_t at : {std::size_t{40}, std::size_t{3}, wire.size() - 1}) {
        auto tampered = wire;
        tampered[at] ^= 0x01;
        INFO("byte " << at);
        CHECK(pair.server.unprotect_rtp(tampered, out).status == Status::kAuthFailure);
    }
    CHECK(pair.server.unprotect_rtp(wire, out).ok());
    CHECK(pair.server.unprotect_rtp(wire, out).status == Status::kReplay);

    // RTCP too.
    std::vector<std::uint8_t> rtcp;
    rtp::append_pli(rtcp, rtp::Ssrc(1), rtp::Ssrc(2));
    auto rtcp_wire = buffer(rtcp.size());
    const auto rtcp_sent = pair.server.protect_rtcp(rtcp, rtcp_wire);
    REQUIRE(rtcp_sent.ok());
    rtcp_wire.resize(rtcp_sent.size);
    auto tampered = rtcp_wire;
    tampered[5] ^= 0x80;
    CHECK(pair.client.unprotect_rtcp(tampered, out).status == Status::kAuthFailure);
    CHECK(pair.client.unprotect_rtcp(rtcp_wire, out).ok());
    CHECK(pair.client.unprotect_rtcp(rtcp_wire, out).status == Status::kReplay);
}

TEST_CASE("reordering within the replay window is accepted; a resend is allowed") {
    Pair pair(Profile::kAes128CmHmacSha1_80);
    std::vector<std::vector<std::uint8_t>> sent;
    for (std::uint16_t seq = 0; seq < 600; ++seq) {
        const auto plain = rtp_packet(seq, 20);
        auto wire = buffer(plain.size());
        const auto result = pair.client.protect_rtp(plain, wire);
        REQUIRE(result.ok());
        wire.resize(result.size);
        sent.push_back(wire);
    }
    std::vector<std::uint8_t> out(2000);
    // All but packet 10 arrive; then 10 comes 589 packets late, as the answer
    // to a NACK would: inside the 1024-packet window.
    for (std::size_t i = 0; i < sent.size(); ++i) {
        if (i != 10) REQUIRE(pair.server.unprotect_rtp(sent[i], out).ok());
    }
    CHECK(pair.server.unprotect_rtp(sent[10], out).ok());

    // Answering a NACK protects the same packet again: allowed on the way out.
    const auto plain = rtp_packet(42, 20);
    auto wire = buffer(plain.size());
    CHECK(pair.client.protect_rtp(plain, wire).ok());
}

TEST_CASE("bad packets and small buffers never reach libsrtp") {
    Pair pair(Profile::kAes128CmHmacSha1_80);
    std::vector<std::uint8_t> out(4096);
    const std::vector<std::uint8_t> empty;
    CHECK(pair.server.unprotect_rtp(empty, out).status == Status::kBadPacket);
    CHECK(pair.server.unprotect_rtp(std::vector<std::uint8_t>(11, 0x80), out).status ==
          Status::kBadPacket);
    auto v1 = rtp_packet(1);
    v1[0] = 0x40;
    CHECK(pair.client.protect_rtp(v1, out).status == Status::kBadPacket);
    auto csrc = rtp_packet(1, 0);
    csrc[0] = 0x8F;  // 15 CSRCs announced, none there
    CHECK(pair.client.protect_rtp(csrc, out).status == Status::kBadPacket);
    CHECK(pair.server.unprotect_rtp(csrc, out).status == Status::kBadPacket);
    auto ext = rtp_packet(1, 4);
    ext[0] = 0x90;
    ext[12] = 0xBE, ext[13] = 0xDE, ext[14] = 0x01, ext[15] = 0x00;  // 256 words
    CHECK(pair.client.protect_rtp(ext, out).status == Status::kBadPacket);
    CHECK(pair.server.unprotect_rtcp(std::vector<std::uint8_t>{0x80, 201, 0, 1}, out).status ==
          Status::kBadPacket);
    // An SRTCP packet too short to carry its index and tag.
    CHECK_FALSE(
        pair.server.unprotect_rtcp(std::vector<std::uint8_t>{0x80, 201, 0, 1, 0, 0, 0, 1}, out)
            .ok());
    CHECK(pair.server.unprotect_rtp(std::vector<std::uint8_t>(70000, 0x80), out).status ==
          Status::kBadPacket);

    const auto plain = rtp_packet(1);
    std::vector<std::uint8_t> tight(plain.size() + 10);
    CHECK(pair.client.protect_rtp(plain, tight).status == Status::kBufferTooSmall);
    std::vector<std::uint8_t> tiny(10);
    CHECK(pair.server.unprotect_rtp(plain, tiny).status == Status::kBufferTooSmall);
    CHECK(srtp::to_string(Status::kReplay) == "replayed packet");
}

TEST_CASE("keys of the wrong length are refused at construction") {
    srtp::Keys keys{std::vector<std::uint8_t>(30, 1), std::vector<std::uint8_t>(29, 1)};
    CHECK_THROWS_AS(Session(Profile::kAes128CmHmacSha1_80, keys), std::runtime_error);
}
