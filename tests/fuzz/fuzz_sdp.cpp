// The SDP parsers. Properties: an accepted offer can be answered, and the
// answer parses again with the offer's form and mid; an offer whose media
// sections parse can be answered with media, and that answer parses again
// with the offer's sections, in order, under the same mids.
#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "sdp/description.hpp"
#include "sdp/media.hpp"

using namespace rtcpeer::sdp;

namespace {

LocalParameters local_parameters() {
    LocalParameters local;
    local.ice_ufrag = "fuzz";
    local.ice_pwd = "0123456789abcdefghijkl";
    local.fingerprint.algorithm = "sha-256";
    local.fingerprint.digest.assign(32, 0xAB);
    local.end_of_candidates = true;
    return local;
}

void answer_data_channel(const std::string& text) {
    SessionDescription offer;
    try {
        offer = parse(text);
    } catch (const rtcpeer::Error&) {
        return;
    }
    LocalParameters local = local_parameters();
    try {
        local.setup = answer_setup(offer.setup);
    } catch (const rtcpeer::Error&) {
        return;  // holdconn
    }
    const SessionDescription answer = parse(build_answer(local, offer));
    if (answer.form != offer.form || answer.mid != offer.mid) __builtin_trap();
}

void answer_media(const std::string& text, bool first_byte_odd) {
    SessionDescription offer;
    MediaDescription offer_media;
    LocalParameters local = local_parameters();
    try {
        offer = parse(text, DataChannel::kOptional);
        offer_media = parse_media(text);
        local.setup = answer_setup(offer.setup);
    } catch (const rtcpeer::Error&) {
        return;
    }
    LocalMedia media;
    media.video = LocalTrack{true, first_byte_odd, 1, "v"};
    media.audio = LocalTrack{first_byte_odd, true, 2, "a"};
    media.video_codec = first_byte_odd ? VideoCodec::kH264 : VideoCodec::kVp8;
    media.cname = "fuzz";
    media.stream_id = "fuzz";
    const MediaAnswer answer = build_media_answer(local, media, offer, offer_media);
    const MediaDescription parsed = parse_media(answer.sdp);  // throws (and fails) if malformed
    if (parsed.sections.size() != offer_media.sections.size()) __builtin_trap();
    for (std::size_t i = 0; i < parsed.sections.size(); ++i) {
        if (parsed.sections[i].mid != offer_media.sections[i].mid) __builtin_trap();
    }
    // The answer's tag names a section of the offer; reading its transport
    // succeeds or says why (a bundled section may carry no credentials).
    if (!answer.transport_mid.empty()) {
        try {
            parse(text, DataChannel::kOptional, answer.transport_mid);
        } catch (const rtcpeer::Error&) {
        }
    }
    for (const NegotiatedTrack& track : answer.tracks) {
        if (track.section >= parsed.sections.size()) __builtin_trap();
        const RtpSection& section = parsed.sections[track.section];
        if (section.rejected() || section.codecs.size() != 1 ||
            section.codecs[0].payload_type != track.codec.payload_type) {
            __builtin_trap();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    answer_data_channel(text);
    answer_media(text, (size & 1) != 0);
    return 0;
}
