#include "sdp/media.hpp"

#include <algorithm>

#include "base/error.hpp"
#include "sdp/text.hpp"

namespace rtcpeer::sdp {

namespace {

// Bounds for hostile descriptions, each well above what real stacks send:
// Chromium's video section has 34 payload types, 12 extensions, 4 SSRCs
// and 6 feedback lines per codec; pion repeats feedback lines.
constexpr std::size_t kMaxLine = 4096;
constexpr std::size_t kMaxSections = 32;
constexpr std::size_t kMaxFormats = 128;
constexpr std::size_t kMaxFeedback = 32;
constexpr std::size_t kMaxParameters = 32;
constexpr std::size_t kMaxExtmaps = 64;
constexpr std::size_t kMaxSsrcs = 64;
constexpr std::size_t kMaxSsrcGroups = 32;
constexpr std::size_t kMaxText = 256;

[[noreturn]] void invalid(const std::string& why) { throw protocol_error("sdp", why); }

[[noreturn]] void bad_line(std::string_view name, std::string_view value) {
    invalid("bad a=" + std::string(name) + " \"" + text::printable(value, 80) + "\"");
}

std::optional<Direction> parse_direction(std::string_view name) {
    if (name == "sendrecv") return Direction::kSendrecv;
    if (name == "sendonly") return Direction::kSendonly;
    if (name == "recvonly") return Direction::kRecvonly;
    if (name == "inactive") return Direction::kInactive;
    return std::nullopt;
}

MediaKind kind_of(std::string_view media) {
    if (media == "audio") return MediaKind::kAudio;
    if (media == "video") return MediaKind::kVideo;
    if (media == "application") return MediaKind::kApplication;
    return MediaKind::kOther;
}

bool is_rtp(std::string_view proto) { return proto.find("RTP/") != std::string_view::npos; }

std::string bounded(std::string_view value, std::string_view what) {
    if (value.size() > kMaxText) invalid(std::string(what) + " longer than 256 characters");
    return std::string(value);
}

// "<pt> <rest>": the payload type of an rtpmap, fmtp or rtcp-fb line.
std::pair<std::optional<std::uint8_t>, std::string_view> split_payload_type(
    std::string_view name, std::string_view value) {
    const std::size_t space = value.find(' ');
    std::string_view pt = value.substr(0, space);
    std::string_view rest =
        space == std::string_view::npos ? std::string_view{} : value.substr(space + 1);
    if (pt == "*") return {std::nullopt, rest};
    auto parsed = text::parse_unsigned<std::uint8_t>(pt, 127);
    if (!parsed) bad_line(name, value);
    return {parsed, rest};
}

struct Builder {
    RtpSection section;
    std::vector<std::string> wildcard_feedback;  // a=rtcp-fb:* lines
    std::size_t ssrc_lines = 0;

    Codec* codec(std::uint8_t pt) {
        for (Codec& c : section.codecs) {
            if (c.payload_type == pt) return &c;
        }
        return nullptr;  // not in the m= line: the attribute is ignored
    }

