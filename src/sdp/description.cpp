#include "sdp/description.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "base/error.hpp"
#include "sdp/text.hpp"

namespace rtcpeer::sdp {

namespace {

// A hostile description may carry thousands of candidates; a real one has a
// handful per interface. Past this many the rest are ignored with a warning.
constexpr std::size_t kMaxRemoteCandidates = 64;

[[noreturn]] void invalid(const std::string& why) { throw protocol_error("sdp", why); }

bool is_dtls_sctp(std::string_view proto) {
    return proto == "UDP/DTLS/SCTP" || proto == "TCP/DTLS/SCTP" || proto == "DTLS/SCTP";
}

std::optional<Setup> parse_setup(std::string_view value) {
    if (value == "actpass") return Setup::kActpass;
    if (value == "active") return Setup::kActive;
    if (value == "passive") return Setup::kPassive;
    if (value == "holdconn") return Setup::kHoldconn;
    return std::nullopt;
}

std::size_t digest_size(std::string_view algorithm) {
    if (algorithm == "sha-1") return 20;
    if (algorithm == "sha-224") return 28;
    if (algorithm == "sha-256") return 32;
    if (algorithm == "sha-384") return 48;
    if (algorithm == "sha-512") return 64;
    return 0;
}

// Attributes that may stand at session level and be overridden per media.
struct Level {
    std::optional<std::string> ice_ufrag, ice_pwd;
    std::optional<Setup> setup;
    std::vector<Fingerprint> fingerprints;
    bool trickle = false;
};

struct Section {
    MediaSection media;
    Level level;
    std::optional<std::uint16_t> sctp_port;     // a=sctp-port
    std::optional<std::uint16_t> sctpmap_port;  // a=sctpmap:<port> webrtc-datachannel
    std::optional<std::size_t> max_message_size;
    std::vector<std::string> candidate_lines;
    bool end_of_candidates = false;
};

void parse_attribute(std::string_view line, Level& level, Section* section,
                     std::vector<std::string>& bundle, bool& ice_lite) {
    std::string_view name = line, value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
        name = line.substr(0, colon);
        value = line.substr(colon + 1);
    }
    if (name == "ice-ufrag" || name == "ice-pwd") {
        if (!text::is_token(value) || value.size() > 256) invalid("bad a=" + std::string(name));
        (name == "ice-ufrag" ? level.ice_ufrag : level.ice_pwd) = std::string(value);
    } else if (name == "fingerprint") {
        auto fingerprint = parse_fingerprint(value);
        if (!fingerprint) invalid("bad a=fingerprint \"" + text::printable(value, 120) + "\"");
        level.fingerprints.push_back(std::move(*fingerprint));
    } else if (name == "setup") {
        auto setup = parse_setup(value);
        if (!setup) invalid("bad a=setup \"" + text::printable(value, 40) + "\"");
        level.setup = setup;
    } else if (name == "ice-options") {
        for (auto option : text::split_words(value)) {
            if (option == "trickle") level.trickle = true;
        }
    } else if (name == "ice-lite") {
        ice_lite = true;
    } else if (name == "group" && section == nullptr) {
        auto words = text::split_words(value);
        if (!words.empty() && words[0] == "BUNDLE") {
            bundle.assign(words.begin() + 1, words.end());
        }
    } else if (section == nullptr) {
        return;
    } else if (name == "mid") {
        if (!text::is_token(value) || value.size() > 256) invalid("bad a=mid");
        section->media.mid = std::string(value);
    } else if (name == "sctp-port") {
        auto port = text::parse_unsigned<std::uint16_t>(value);
        if (!port || *port == 0) invalid("bad a=sctp-port \"" + text::printable(value, 40) + "\"");
        section->sctp_port = port;
    } else if (name == "sctpmap") {
        auto words = text::split_words(value);
        if (words.size() < 2 || !text::parse_unsigned<std::uint16_t>(words[0])) {
            invalid("bad a=sctpmap \"" + text::printable(value, 80) + "\"");
        }
        if (words[1] == "webrtc-datachannel") {
            section->sctpmap_port = text::parse_unsigned<std::uint16_t>(words[0]);
        }
    } else if (name == "max-message-size") {
        auto size = text::parse_unsigned<std::uint64_t>(value);
        if (!size) invalid("bad a=max-message-size \"" + text::printable(value, 40) + "\"");
        // RFC 8841 §6: zero means the peer takes messages of any size.
        section->max_message_size =
            *size == 0 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(*size);
    } else if (name == "candidate") {
        section->candidate_lines.emplace_back(value);
    } else if (name == "end-of-candidates") {
        section->end_of_candidates = true;
    }
}

MediaSection parse_media_line(std::string_view value) {
    auto words = text::split_words(value);
    if (words.size() < 4) invalid("bad m= line \"" + text::printable(value, 80) + "\"");
    MediaSection media;
    media.media = words[0];
    // "<port>/<count>" is allowed by RFC 4566; only the port matters here.
    std::string_view port = words[1].substr(0, words[1].find('/'));
    auto parsed_port = text::parse_unsigned<std::uint16_t>(port);
    if (!parsed_port) invalid("bad port in m= line \"" + text::printable(value, 80) + "\"");
    media.port = *parsed_port;
    media.proto = words[2];
    for (std::size_t i = 3; i < words.size(); ++i) media.formats.emplace_back(words[i]);
    return media;
}

}  // namespace

