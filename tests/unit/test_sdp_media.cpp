// Media sections: parsing the real offers of Chromium, aiortc and pion,
// answering them for what rtcpeer can be asked for, and our own offers.
#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "sdp/description.hpp"
#include "sdp/media.hpp"
#include "sdp_fixtures.hpp"

using namespace rtcpeer::sdp;
using testing::fixture;

namespace {

LocalParameters local_parameters() {
    LocalParameters local = testing::local_parameters();
    local.setup = Setup::kActive;
    return local;
}

LocalMedia wants(bool send, bool receive, VideoCodec video = VideoCodec::kVp8,
                 AudioCodec audio = AudioCodec::kOpus) {
    LocalMedia media;
    media.video = LocalTrack{send, receive, 0x11111111, "video0"};
    media.audio = LocalTrack{send, receive, 0x22222222, "audio0"};
    media.video_codec = video;
    media.audio_codec = audio;
    media.cname = "rtcpeer-cname";
    media.stream_id = "rtcpeer";
    return media;
}

struct Answered {
    MediaAnswer answer;
    SessionDescription parsed;      // the answer through parse()
    MediaDescription parsed_media;  // and through parse_media()
};

Answered answer_fixture(const std::string& name, const LocalMedia& media) {
    const std::string text = fixture(name);
    const SessionDescription offer = parse(text, DataChannel::kOptional);
    const MediaDescription offer_media = parse_media(text);
    Answered out{build_media_answer(local_parameters(), media, offer, offer_media), {}, {}};
    out.parsed = parse(out.answer.sdp, DataChannel::kOptional);
    out.parsed_media = parse_media(out.answer.sdp);
    // Whatever the choice, the answer has the offer's sections in its order.
    REQUIRE(out.parsed_media.sections.size() == offer_media.sections.size());
    for (std::size_t i = 0; i < offer_media.sections.size(); ++i) {
        CHECK(out.parsed_media.sections[i].mid == offer_media.sections[i].mid);
        CHECK(out.parsed_media.sections[i].media == offer_media.sections[i].media);
    }
    return out;
}

const NegotiatedTrack* track(const MediaAnswer& answer, MediaKind kind) {
    for (const NegotiatedTrack& t : answer.tracks) {
        if (t.kind == kind) return &t;
    }
    return nullptr;
}

bool warned(const std::vector<std::string>& warnings, const std::string& part) {
    for (const std::string& w : warnings) {
        if (w.find(part) != std::string::npos) return true;
    }
    return false;
}

std::string media_error(const std::string& sdp) {
    return testing::protocol_error([&] { parse_media(sdp); });
}

const std::string kHead = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

}  // namespace