    SsrcLine& ssrc(std::uint32_t value) {
        for (SsrcLine& s : section.ssrcs) {
            if (s.ssrc == value) return s;
        }
        if (section.ssrcs.size() >= kMaxSsrcs) invalid("more than 64 SSRCs in one m= section");
        section.ssrcs.push_back(SsrcLine{value, {}, {}});
        return section.ssrcs.back();
    }
};

RtpSection start_section(std::string_view value, std::size_t index) {
    auto words = text::split_words(value);
    if (words.size() < 4) invalid("bad m= line \"" + text::printable(value, 80) + "\"");
    RtpSection s;
    s.media = bounded(words[0], "m= media");
    s.kind = kind_of(words[0]);
    auto port = text::parse_unsigned<std::uint16_t>(words[1].substr(0, words[1].find('/')));
    if (!port) invalid("bad port in m= line \"" + text::printable(value, 80) + "\"");
    s.port = *port;
    s.proto = bounded(words[2], "m= proto");
    if (words.size() - 3 > kMaxFormats) invalid("more than 128 formats in one m= line");
    const bool rtp = is_rtp(words[2]);
    for (std::size_t i = 3; i < words.size(); ++i) {
        s.formats.push_back(bounded(words[i], "m= format"));
        if (!rtp) continue;
        auto pt = text::parse_unsigned<std::uint8_t>(words[i], 127);
        if (!pt) invalid("bad payload type \"" + text::printable(words[i], 20) + "\" in m= line");
        if (s.codec(*pt) != nullptr) continue;
        Codec codec;
        codec.payload_type = *pt;
        // RFC 3551's static payload types that WebRTC stacks still use.
        if (*pt == 0) codec.name = "PCMU";
        if (*pt == 8) codec.name = "PCMA";
        if (*pt == 9) codec.name = "G722";
        if (!codec.name.empty()) codec.clock_rate = 8000;
        s.codecs.push_back(std::move(codec));
    }
    s.mid = std::to_string(index);
    return s;
}

void parse_media_attribute(std::string_view line, Builder& b) {
    std::string_view name = line, value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
        name = line.substr(0, colon);
        value = line.substr(colon + 1);
    }
    RtpSection& s = b.section;
    if (auto direction = parse_direction(name)) {
        s.direction = *direction;
    } else if (name == "mid") {
        if (!text::is_token(value) || value.size() > kMaxText) invalid("bad a=mid");
        s.mid = std::string(value);
    } else if (name == "rtcp-mux") {
        s.rtcp_mux = true;
    } else if (name == "rtcp-rsize") {
        s.rtcp_rsize = true;
    } else if (name == "msid") {
        s.msid = bounded(value, "a=msid");
    } else if (name == "rtpmap") {
        auto [pt, rest] = split_payload_type(name, value);
        if (!pt) bad_line(name, value);
        // <encoding name>/<clock rate>[/<channels>]
        const std::size_t slash = rest.find('/');
        if (slash == 0 || slash == std::string_view::npos) bad_line(name, value);
        std::string_view encoding = rest.substr(0, slash);
        std::string_view clock = rest.substr(slash + 1);
        std::string_view channels;
        if (auto second = clock.find('/'); second != std::string_view::npos) {
            channels = clock.substr(second + 1);
            clock = clock.substr(0, second);
        }
        auto rate = text::parse_unsigned<std::uint32_t>(clock);
        if (!text::is_token(encoding) || encoding.size() > 64 || !rate || *rate == 0) {
            bad_line(name, value);
        }
        std::uint8_t count = 1;
        if (!channels.empty()) {
            auto parsed = text::parse_unsigned<std::uint8_t>(channels);
            if (!parsed || *parsed == 0) bad_line(name, value);
            count = *parsed;
        }
        if (Codec* codec = b.codec(*pt)) {
            codec->name = std::string(encoding);
            codec->clock_rate = *rate;
            codec->channels = count;
        }
    } else if (name == "fmtp") {
        auto [pt, rest] = split_payload_type(name, value);
        if (!pt) bad_line(name, value);
        Codec* codec = b.codec(*pt);
        if (codec == nullptr) return;
        if (rest.size() > 1024) bad_line(name, value);
        codec->parameters.clear();
        while (!rest.empty()) {
            const std::size_t semicolon = rest.find(';');
            std::string_view item = rest.substr(0, semicolon);
            rest = semicolon == std::string_view::npos ? std::string_view{}
                                                       : rest.substr(semicolon + 1);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
            if (item.empty()) continue;
            if (codec->parameters.size() >= kMaxParameters) bad_line(name, value);
            const std::size_t equals = item.find('=');
            std::string key(item.substr(0, equals));
            std::string val(equals == std::string_view::npos ? std::string_view{}
                                                             : item.substr(equals + 1));
            if (key == "apt") {
                auto apt = text::parse_unsigned<std::uint8_t>(val, 127);
                if (!apt) bad_line(name, value);
                codec->apt = apt;
            }
            codec->parameters.emplace_back(std::move(key), std::move(val));
        }
    } else if (name == "rtcp-fb") {
        auto [pt, rest] = split_payload_type(name, value);
        // pion ends "nack " with a space; the words are what count.
        std::string feedback;
        for (auto word : text::split_words(rest)) {
            if (!feedback.empty()) feedback += ' ';
            feedback += word;
        }
        if (feedback.empty() || feedback.size() > 64) bad_line(name, value);
        std::vector<std::string>* list = &b.wildcard_feedback;
        if (pt) {
            Codec* codec = b.codec(*pt);
            if (codec == nullptr) return;
            list = &codec->feedback;
        }
        if (std::find(list->begin(), list->end(), feedback) != list->end()) return;
        if (list->size() >= kMaxFeedback) invalid("more than 32 a=rtcp-fb lines for one codec");
        list->push_back(std::move(feedback));
    } else if (name == "extmap") {
        auto words = text::split_words(value);
        if (words.size() < 2) bad_line(name, value);
        // <id>[/<direction>] <uri> [<attributes>]
        auto id = text::parse_unsigned<std::uint16_t>(words[0].substr(0, words[0].find('/')));
        if (!id) bad_line(name, value);
        if (*id == 0 || *id > 255) return;  // not an id an RTP packet can carry
        if (s.extmaps.size() >= kMaxExtmaps) invalid("more than 64 a=extmap lines in one section");
        s.extmaps.push_back(Extmap{*id, bounded(words[1], "a=extmap URI")});
    } else if (name == "ssrc") {
        const std::size_t space = value.find(' ');
        auto ssrc = text::parse_unsigned<std::uint32_t>(value.substr(0, space));
        if (!ssrc) bad_line(name, value);
        if (++b.ssrc_lines > 4 * kMaxSsrcs) invalid("too many a=ssrc lines in one section");
        SsrcLine& line = b.ssrc(*ssrc);
        if (space == std::string_view::npos) return;
        std::string_view attribute = value.substr(space + 1);
        if (attribute.rfind("cname:", 0) == 0) line.cname = bounded(attribute.substr(6), "cname");
        if (attribute.rfind("msid:", 0) == 0) line.msid = bounded(attribute.substr(5), "msid");
    } else if (name == "ssrc-group") {
        auto words = text::split_words(value);
        if (words.empty()) bad_line(name, value);
        if (words[0] != "FID") return;
        if (words.size() != 3) bad_line(name, value);
        auto media = text::parse_unsigned<std::uint32_t>(words[1]);
        auto rtx = text::parse_unsigned<std::uint32_t>(words[2]);
        if (!media || !rtx) bad_line(name, value);
        if (s.fid_groups.size() >= kMaxSsrcGroups) invalid("too many a=ssrc-group lines");
        s.fid_groups.emplace_back(*media, *rtx);
    }
}

void finish(Builder& b, std::vector<RtpSection>& out) {
    for (Codec& codec : b.section.codecs) {
        for (const std::string& feedback : b.wildcard_feedback) {
            if (!codec.has_feedback(feedback) && codec.feedback.size() < kMaxFeedback) {
                codec.feedback.push_back(feedback);
            }
        }
    }
    out.push_back(std::move(b.section));
}

}  // namespace

