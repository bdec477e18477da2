#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "sdp/description.hpp"
#include "sdp_fixtures.hpp"

using namespace rtcpeer::sdp;
using testing::fixture;
using testing::local_parameters;

namespace {

std::string parse_error(const std::string& sdp) {
    return testing::protocol_error([&] { parse(sdp); });
}

const char* kMinimal =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
    "a=fingerprint:sha-256 "
    "AA:9E:FF:30:84:B0:56:59:35:2F:20:C6:37:3D:29:92:4E:8E:76:C7:4F:C2:78:CA:38:EC:69:B5:71:AE:9A:"
    "A6\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n";

}  // namespace

TEST_CASE("aiortc 1.4 legacy offer") {
    auto d = parse(fixture("aiortc-1.4-offer.sdp"));
    CHECK(d.form == SctpForm::kLegacySctpmap);
    CHECK(d.sctp_port == 5000);
    CHECK(d.mid == "0");
    CHECK(d.bundle == std::vector<std::string>{"0"});
    CHECK(d.ice_ufrag == "j8I1");
    CHECK(d.ice_pwd == "AbyIZUKw1AeWitiEDfVZ7M");
    CHECK(d.setup == Setup::kActpass);
    REQUIRE(d.fingerprints.size() == 1);
    CHECK(to_string(d.fingerprints[0]) ==
          "sha-256 "
          "AA:9E:FF:30:84:B0:56:59:35:2F:20:C6:37:3D:29:92:4E:8E:76:C7:4F:C2:78:CA:38:EC:69:B5:71:"
          "AE:9A:A6");
    REQUIRE(d.candidates.size() == 2);
    CHECK(d.candidates[1].address == "2001:420:5899:1252:2837:7baa:38d1:6375");
    CHECK(d.end_of_candidates);
    CHECK(d.remote_max_message_size() == 65536);
    CHECK(!d.trickle);
}

TEST_CASE("aiortc 1.4 legacy answer") {
    auto d = parse(fixture("aiortc-1.4-answer.sdp"));
    CHECK(d.setup == Setup::kActive);
    CHECK(d.form == SctpForm::kLegacySctpmap);
    CHECK(d.candidates.size() == 2);
}

TEST_CASE("chromium offer: RFC 8841, no candidates, trickle") {
    auto d = parse(fixture("chromium-offer.sdp"));
    CHECK(d.form == SctpForm::kRfc8841);
    CHECK(d.sctp_port == 5000);
    CHECK(d.remote_max_message_size() == 262144);
    CHECK(d.candidates.empty());
    CHECK(!d.end_of_candidates);
    CHECK(d.trickle);
    CHECK(d.ice_pwd == "VfDrMpfRsn9rT6Oaoda9a/du");
}

TEST_CASE("libwebrtc offer with TCP candidates and extensions") {
    auto d = parse(fixture("wrtc-offer.sdp"));
    REQUIRE(d.candidates.size() == 4);
    CHECK(d.candidates[2].is_tcp());
    CHECK(d.candidates[2].extension("tcptype") == "passive");
    CHECK(d.candidates[1].extension("network-id") == "1");
    CHECK(d.warnings.empty());
}

TEST_CASE("pion offer: session-level fingerprint, media-level credentials") {
    auto d = parse(fixture("pion-offer.sdp"));
    CHECK(d.ice_ufrag == "QxXKheebUHFMHGER");
    REQUIRE(d.fingerprints.size() == 1);
    CHECK(d.fingerprints[0].digest.size() == 32);
    CHECK(d.end_of_candidates);
    CHECK(d.remote_max_message_size() == 65535);
}

TEST_CASE("libdatachannel offer: uppercase UDP, link-local IPv6") {
    auto d = parse(fixture("libdatachannel-offer.sdp"));
    REQUIRE(d.candidates.size() == 2);
    CHECK(d.candidates[0].is_udp());
    CHECK(d.candidates[1].address == "fe80::8882:9bff:fe19:592c");
    CHECK(d.trickle);
}

TEST_CASE("offer round trip") {
    auto local = local_parameters();
    auto d = parse(build_offer(local));
    CHECK(d.form == SctpForm::kRfc8841);
    CHECK(d.setup == Setup::kActpass);
    CHECK(d.ice_ufrag == local.ice_ufrag);
    CHECK(d.ice_pwd == local.ice_pwd);
    CHECK(d.mid == "0");
    CHECK(d.bundle == std::vector<std::string>{"0"});
    CHECK(d.remote_max_message_size() == kLocalMaxMessageSize);
    REQUIRE(d.candidates.size() == 1);
    CHECK(to_string(d.candidates[0]) == to_string(local.candidates[0]));
    CHECK(d.end_of_candidates);
    CHECK(d.trickle);
    CHECK(to_string(d.fingerprints.at(0)) == to_string(local.fingerprint));
    CHECK(build_offer(local).find(
              "m=application 40000 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\n") !=
          std::string::npos);
}