const char* to_string(Setup setup) {
    switch (setup) {
        case Setup::kActpass:
            return "actpass";
        case Setup::kActive:
            return "active";
        case Setup::kPassive:
            return "passive";
        case Setup::kHoldconn:
            return "holdconn";
    }
    return "actpass";
}

Setup answer_setup(Setup offered) {
    switch (offered) {
        case Setup::kActpass:
        case Setup::kPassive:
            return Setup::kActive;
        case Setup::kActive:
            return Setup::kPassive;
        case Setup::kHoldconn:
            break;
    }
    invalid("the offer says a=setup:holdconn; there is no connection to answer");
}

std::string to_string(const Fingerprint& fingerprint) {
    std::string out = fingerprint.algorithm + " ";
    char hex[4];
    for (std::size_t i = 0; i < fingerprint.digest.size(); ++i) {
        std::snprintf(hex, sizeof hex, i == 0 ? "%02X" : ":%02X", fingerprint.digest[i]);
        out += hex;
    }
    return out;
}

std::optional<Fingerprint> parse_fingerprint(std::string_view value) {
    auto words = text::split_words(value);
    if (words.size() != 2) return std::nullopt;
    Fingerprint fingerprint;
    for (char c : words[0]) {
        fingerprint.algorithm += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    const std::size_t size = digest_size(fingerprint.algorithm);
    std::string_view hex = words[1];
    if (size == 0 || hex.size() != size * 3 - 1) return std::nullopt;
    for (std::size_t i = 0; i < size; ++i) {
        if (i > 0 && hex[i * 3 - 1] != ':') return std::nullopt;
        const std::optional<std::uint32_t> byte = text::parse_hex(hex.substr(i * 3, 2));
        if (!byte) return std::nullopt;
        fingerprint.digest.push_back(static_cast<std::uint8_t>(*byte));
    }
    return fingerprint;
}

SessionDescription parse(std::string_view sdp) { return parse(sdp, DataChannel::kRequired); }

SessionDescription parse(std::string_view sdp, DataChannel data_channel,
                         std::optional<std::string_view> transport_mid) {
    SessionDescription out;
    Level session;
    std::vector<Section> sections;
    bool first = true;

    std::size_t line_number = 0;
    while (!sdp.empty()) {
        std::size_t end = sdp.find('\n');
        std::string_view line = sdp.substr(0, end);
        sdp.remove_prefix(end == std::string_view::npos ? sdp.size() : end + 1);
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) continue;
        if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
            invalid("line " + std::to_string(line_number) + " is not <type>=<value>");
        }
        if (first && line != "v=0") invalid("does not start with v=0");
        first = false;
        const char kind = line[0];
        std::string_view value = line.substr(2);
        if (kind == 'm') {
            sections.push_back(Section{parse_media_line(value), {}, {}, {}, {}, {}, {}});
        } else if (kind == 'a') {
            Section* section = sections.empty() ? nullptr : &sections.back();
            parse_attribute(value, section ? section->level : session, section, out.bundle,
                            out.ice_lite);
        }
    }
    if (first) invalid("empty description");

    auto data = std::find_if(sections.begin(), sections.end(), [](const Section& s) {
        return s.media.media == "application" && is_dtls_sctp(s.media.proto);
    });
    const bool optional = data_channel == DataChannel::kOptional;
    if (data != sections.end() && data->media.port == 0 && optional) {
        data = sections.end();  // a rejected data channel is no data channel
    }
    // Where the ICE and DTLS parameters are read: the data section, or in
    // the optional mode the section every bundled one shares (RFC 8843).
    auto transport = data;
    if (optional) {
        auto with_mid = [&](std::string_view mid) {
            return std::find_if(sections.begin(), sections.end(), [&](const Section& s) {
                return s.media.port != 0 && s.media.mid && *s.media.mid == mid;
            });
        };
        if (transport_mid) {
            transport = with_mid(*transport_mid);
            if (transport == sections.end()) {
                invalid("no m= section with mid \"" + text::printable(*transport_mid, 40) +
                        "\" to take the transport from");
            }
        } else if (!out.bundle.empty() && with_mid(out.bundle.front()) != sections.end()) {
            transport = with_mid(out.bundle.front());
        } else if (transport == sections.end()) {
            transport = std::find_if(sections.begin(), sections.end(),
                                     [](const Section& s) { return s.media.port != 0; });
            if (transport == sections.end()) invalid("every m= section is rejected (port 0)");
        }
        if (data == sections.end()) {
            out.has_data_channel = false;
            data = transport;
        }
    }
    if (data == sections.end()) invalid("no data-channel (application DTLS/SCTP) m= section");
    if (data->media.port == 0) invalid("the data-channel m= section is rejected (port 0)");

    for (const Section& s : sections) out.media.push_back(s.media);
    out.data_index = static_cast<std::size_t>(data - sections.begin());
    out.mid = data->media.mid.value_or(std::to_string(out.data_index));

    if (!out.has_data_channel) {
        // No SCTP parameters to read.
    } else if (data->media.proto == "DTLS/SCTP") {
        out.form = SctpForm::kLegacySctpmap;
        auto port = data->sctpmap_port;
        if (!port && !data->media.formats.empty()) {
            port = text::parse_unsigned<std::uint16_t>(data->media.formats[0]);
        }
        if (!port || *port == 0) invalid("legacy DTLS/SCTP m= section without an SCTP port");
        out.sctp_port = *port;
    } else {
        out.form = SctpForm::kRfc8841;
        if (std::find(data->media.formats.begin(), data->media.formats.end(),
                      "webrtc-datachannel") == data->media.formats.end()) {
            invalid("m= section does not offer webrtc-datachannel");
        }
        out.sctp_port = data->sctp_port.value_or(kDefaultSctpPort);
    }
    out.max_message_size = data->max_message_size;

    out.transport_index = static_cast<std::size_t>(transport - sections.begin());
    out.transport_mid = transport->media.mid.value_or(std::to_string(out.transport_index));
    const Level& media = transport->level;
    out.ice_ufrag = media.ice_ufrag.value_or(session.ice_ufrag.value_or(""));
    out.ice_pwd = media.ice_pwd.value_or(session.ice_pwd.value_or(""));
    if (out.ice_ufrag.empty()) invalid("no a=ice-ufrag");
    if (out.ice_pwd.empty()) invalid("no a=ice-pwd");
    out.setup = media.setup.value_or(session.setup.value_or(Setup::kActpass));
    out.trickle = media.trickle || session.trickle;
    out.fingerprints = media.fingerprints;
    out.fingerprints.insert(out.fingerprints.end(), session.fingerprints.begin(),
                            session.fingerprints.end());
    if (out.fingerprints.empty()) invalid("no a=fingerprint");

    out.end_of_candidates = transport->end_of_candidates;
    for (const std::string& line : transport->candidate_lines) {
        if (out.candidates.size() >= kMaxRemoteCandidates) {
            out.warnings.push_back("more than " + std::to_string(kMaxRemoteCandidates) +
                                   " candidates; the rest are ignored");
            break;
        }
        try {
            Candidate candidate = parse_candidate(line);
            if (candidate.component == 1) out.candidates.push_back(std::move(candidate));
        } catch (const Error& failure) {
            out.warnings.push_back(std::string(failure.what()) + "; ignored");
        }
    }
    return out;
}