const char* to_string(MediaKind kind) {
    switch (kind) {
        case MediaKind::kAudio:
            return "audio";
        case MediaKind::kVideo:
            return "video";
        case MediaKind::kApplication:
            return "application";
        case MediaKind::kOther:
            break;
    }
    return "other";
}

const char* to_string(Direction direction) {
    switch (direction) {
        case Direction::kSendrecv:
            return "sendrecv";
        case Direction::kSendonly:
            return "sendonly";
        case Direction::kRecvonly:
            return "recvonly";
        case Direction::kInactive:
            break;
    }
    return "inactive";
}

Direction make_direction(bool send, bool receive) {
    if (send && receive) return Direction::kSendrecv;
    if (send) return Direction::kSendonly;
    if (receive) return Direction::kRecvonly;
    return Direction::kInactive;
}

bool sends(Direction d) { return d == Direction::kSendrecv || d == Direction::kSendonly; }
bool receives(Direction d) { return d == Direction::kSendrecv || d == Direction::kRecvonly; }
Direction reverse(Direction d) { return make_direction(receives(d), sends(d)); }

std::optional<std::string_view> Codec::parameter(std::string_view key) const {
    for (const auto& [k, v] : parameters) {
        if (text::iequals(k, key)) return std::string_view(v);
    }
    return std::nullopt;
}

