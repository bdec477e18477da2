// Codec choice (sdp/codecs.hpp): the names of the codecs rtcpeer can
// forward, which offered codec fits what the command line asked for, and
// what rtcpeer offers itself for each.
#include "sdp/codecs.hpp"

#include "sdp/text.hpp"

namespace rtcpeer::sdp {

const char* to_string(VideoCodec codec) {
    switch (codec) {
        case VideoCodec::kVp8:
            return "vp8";
        case VideoCodec::kVp9:
            return "vp9";
        case VideoCodec::kH264:
            return "h264";
        case VideoCodec::kAv1:
            return "av1";
    }
    return "vp8";
}

const char* to_string(AudioCodec codec) {
    switch (codec) {
        case AudioCodec::kOpus:
            return "opus";
        case AudioCodec::kPcmu:
            return "pcmu";
        case AudioCodec::kPcma:
            return "pcma";
        case AudioCodec::kG722:
            return "g722";
    }
    return "opus";
}

std::optional<VideoCodec> parse_video_codec(std::string_view name) {
    for (auto c : {VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264, VideoCodec::kAv1}) {
        if (text::iequals(name, to_string(c))) return c;
    }
    return std::nullopt;
}

std::optional<AudioCodec> parse_audio_codec(std::string_view name) {
    for (auto c : {AudioCodec::kOpus, AudioCodec::kPcmu, AudioCodec::kPcma, AudioCodec::kG722}) {
        if (text::iequals(name, to_string(c))) return c;
    }
    return std::nullopt;
}

// What rtcpeer answers NACKs and keyframe requests with, and asks with.
const char* const kVideoFeedback[3] = {"nack", "nack pli", "ccm fir"};

namespace {

Codec make_codec(std::uint8_t pt, const char* name, std::uint32_t clock, std::uint8_t channels,
                 std::vector<std::pair<std::string, std::string>> parameters) {
    Codec c;
    c.payload_type = pt;
    c.name = name;
    c.clock_rate = clock;
    c.channels = channels;
    c.parameters = std::move(parameters);
    return c;
}

// profile_idc of an H.264 profile-level-id (RFC 6184 §8.1), 0x42 (baseline)
// when absent; nullopt when malformed.
std::optional<unsigned> h264_profile(const Codec& c, unsigned* iop) {
    std::string_view id = c.parameter("profile-level-id").value_or("42000a");
    if (id.size() != 6) return std::nullopt;
    const std::optional<std::uint32_t> value = text::parse_hex(id);
    if (!value) return std::nullopt;
    if (iop) *iop = (*value >> 8) & 0xff;
    return *value >> 16;
}

// How well an offered codec fits what is wanted: 0 is best, nullopt none.
std::optional<int> video_rank(const Codec& c, VideoCodec want) {
    if (c.clock_rate != 90000) return std::nullopt;
    switch (want) {
        case VideoCodec::kVp8:
            if (text::iequals(c.name, "VP8")) return 0;
            return std::nullopt;
        case VideoCodec::kVp9:
            if (text::iequals(c.name, "VP9") && c.parameter("profile-id").value_or("0") == "0")
                return 0;
            return std::nullopt;
        case VideoCodec::kAv1:
            if (text::iequals(c.name, "AV1") && c.parameter("profile").value_or("0") == "0")
                return 0;
            return std::nullopt;
        case VideoCodec::kH264: {
            if (!text::iequals(c.name, "H264")) return std::nullopt;
            if (c.parameter("packetization-mode").value_or("0") != "1") return std::nullopt;
            unsigned iop = 0;
            auto profile = h264_profile(c, &iop);
            // Baseline: what ffmpeg's libx264 -profile:v baseline sends is
            // constrained baseline (42e0), which a baseline decoder takes.
            if (!profile || *profile != 0x42) return std::nullopt;
            return (iop & 0x40) != 0 ? 0 : 1;  // constraint_set1: constrained baseline first
        }
    }
    return std::nullopt;
}

std::optional<int> audio_rank(const Codec& c, AudioCodec want) {
    switch (want) {
        case AudioCodec::kOpus:
            if (text::iequals(c.name, "opus") && c.clock_rate == 48000) return 0;
            return std::nullopt;
        case AudioCodec::kPcmu:
            if (text::iequals(c.name, "PCMU") && c.clock_rate == 8000) return 0;
            return std::nullopt;
        case AudioCodec::kPcma:
            if (text::iequals(c.name, "PCMA") && c.clock_rate == 8000) return 0;
            return std::nullopt;
        case AudioCodec::kG722:
            if (text::iequals(c.name, "G722") && c.clock_rate == 8000) return 0;
            return std::nullopt;
    }
    return std::nullopt;
}

std::optional<int> rank(const Codec& c, MediaKind kind, const LocalMedia& media) {
    if (kind == MediaKind::kVideo) return video_rank(c, media.video_codec);
    if (kind == MediaKind::kAudio) return audio_rank(c, media.audio_codec);
    return std::nullopt;
}

}  // namespace

const Codec* choose_codec(const RtpSection& s, const LocalMedia& media) {
    const Codec* best = nullptr;
    int best_rank = 0;
    for (const Codec& c : s.codecs) {
        auto r = rank(c, s.kind, media);
        if (r && (!best || *r < best_rank)) {
            best = &c;
            best_rank = *r;
        }
    }
    return best;
}

Codec offered_codec(VideoCodec codec) {
    Codec c;
    switch (codec) {
        case VideoCodec::kVp8:
            c = make_codec(96, "VP8", 90000, 1, {});
            break;
        case VideoCodec::kVp9:
            c = make_codec(98, "VP9", 90000, 1, {{"profile-id", "0"}});
            break;
        case VideoCodec::kH264:
            c = make_codec(102, "H264", 90000, 1,
                           {{"level-asymmetry-allowed", "1"},
                            {"packetization-mode", "1"},
                            {"profile-level-id", "42e01f"}});
            break;
        case VideoCodec::kAv1:
            c = make_codec(45, "AV1", 90000, 1, {});
            break;
    }
    for (const char* feedback : kVideoFeedback) c.feedback.emplace_back(feedback);
    return c;
}

Codec offered_codec(AudioCodec codec) {
    switch (codec) {
        case AudioCodec::kOpus:
            return make_codec(111, "opus", 48000, 2, {{"minptime", "10"}, {"useinbandfec", "1"}});
        case AudioCodec::kPcmu:
            return make_codec(0, "PCMU", 8000, 1, {});
        case AudioCodec::kPcma:
            return make_codec(8, "PCMA", 8000, 1, {});
        case AudioCodec::kG722:
            return make_codec(9, "G722", 8000, 1, {});
    }
    return make_codec(111, "opus", 48000, 2, {});
}

}  // namespace rtcpeer::sdp