TEST_CASE("media: chromium's sendrecv offer parses section by section") {
    const MediaDescription d = parse_media(fixture("chromium-av-sendrecv-offer.sdp"));
    CHECK(d.bundle == std::vector<std::string>{"0", "1", "2"});
    REQUIRE(d.sections.size() == 3);
    const RtpSection& audio = d.sections[0];
    CHECK(audio.kind == MediaKind::kAudio);
    CHECK(audio.mid == "0");
    CHECK(audio.port == 9);
    CHECK(audio.direction == Direction::kSendrecv);
    CHECK(audio.rtcp_mux);
    CHECK(audio.rtcp_rsize);
    REQUIRE(audio.codecs.size() == 8);
    CHECK(audio.codecs[0].payload_type == 111);
    CHECK(audio.codecs[0].name == "opus");
    CHECK(audio.codecs[0].clock_rate == 48000);
    CHECK(audio.codecs[0].channels == 2);
    CHECK(audio.codecs[0].fmtp() == "minptime=10;useinbandfec=1");
    CHECK(audio.codecs[0].feedback == std::vector<std::string>{"transport-cc"});
    CHECK(audio.codec(9)->name == "G722");
    CHECK(audio.codec(63)->parameter("111/111").has_value());
    CHECK(audio.extmap_id(kMidExtensionUri) == 4);
    REQUIRE(audio.ssrcs.size() == 1);
    CHECK(audio.ssrcs[0].ssrc == 752571268u);
    CHECK(audio.ssrcs[0].cname == "MSPEi4NrZvSK2+Fu");
    CHECK(audio.ssrcs[0].msid == "- 698dd0e8-061f-4e3a-87c0-1302f7f775a0");
    CHECK(audio.msid == "- 698dd0e8-061f-4e3a-87c0-1302f7f775a0");

    const RtpSection& video = d.sections[1];
    CHECK(video.kind == MediaKind::kVideo);
    CHECK(video.codecs.size() == 23);
    CHECK(video.extmaps.size() == 11);
    const Codec* vp8 = video.codec(96);
    REQUIRE(vp8 != nullptr);
    CHECK(vp8->feedback ==
          std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"});
    CHECK(video.rtx_for(96) == 97);
    CHECK(video.codec(97)->apt == 96);
    CHECK(video.codec(108)->parameter("profile-level-id") == "42e01f");
    CHECK(video.fid_groups ==
          std::vector<std::pair<std::uint32_t, std::uint32_t>>{{1981917276u, 2177180359u}});
    CHECK(video.ssrcs.size() == 2);

    CHECK(d.sections[2].kind == MediaKind::kApplication);
    CHECK(d.sections[2].codecs.empty());  // not RTP: formats are no payload types
    CHECK(d.first(MediaKind::kVideo) == &d.sections[1]);
}

TEST_CASE("media: aiortc's and pion's offers parse") {
    const MediaDescription aiortc = parse_media(fixture("aiortc-1.4-av-offer.sdp"));
    REQUIRE(aiortc.sections.size() == 3);
    CHECK_FALSE(aiortc.sections[0].rtcp_rsize);
    CHECK(aiortc.sections[0].codec(0)->name == "PCMU");
    CHECK(aiortc.sections[1].extmap_id(kMidExtensionUri) == 1);
    CHECK(aiortc.sections[1].rtx_for(101) == 102);
    CHECK(aiortc.sections[2].proto == "DTLS/SCTP");

    const MediaDescription pion = parse_media(fixture("pion-3.1-av-offer.sdp"));
    REQUIRE(pion.sections.size() == 3);
    const Codec* vp8 = pion.sections[1].codec(96);
    REQUIRE(vp8 != nullptr);
    // pion repeats its feedback lines and ends some with a space.
    CHECK(vp8->feedback ==
          std::vector<std::string>{"goog-remb", "ccm fir", "nack", "nack pli", "transport-cc"});
    CHECK_FALSE(pion.sections[1].extmap_id(kMidExtensionUri).has_value());
    CHECK(pion.sections[0].ssrcs.at(0).cname == "pion");
    CHECK(pion.sections[0].msid == "pion audio");

    const MediaDescription recvonly = parse_media(fixture("chromium-av-recvonly-offer.sdp"));
    CHECK(recvonly.sections[0].direction == Direction::kRecvonly);
    CHECK(recvonly.sections[1].direction == Direction::kRecvonly);
    CHECK(recvonly.sections[1].ssrcs.empty());
}

TEST_CASE("media: answering chromium's sendrecv offer for vp8 and opus") {
    auto a = answer_fixture("chromium-av-sendrecv-offer.sdp", wants(true, true));
    CHECK(a.answer.warnings.empty());
    CHECK(a.answer.data_channel);
    CHECK(a.parsed.has_data_channel);
    CHECK(a.parsed.mid == "2");
    CHECK(a.parsed.setup == Setup::kActive);
    CHECK(a.parsed_media.bundle == std::vector<std::string>{"0", "1", "2"});
    REQUIRE(a.answer.tracks.size() == 2);
    const NegotiatedTrack* video = track(a.answer, MediaKind::kVideo);
    REQUIRE(video != nullptr);
    CHECK(video->mid == "1");
    CHECK(video->codec.payload_type == 96);
    CHECK(video->direction == Direction::kSendrecv);
    CHECK(video->mid_extension == 4);
    CHECK(video->nack);
    CHECK(video->pli);
    CHECK(video->fir);
    CHECK(video->rtcp_rsize);
    CHECK(video->local_ssrc == 0x11111111u);
    CHECK(video->remote_ssrcs == std::vector<std::uint32_t>{1981917276u});  // rtx left out
    const NegotiatedTrack* audio = track(a.answer, MediaKind::kAudio);
    REQUIRE(audio != nullptr);
    CHECK(audio->codec.payload_type == 111);
    CHECK(audio->codec.fmtp() == "minptime=10;useinbandfec=1");
    CHECK_FALSE(audio->nack);

    // What the answer says, read back.
    const RtpSection& v = a.parsed_media.sections[1];
    CHECK(v.port == 40000);
    CHECK(v.formats == std::vector<std::string>{"96"});
    CHECK(v.direction == Direction::kSendrecv);
    CHECK(v.rtcp_mux);
    CHECK(v.rtcp_rsize);
    CHECK(v.codec(96)->feedback == std::vector<std::string>{"nack", "nack pli", "ccm fir"});
    CHECK(v.extmaps.size() == 1);
    CHECK(v.extmap_id(kMidExtensionUri) == 4);
    REQUIRE(v.ssrcs.size() == 1);
    CHECK(v.ssrcs[0].ssrc == 0x11111111u);
    CHECK(v.ssrcs[0].cname == "rtcpeer-cname");
    CHECK(v.ssrcs[0].msid == "rtcpeer video0");
    CHECK(v.msid == "rtcpeer video0");
    CHECK(a.parsed_media.sections[0].formats == std::vector<std::string>{"111"});
}

TEST_CASE("media: H.264 picks packetization-mode 1, constrained baseline, the remote's number") {
    auto chromium =
        answer_fixture("chromium-av-sendrecv-offer.sdp", wants(true, true, VideoCodec::kH264));
    const NegotiatedTrack* video = track(chromium.answer, MediaKind::kVideo);
    REQUIRE(video != nullptr);
    CHECK(video->codec.payload_type == 108);  // 42e01f mode 1, not 102 (42001f) or 114 (mode 0)
    CHECK(chromium.parsed_media.sections[1].codec(108)->fmtp() ==
          "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");

    auto aiortc = answer_fixture("aiortc-1.4-av-offer.sdp", wants(true, true, VideoCodec::kH264));
    video = track(aiortc.answer, MediaKind::kVideo);
    REQUIRE(video != nullptr);
    CHECK(video->codec.payload_type == 101);
    CHECK(video->nack);
    CHECK_FALSE(video->fir);  // aiortc offers no ccm fir
    CHECK(aiortc.parsed_media.sections[1].codec(101)->feedback ==
          std::vector<std::string>{"nack", "nack pli"});

    auto pion = answer_fixture("pion-3.1-av-offer.sdp", wants(true, true, VideoCodec::kH264));
    video = track(pion.answer, MediaKind::kVideo);
    REQUIRE(video != nullptr);
    CHECK(video->codec.payload_type == 125);
    CHECK_FALSE(video->mid_extension.has_value());
}

TEST_CASE("media: aiortc's offer answered in its legacy data-channel form") {
    auto a = answer_fixture("aiortc-1.4-av-offer.sdp", wants(true, true));
    CHECK(a.answer.warnings.empty());
    CHECK(a.parsed.form == SctpForm::kLegacySctpmap);
    CHECK(a.parsed.mid == "2");
    CHECK(track(a.answer, MediaKind::kVideo)->codec.payload_type == 97);
    CHECK(track(a.answer, MediaKind::kAudio)->codec.payload_type == 96);
    CHECK(track(a.answer, MediaKind::kAudio)->remote_ssrcs ==
          std::vector<std::uint32_t>{1908929668u});
    CHECK(track(a.answer, MediaKind::kVideo)->remote_ssrcs ==
          std::vector<std::uint32_t>{3593168562u});
    CHECK_FALSE(a.parsed_media.sections[0].rtcp_rsize);  // not offered, not answered
}

TEST_CASE("media: pion's offer answered for vp8 and opus; AV1 is not there") {
    auto a = answer_fixture("pion-3.1-av-offer.sdp", wants(true, true));
    CHECK(a.answer.warnings.empty());
    CHECK(track(a.answer, MediaKind::kVideo)->codec.payload_type == 96);
    CHECK(track(a.answer, MediaKind::kAudio)->codec.payload_type == 111);
    CHECK(a.parsed.form == SctpForm::kRfc8841);

    auto av1 = answer_fixture("pion-3.1-av-offer.sdp", wants(true, true, VideoCodec::kAv1));
    CHECK(track(av1.answer, MediaKind::kVideo) == nullptr);
    REQUIRE(av1.answer.warnings.size() == 1);
    CHECK(warned(av1.answer.warnings, "has no av1 codec"));
    CHECK(warned(av1.answer.warnings, "VP8, VP9, H264 42001f mode 1"));
    CHECK(warned(av1.answer.warnings, "answered inactive"));
    // Inactive, not rejected: the section stays in the BUNDLE group with an
    // offered codec, which is what aiortc 1.4 needs to take the answer.
    const RtpSection& video = av1.parsed_media.sections[1];
    CHECK(video.port != 0);
    CHECK(video.direction == Direction::kInactive);
    CHECK(video.formats == std::vector<std::string>{"96"});
    CHECK(video.ssrcs.empty());
    CHECK(av1.parsed_media.bundle == std::vector<std::string>{"0", "1", "2"});
    CHECK(track(av1.answer, MediaKind::kAudio)->direction == Direction::kSendrecv);
}

TEST_CASE("media: a recvonly offer lets rtcpeer only send") {
    auto both = answer_fixture("chromium-av-recvonly-offer.sdp", wants(true, true));
    const NegotiatedTrack* video = track(both.answer, MediaKind::kVideo);
    REQUIRE(video != nullptr);
    CHECK(video->direction == Direction::kSendonly);
    CHECK(video->remote_ssrcs.empty());
    CHECK(both.parsed_media.sections[1].direction == Direction::kSendonly);
    CHECK(warned(both.answer.warnings, "only sendonly is possible"));

    // Asking only to receive from a remote that only receives: nothing flows.
    auto receive = answer_fixture("chromium-av-recvonly-offer.sdp", wants(false, true));
    CHECK(receive.answer.tracks.empty());
    CHECK(receive.parsed_media.sections[0].direction == Direction::kInactive);
    CHECK(receive.parsed_media.sections[1].direction == Direction::kInactive);
    CHECK(receive.parsed_media.sections[1].port != 0);
    CHECK(warned(receive.answer.warnings, "answered inactive"));
}

TEST_CASE("media: sendonly and recvonly answers to a sendrecv offer") {
    auto send = answer_fixture("chromium-av-sendrecv-offer.sdp", wants(true, false));
    CHECK(send.answer.warnings.empty());
    CHECK(track(send.answer, MediaKind::kVideo)->direction == Direction::kSendonly);
    CHECK(send.parsed_media.sections[1].direction == Direction::kSendonly);
    CHECK(send.parsed_media.sections[1].ssrcs.size() == 1);

    auto receive = answer_fixture("pion-3.1-av-offer.sdp", wants(false, true));
    CHECK(receive.answer.warnings.empty());
    const NegotiatedTrack* video = track(receive.answer, MediaKind::kVideo);
    REQUIRE(video != nullptr);
    CHECK(video->direction == Direction::kRecvonly);
    CHECK(video->local_ssrc == 0);
    CHECK(video->remote_ssrcs == std::vector<std::uint32_t>{2854600369u});
    CHECK(receive.parsed_media.sections[1].direction == Direction::kRecvonly);
    CHECK(receive.parsed_media.sections[1].ssrcs.empty());  // nothing sent, no SSRC lines
}

TEST_CASE("media: a data-only answer keeps the offered media sections inactive in the bundle") {
    for (const char* name : {"chromium-av-sendrecv-offer.sdp", "chromium-av-recvonly-offer.sdp",
                             "aiortc-1.4-av-offer.sdp", "pion-3.1-av-offer.sdp"}) {
        INFO(name);
        auto a = answer_fixture(name, wants(false, false));
        CHECK(a.answer.tracks.empty());
        CHECK(a.answer.warnings.empty());
        CHECK(a.answer.data_channel);
        CHECK(a.parsed.has_data_channel);
        CHECK(a.parsed_media.bundle == std::vector<std::string>{"0", "1", "2"});
        for (std::size_t i = 0; i < 2; ++i) {
            const RtpSection& s = a.parsed_media.sections[i];
            CHECK(s.port != 0);
            CHECK(s.direction == Direction::kInactive);
            REQUIRE(s.codecs.size() == 1);
            CHECK(s.ssrcs.empty());
        }
        // The echoed codec is a real one, never rtx or red.
        CHECK(a.parsed_media.sections[1].codecs[0].name == "VP8");
    }
    // The same for the existing data-channel answer path: build_answer
    // rejects media with port 0 and keeps working on these offers.
    auto offer = parse(fixture("pion-3.1-av-offer.sdp"));
    CHECK(parse(build_answer(local_parameters(), offer)).mid == "2");
}

TEST_CASE("media: our own offer round-trips through the parser") {
    LocalMedia media = wants(true, true, VideoCodec::kH264, AudioCodec::kOpus);
    media.audio.send = false;  // audio recvonly
    const std::string offer = build_media_offer(local_parameters(), media);
    const SessionDescription d = parse(offer);
    CHECK(d.mid == "2");
    CHECK(d.setup == Setup::kActpass);
    const MediaDescription m = parse_media(offer);
    CHECK(m.bundle == std::vector<std::string>{"0", "1", "2"});
    REQUIRE(m.sections.size() == 3);
    const RtpSection& audio = m.sections[0];
    CHECK(audio.kind == MediaKind::kAudio);
    CHECK(audio.direction == Direction::kRecvonly);
    CHECK(audio.ssrcs.empty());
    REQUIRE(audio.codecs.size() == 1);
    CHECK(audio.codecs[0].name == "opus");
    CHECK(audio.codecs[0].channels == 2);
    CHECK(audio.codecs[0].fmtp() == "minptime=10;useinbandfec=1");
    const RtpSection& video = m.sections[1];
    CHECK(video.kind == MediaKind::kVideo);
    CHECK(video.mid == "1");
    CHECK(video.direction == Direction::kSendrecv);
    CHECK(video.rtcp_mux);
    CHECK(video.rtcp_rsize);
    CHECK(video.extmap_id(kMidExtensionUri) == 1);
    REQUIRE(video.codecs.size() == 1);
    CHECK(video.codecs[0].payload_type == 102);
    CHECK(video.codecs[0].parameter("profile-level-id") == "42e01f");
    CHECK(video.codecs[0].parameter("packetization-mode") == "1");
    CHECK(video.codecs[0].feedback == std::vector<std::string>{"nack", "nack pli", "ccm fir"});
    REQUIRE(video.ssrcs.size() == 1);
    CHECK(video.ssrcs[0].ssrc == 0x11111111u);
    CHECK(video.ssrcs[0].msid == "rtcpeer video0");

    // rtcpeer answering rtcpeer: video sendrecv, audio sendonly (the offer
    // only receives), and the offerer reads the answer back into tracks.
    LocalMedia answerer = wants(true, true, VideoCodec::kH264);
    answerer.video.ssrc = 0x33333333;
    auto answer = build_media_answer(local_parameters(), answerer, d, m);
    CHECK(track(answer, MediaKind::kAudio)->direction == Direction::kSendonly);
    std::vector<std::string> warnings;
    auto tracks = accepted_tracks(media, parse_media(answer.sdp), warnings);
    CHECK(warnings.empty());
    REQUIRE(tracks.size() == 2);
    CHECK(tracks[0].kind == MediaKind::kAudio);
    CHECK(tracks[0].direction == Direction::kRecvonly);
    CHECK(tracks[1].kind == MediaKind::kVideo);
    CHECK(tracks[1].direction == Direction::kSendrecv);
    CHECK(tracks[1].codec.payload_type == 102);
    CHECK(tracks[1].remote_ssrcs == std::vector<std::uint32_t>{0x33333333u});
    CHECK(tracks[1].local_ssrc == 0x11111111u);
    CHECK(tracks[1].nack);
}

TEST_CASE("media: a media-only offer and its answer") {
    LocalMedia media = wants(true, false, VideoCodec::kVp8);
    media.data_channel = false;
    media.audio = {};
    const std::string offer = build_media_offer(local_parameters(), media);
    CHECK_THROWS_AS(parse(offer), rtcpeer::Error);  // the data-channel parser still wants one
    const SessionDescription d = parse(offer, DataChannel::kOptional);
    CHECK_FALSE(d.has_data_channel);
    CHECK(d.mid == "0");
    CHECK(d.ice_ufrag == "uFrA");
    CHECK(d.candidates.size() == 1);

    LocalMedia answerer = wants(false, true);
    auto answer = build_media_answer(local_parameters(), answerer, d, parse_media(offer));
    CHECK_FALSE(answer.data_channel);
    CHECK(warned(answer.warnings, "the offer has no audio"));
    CHECK(warned(answer.warnings, "the offer has no data channel"));
    REQUIRE(answer.tracks.size() == 1);
    CHECK(answer.tracks[0].direction == Direction::kRecvonly);
    CHECK(answer.tracks[0].remote_ssrcs == std::vector<std::uint32_t>{0x11111111u});
    const SessionDescription parsed = parse(answer.sdp, DataChannel::kOptional);
    CHECK_FALSE(parsed.has_data_channel);
    CHECK(parsed.setup == Setup::kActive);
    CHECK(parse_media(answer.sdp).bundle == std::vector<std::string>{"0"});

    LocalMedia nothing;
    nothing.data_channel = false;
    CHECK_THROWS_AS(build_media_offer(local_parameters(), nothing), rtcpeer::Error);
}

TEST_CASE("media: a wanted section without rtcp-mux or outside BUNDLE is rejected") {
    const std::string transport =
        "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
        "a=fingerprint:sha-256 "
        "AA:9E:FF:30:84:B0:56:59:35:2F:20:C6:37:3D:29:92:4E:8E:76:C7:4F:C2:78:CA:38:EC:69:B5:71:AE:"
        "9A:A6\r\n";
    const std::string offer =
        kHead + "a=group:BUNDLE v\r\n" + transport +
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\na=rtpmap:96 VP8/90000\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=rtcp-mux\r\n"
        "a=rtpmap:111 opus/48000/2\r\n"
        "m=text 9 RTP/AVP 98\r\na=mid:t\r\n";
    auto d = parse(offer, DataChannel::kOptional);
    auto answer = build_media_answer(local_parameters(), wants(true, true), d, parse_media(offer));
    CHECK(answer.tracks.empty());
    CHECK(warned(answer.warnings, "video (mid v) does not offer rtcp-mux; rejected"));
    CHECK(warned(answer.warnings, "audio (mid a) is not in the BUNDLE group; rejected"));
    auto m = parse_media(answer.sdp);
    REQUIRE(m.sections.size() == 3);
    CHECK(m.sections[0].port == 0);
    CHECK(m.sections[1].port == 0);
    CHECK(m.sections[2].port == 0);
    CHECK(m.sections[2].kind == MediaKind::kOther);
    // Rejected, yet with ICE credentials and a=setup, without candidates.
    CHECK(answer.sdp.find("m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\n"
                          "a=rtcp-mux\r\na=ice-ufrag:uFrA\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
                          "a=fingerprint:sha-256 AA:9E:") != std::string::npos);
    CHECK(answer.sdp.find("a=setup:active\r\nm=audio 0") != std::string::npos);
    CHECK(answer.sdp.find("a=candidate") == std::string::npos);
}

TEST_CASE("media: nonsense and oversize descriptions are protocol errors") {
    const std::string m = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
    CHECK(media_error(kHead + "m=video 9 UDP/TLS/RTP/SAVPF 200\r\n").find("payload type") !=
          std::string::npos);
    CHECK(media_error(kHead + "m=video 9 UDP/TLS/RTP/SAVPF x\r\n").find("payload type") !=
          std::string::npos);
    CHECK(media_error(kHead + "m=video 70000 UDP/TLS/RTP/SAVPF 96\r\n").find("port") !=
          std::string::npos);
    CHECK(media_error(kHead + m + "a=rtpmap:96 VP8\r\n").find("rtpmap") != std::string::npos);
    CHECK(media_error(kHead + m + "a=rtpmap:96 VP8/0\r\n").find("rtpmap") != std::string::npos);
    CHECK(media_error(kHead + m + "a=rtpmap:300 VP8/90000\r\n").find("rtpmap") !=
          std::string::npos);
    CHECK(media_error(kHead + m + "a=fmtp:96 apt=abc\r\n").find("fmtp") != std::string::npos);
    CHECK(media_error(kHead + m + "a=extmap:x urn:a\r\n").find("extmap") != std::string::npos);
    CHECK(media_error(kHead + m + "a=ssrc:-1 cname:x\r\n").find("ssrc") != std::string::npos);
    CHECK(media_error(kHead + m + "a=ssrc-group:FID 1\r\n").find("ssrc-group") !=
          std::string::npos);
    CHECK(media_error(kHead + m + "a=msid:" + std::string(300, 'x') + "\r\n").find("longer") !=
          std::string::npos);
    CHECK(media_error(kHead + m + "a=x:" + std::string(5000, 'x') + "\r\n").find("4096") !=
          std::string::npos);

    std::string sections = kHead;
    for (int i = 0; i < 33; ++i) sections += m;
    CHECK(media_error(sections).find("more than 32 m= sections") != std::string::npos);
    std::string extmaps = kHead + m;
    for (int i = 1; i <= 65; ++i) extmaps += "a=extmap:" + std::to_string(i) + " urn:x\r\n";
    CHECK(media_error(extmaps).find("extmap") != std::string::npos);
    std::string ssrcs = kHead + m;
    for (int i = 1; i <= 65; ++i) ssrcs += "a=ssrc:" + std::to_string(i) + " cname:x\r\n";
    CHECK(media_error(ssrcs).find("SSRCs") != std::string::npos);
    std::string feedback = kHead + m;
    for (int i = 0; i < 33; ++i) feedback += "a=rtcp-fb:96 x" + std::to_string(i) + "\r\n";
    CHECK(media_error(feedback).find("rtcp-fb") != std::string::npos);

    // Tolerated: attributes for payload types not in the m= line, unknown
    // attributes, extmap ids no packet can carry, wildcard feedback.
    auto ok = parse_media(kHead + m + "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n" +
                          "a=extmap:4096 urn:x\r\na=rtcp-fb:* nack\r\na=foo:bar\r\n");
    REQUIRE(ok.sections.size() == 1);
    CHECK(ok.sections[0].codecs.size() == 1);
    CHECK(ok.sections[0].extmaps.empty());
    CHECK(ok.sections[0].codecs[0].feedback == std::vector<std::string>{"nack"});
}

TEST_CASE("media: codec names") {
    CHECK(parse_video_codec("H264") == VideoCodec::kH264);
    CHECK(parse_video_codec("av1") == VideoCodec::kAv1);
    CHECK_FALSE(parse_video_codec("h265").has_value());
    CHECK(parse_audio_codec("PCMA") == AudioCodec::kPcma);
    CHECK(offered_codec(AudioCodec::kG722).payload_type == 9);
    CHECK(offered_codec(VideoCodec::kVp9).parameter("profile-id") == "0");
    CHECK(reverse(Direction::kSendonly) == Direction::kRecvonly);
    CHECK(reverse(Direction::kInactive) == Direction::kInactive);
}

TEST_CASE("media: H.264 without packetization-mode 1 or outside baseline is not taken") {
    const std::string transport =
        "a=group:BUNDLE v\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
        "a=fingerprint:sha-256 "
        "AA:9E:FF:30:84:B0:56:59:35:2F:20:C6:37:3D:29:92:4E:8E:76:C7:4F:C2:78:CA:38:EC:69:B5:71:AE:"
        "9A:A6\r\n";
    auto answer_video = [&](const std::string& section) {
        const std::string offer = kHead + transport + section;
        auto d = parse(offer, DataChannel::kOptional);
        return build_media_answer(local_parameters(), wants(false, true, VideoCodec::kH264), d,
                                  parse_media(offer));
    };
    const std::string m =
        "m=video 9 UDP/TLS/RTP/SAVPF 100 101 102 103\r\na=mid:v\r\na=rtcp-mux\r\n";
    const std::string h264 = " H264/90000\r\n";
    // Mode 0 and High come first; the baseline mode-1 one (101) is taken,
    // the constrained-baseline one (103) before it.
    auto picked = answer_video(
        m + "a=rtpmap:100" + h264 + "a=fmtp:100 packetization-mode=0;profile-level-id=42e01f\r\n" +
        "a=rtpmap:101" + h264 + "a=fmtp:101 packetization-mode=1;profile-level-id=42001f\r\n" +
        "a=rtpmap:102" + h264 + "a=fmtp:102 packetization-mode=1;profile-level-id=640032\r\n" +
        "a=rtpmap:103" + h264 + "a=fmtp:103 packetization-mode=1;profile-level-id=42e01f\r\n");
    REQUIRE(picked.tracks.size() == 1);
    CHECK(picked.tracks[0].codec.payload_type == 103);

    auto baseline = answer_video(
        m + "a=rtpmap:100" + h264 + "a=fmtp:100 packetization-mode=0;profile-level-id=42e01f\r\n" +
        "a=rtpmap:101" + h264 + "a=fmtp:101 packetization-mode=1;profile-level-id=42001f\r\n");
    REQUIRE(baseline.tracks.size() == 1);
    CHECK(baseline.tracks[0].codec.payload_type == 101);

    auto none = answer_video(
        "m=video 9 UDP/TLS/RTP/SAVPF 100 102\r\na=mid:v\r\na=rtcp-mux\r\n"
        "a=rtpmap:100" +
        h264 + "a=fmtp:100 packetization-mode=0;profile-level-id=42e01f\r\n" + "a=rtpmap:102" +
        h264 + "a=fmtp:102 packetization-mode=1;profile-level-id=640032\r\n");
    CHECK(none.tracks.empty());
    CHECK(warned(none.warnings,
                 "has no h264 codec rtcpeer can take (offered: H264 42e01f mode 0, "
                 "H264 640032 mode 1"));
    CHECK(warned(none.warnings, "answered inactive"));
    const RtpSection echoed = parse_media(none.sdp).sections.at(0);
    CHECK(echoed.direction == Direction::kInactive);
    CHECK(echoed.formats == std::vector<std::string>{"100"});
}

TEST_CASE("media: an unwanted section echoes a real codec and never its rtx") {
    const std::string offer =
        kHead +
        "a=group:BUNDLE v\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
        "a=fingerprint:sha-256 "
        "AA:9E:FF:30:84:B0:56:59:35:2F:20:C6:37:3D:29:92:4E:8E:76:C7:4F:C2:78:CA:38:EC:69:B5:71:AE:"
        "9A:A6\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 97 96\r\na=mid:v\r\na=rtcp-mux\r\na=rtpmap:97 rtx/90000\r\n"
        "a=fmtp:97 apt=96\r\na=rtpmap:96 VP8/90000\r\n";
    auto answer = build_media_answer(local_parameters(), wants(false, false),
                                     parse(offer, DataChannel::kOptional), parse_media(offer));
    const RtpSection video = parse_media(answer.sdp).sections.at(0);
    CHECK(video.direction == Direction::kInactive);
    CHECK(video.formats == std::vector<std::string>{"96"});
}

TEST_CASE("media: the transport is the BUNDLE group's first section (aiortc's own credentials)") {
    const std::string text = fixture("aiortc-1.4-av-offer.sdp");
    // The data-channel parse reads the data section, as it always did.
    const SessionDescription data = parse(text);
    CHECK(data.ice_ufrag == "UJFX");
    CHECK(data.transport_mid == "2");
    // With media, the section every bundled one shares: audio, mid 0.
    const SessionDescription offer = parse(text, DataChannel::kOptional);
    CHECK(offer.has_data_channel);
    CHECK(offer.mid == "2");
    CHECK(offer.form == SctpForm::kLegacySctpmap);
    CHECK(offer.transport_mid == "0");
    CHECK(offer.transport_index == 0);
    CHECK(offer.ice_ufrag == "jyam");
    REQUIRE(offer.candidates.size() == 1);
    CHECK(offer.candidates[0].port == 44235);

    // aiortc offers no G722: the audio section (the group's first) is
    // answered inactive, so the transport stays with it.
    const MediaAnswer g722 = build_media_answer(
        local_parameters(), wants(true, true, VideoCodec::kVp8, AudioCodec::kG722), offer,
        parse_media(text));
    CHECK(warned(
        g722.warnings,
        "has no g722 codec rtcpeer can take (offered: opus, PCMU, PCMA); answered inactive"));
    CHECK(g722.transport_mid == "0");

    // An audio section without rtcp-mux cannot be answered at all: port 0,
    // the answer's group starts at video, and so does the transport.
    std::string no_mux = text;
    no_mux.erase(no_mux.find("a=rtcp-mux\r\n"), 12);
    const MediaAnswer answer =
        build_media_answer(local_parameters(), wants(true, true),
                           parse(no_mux, DataChannel::kOptional), parse_media(no_mux));
    CHECK(warned(answer.warnings, "audio (mid 0) does not offer rtcp-mux; rejected"));
    CHECK(answer.transport_mid == "1");
    CHECK(parse_media(answer.sdp).bundle == std::vector<std::string>{"1", "2"});
    const SessionDescription video = parse(text, DataChannel::kOptional, answer.transport_mid);
    CHECK(video.ice_ufrag == "8Qxc");
    CHECK(video.candidates.at(0).port == 45082);
    CHECK_THROWS_AS(parse(text, DataChannel::kOptional, std::string_view("9")), rtcpeer::Error);

    // Chromium's sections share one transport; the answer keeps its tag.
    const std::string chromium = fixture("chromium-av-sendrecv-offer.sdp");
    auto a = build_media_answer(local_parameters(), wants(true, true),
                                parse(chromium, DataChannel::kOptional), parse_media(chromium));
    CHECK(a.transport_mid == "0");
}