bool Codec::has_feedback(std::string_view value) const {
    return std::find(feedback.begin(), feedback.end(), value) != feedback.end();
}

std::string Codec::fmtp() const {
    std::string out;
    for (const auto& [k, v] : parameters) {
        if (!out.empty()) out += ';';
        out += k;
        if (!v.empty()) out += "=" + v;
    }
    return out;
}

bool RtpSection::is_rtp() const { return sdp::is_rtp(proto); }

const Codec* RtpSection::codec(std::uint8_t payload_type) const {
    for (const Codec& c : codecs) {
        if (c.payload_type == payload_type) return &c;
    }
    return nullptr;
}

std::optional<std::uint8_t> RtpSection::rtx_for(std::uint8_t payload_type) const {
    for (const Codec& c : codecs) {
        if (text::iequals(c.name, "rtx") && c.apt == payload_type) return c.payload_type;
    }
    return std::nullopt;
}

std::optional<std::uint16_t> RtpSection::extmap_id(std::string_view uri) const {
    for (const Extmap& e : extmaps) {
        if (e.uri == uri) return e.id;
    }
    return std::nullopt;
}

const RtpSection* MediaDescription::first(MediaKind kind) const {
    for (const RtpSection& s : sections) {
        if (s.kind == kind && !s.rejected()) return &s;
    }
    return nullptr;
}

MediaDescription parse_media(std::string_view sdp) {
    MediaDescription out;
    std::optional<Builder> current;
    Direction session_direction = Direction::kSendrecv;
    while (!sdp.empty()) {
        const std::size_t end = sdp.find('\n');
        std::string_view line = sdp.substr(0, end);
        sdp.remove_prefix(end == std::string_view::npos ? sdp.size() : end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) continue;
        if (line.size() > kMaxLine) invalid("a line longer than 4096 characters");
        if (line.size() < 2 || line[1] != '=') invalid("a line is not <type>=<value>");
        std::string_view value = line.substr(2);
        if (line[0] == 'm') {
            if (current) finish(*current, out.sections);
            if (out.sections.size() >= kMaxSections) invalid("more than 32 m= sections");
            current.emplace();
            current->section = start_section(value, out.sections.size());
            current->section.direction = session_direction;
        } else if (line[0] == 'a') {
            if (current) {
                parse_media_attribute(value, *current);
                continue;
            }
            if (auto direction = parse_direction(value)) session_direction = *direction;
            if (value.rfind("group:", 0) == 0) {
                auto words = text::split_words(value.substr(6));
                if (!words.empty() && words[0] == "BUNDLE") {
                    if (words.size() > kMaxSections + 1) invalid("BUNDLE group too large");
                    out.bundle.clear();
                    for (std::size_t i = 1; i < words.size(); ++i) {
                        out.bundle.push_back(bounded(words[i], "BUNDLE mid"));
                    }
                }
            }
        }
    }
    if (current) finish(*current, out.sections);
    return out;
}

}  // namespace rtcpeer::sdp