namespace detail {

// m= port and c= line from the best candidate, or the RFC 8840 placeholder.
std::string connection_lines(const LocalParameters& local, const std::string& m_prefix,
                             const std::string& m_suffix) {
    const Candidate* best = nullptr;
    for (const Candidate& c : local.candidates) {
        if (c.is_udp() && !c.has_hostname() && (!best || c.priority > best->priority)) best = &c;
    }
    std::string port = best ? std::to_string(best->port) : "9";
    std::string address = best ? best->address : "0.0.0.0";
    const char* family = address.find(':') != std::string::npos ? "IP6" : "IP4";
    return m_prefix + port + " " + m_suffix + "\r\nc=IN " + family + " " + address + "\r\n";
}

std::string transport_lines(const LocalParameters& local, Setup setup) {
    std::string out;
    for (const Candidate& c : local.candidates) out += "a=candidate:" + to_string(c) + "\r\n";
    if (local.end_of_candidates) out += "a=end-of-candidates\r\n";
    out += "a=ice-ufrag:" + local.ice_ufrag + "\r\n";
    out += "a=ice-pwd:" + local.ice_pwd + "\r\n";
    out += "a=ice-options:trickle\r\n";
    out += "a=fingerprint:" + to_string(local.fingerprint) + "\r\n";
    out += std::string("a=setup:") + to_string(setup) + "\r\n";
    return out;
}

std::string session_lines(const LocalParameters& local, const std::string& bundle) {
    std::string out = "v=0\r\no=- " + std::to_string(local.session_id) +
                      " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    if (!bundle.empty()) out += "a=group:BUNDLE " + bundle + "\r\n";
    out += "a=msid-semantic:WMS *\r\n";
    return out;
}

std::string data_section_answer(const LocalParameters& local, const MediaSection& m,
                                SctpForm form) {
    std::string out;
    const std::string port = std::to_string(local.sctp_port);
    if (form == SctpForm::kLegacySctpmap) {
        out += connection_lines(local, "m=application ", "DTLS/SCTP " + port);
        if (m.mid) out += "a=mid:" + *m.mid + "\r\n";
        out += "a=sctpmap:" + port + " webrtc-datachannel 65535\r\n";
    } else {
        out += connection_lines(local, "m=application ", m.proto + " webrtc-datachannel");
        if (m.mid) out += "a=mid:" + *m.mid + "\r\n";
        out += "a=sctp-port:" + port + "\r\n";
    }
    out += "a=max-message-size:" + std::to_string(local.max_message_size) + "\r\n";
    out += transport_lines(local, local.setup);
    return out;
}

}  // namespace detail