TEST_CASE("answers keep the offer's form and mid") {
    auto local = local_parameters();
    local.setup = answer_setup(Setup::kActpass);
    auto legacy = parse(build_answer(local, parse(fixture("aiortc-1.4-offer.sdp"))));
    CHECK(legacy.form == SctpForm::kLegacySctpmap);
    CHECK(legacy.setup == Setup::kActive);
    CHECK(legacy.mid == "0");
    auto modern = parse(build_answer(local, parse(fixture("chromium-offer.sdp"))));
    CHECK(modern.form == SctpForm::kRfc8841);
    CHECK(modern.setup == Setup::kActive);
    CHECK(answer_setup(Setup::kActive) == Setup::kPassive);
    CHECK_THROWS_AS(answer_setup(Setup::kHoldconn), rtcpeer::Error);
}

TEST_CASE("an answer rejects audio and video with port 0") {
    std::string offer =
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v d\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
        "a=fingerprint:sha-256 "
        "AA:9E:FF:30:84:B0:56:59:35:2F:20:C6:37:3D:29:92:4E:8E:76:C7:4F:C2:78:CA:38:EC:69:B5:71:AE:"
        "9A:A6\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=rtpmap:111 "
        "opus/48000/2\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 "
        "0.0.0.0\r\na=mid:d\r\na=sctp-port:5001\r\n";
    auto parsed_offer = parse(offer);
    CHECK(parsed_offer.data_index == 2);
    CHECK(parsed_offer.mid == "d");
    CHECK(parsed_offer.sctp_port == 5001);
    auto local = local_parameters();
    std::string answer = build_answer(local, parsed_offer);
    CHECK(answer.find("m=audio 0 UDP/TLS/RTP/SAVPF 111 0\r\n") != std::string::npos);
    CHECK(answer.find("m=video 0 UDP/TLS/RTP/SAVPF 96\r\n") != std::string::npos);
    CHECK(answer.find("a=group:BUNDLE d\r\n") != std::string::npos);
    auto parsed_answer = parse(answer);
    CHECK(parsed_answer.media.size() == 3);
    CHECK(parsed_answer.media[0].port == 0);
    CHECK(parsed_answer.mid == "d");
}

TEST_CASE("descriptions that cannot carry a data channel are refused with a reason") {
    std::string minimal = kMinimal;
    CHECK_NOTHROW(parse(minimal));
    auto without = [&](const std::string& line) {
        std::string copy = minimal;
        auto at = copy.find(line);
        REQUIRE(at != std::string::npos);
        copy.erase(at, line.size());
        return copy;
    };
    CHECK_THAT(parse_error(""), Catch::Contains("empty"));
    CHECK_THAT(parse_error("hello world"), Catch::Contains("not <type>=<value>"));
    CHECK_THAT(parse_error("o=- 1 2 IN IP4 0.0.0.0\r\n"), Catch::Contains("v=0"));
    CHECK_THAT(parse_error(without("a=ice-ufrag:abcd\r\n")), Catch::Contains("ice-ufrag"));
    CHECK_THAT(parse_error(without("a=ice-pwd:0123456789abcdefghijkl\r\n")),
               Catch::Contains("ice-pwd"));
    CHECK_THAT(
        parse_error(minimal.substr(0, minimal.find("a=fingerprint")) + "a=setup:actpass\r\n"),
        Catch::Contains("fingerprint"));
    CHECK_THAT(parse_error("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"),
               Catch::Contains("no data-channel"));
    // One field spoiled at a time, and the word the refusal must name.
    const struct {
        const char* from;
        const char* to;
        const char* named;
    } spoiled[] = {
        {"actpass", "sideways", "a=setup"},
        {"AA:9E", "ZZ:9E", "fingerprint"},
        {"application 9", "application 0", "rejected"},
        {"sctp-port:5000", "sctp-port:99999", "sctp-port"},
    };
    for (const auto& s : spoiled) {
        std::string copy = minimal;
        const auto at = copy.find(s.from);
        REQUIRE(at != std::string::npos);
        copy.replace(at, std::string(s.from).size(), s.to);
        CHECK_THAT(parse_error(copy), Catch::Contains(s.named));
    }
}

TEST_CASE("bad candidate lines are skipped with a warning, and their number is bounded") {
    std::string sdp = kMinimal;
    sdp += "a=candidate:1 1 udp 1 10.0.0.1 99999 typ host\r\n";
    sdp += "a=candidate:2 1 udp 1 10.0.0.2 5000 typ host\r\n";
    auto d = parse(sdp);
    CHECK(d.candidates.size() == 1);
    REQUIRE(d.warnings.size() == 1);
    CHECK_THAT(d.warnings[0], Catch::Contains("port"));

    std::string many = kMinimal;
    for (int i = 0; i < 5000; ++i)
        many += "a=candidate:" + std::to_string(i) + " 1 udp 1 10.0.0.1 5000 typ host\r\n";
    auto bounded = parse(many);
    CHECK(bounded.candidates.size() == 64);
    CHECK(!bounded.warnings.empty());
}

TEST_CASE("max-message-size zero means unlimited") {
    std::string sdp = std::string(kMinimal) + "a=max-message-size:0\r\n";
    CHECK(parse(sdp).remote_max_message_size() == std::numeric_limits<std::size_t>::max());
}