using detail::connection_lines;
using detail::session_lines;
using detail::transport_lines;

std::string build_offer(const LocalParameters& local) {
    std::string out = session_lines(local, "0");
    out += connection_lines(local, "m=application ", "UDP/DTLS/SCTP webrtc-datachannel");
    out += "a=mid:0\r\n";
    out += "a=sctp-port:" + std::to_string(local.sctp_port) + "\r\n";
    out += "a=max-message-size:" + std::to_string(local.max_message_size) + "\r\n";
    out += transport_lines(local, Setup::kActpass);
    return out;
}

std::string build_answer(const LocalParameters& local, const SessionDescription& offer) {
    const bool bundled =
        std::find(offer.bundle.begin(), offer.bundle.end(), offer.mid) != offer.bundle.end();
    std::string out = session_lines(local, bundled ? offer.mid : "");
    for (std::size_t i = 0; i < offer.media.size(); ++i) {
        const MediaSection& m = offer.media[i];
        if (i != offer.data_index) {
            // JSEP §5.3.1: a section we do not take is answered with port 0.
            out += "m=" + m.media + " 0 " + m.proto;
            for (const auto& format : m.formats) out += " " + format;
            out += "\r\nc=IN IP4 0.0.0.0\r\n";
            if (m.mid) out += "a=mid:" + *m.mid + "\r\n";
            continue;
        }
        out += detail::data_section_answer(local, m, offer.form);
    }
    return out;
}

}  // namespace rtcpeer::sdp
