// The Connection's negotiation: the local description and candidates, the
// remote's description and candidates (peer/connection.hpp).
#include <cstdio>
#include <random>

#include "base/log.hpp"
#include "peer/connection.hpp"
#include "sdp/text.hpp"

namespace rtcpeer::peer {

namespace {

std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", seconds);
    return text;
}

std::uint64_t random_session_id() {
    std::random_device random;
    // RFC 8866 §5.2: a numeric id; keep it below 2^62 like browsers.
    return ((static_cast<std::uint64_t>(random()) << 32) | random()) & ((1ULL << 62) - 1);
}

}  // namespace

void Connection::send_local_description() {
    sdp::LocalParameters local;
    const ice::Credentials credentials = ice_->local_credentials();
    local.ice_ufrag = credentials.ufrag;
    local.ice_pwd = credentials.pwd;
    local.fingerprint = certificate_.fingerprint();
    local.session_id = random_session_id();
    local.sctp_port = config_.sctp_port;
    // Without trickle the description carries every candidate; with trickle
    // it goes out at once and each candidate follows as a message.
    if (!config_.trickle) {
        local.candidates = local_candidates_;
        local.end_of_candidates = true;
    }
    local_description_sent_ = true;
    if (config_.offerer) {
        callbacks_.on_local_description(
            DescriptionType::kOffer, offers_media() ? sdp::build_media_offer(local, *config_.media)
                                                    : sdp::build_offer(local));
    } else {
        local.setup = sdp::answer_setup(remote_->setup);
        callbacks_.on_local_description(DescriptionType::kAnswer, local_answer(local));
    }
    if (config_.trickle) {
        for (const sdp::Candidate& candidate : local_candidates_) send_candidate(candidate);
    }
}

bool Connection::offers_media() const {
    return config_.media && (config_.media->audio.wanted() || config_.media->video.wanted() ||
                             !config_.media->data_channel);
}

// What the answer says; it is built twice, once when the offer comes (to
// learn the tracks and the transport) and once to be sent, with the same
// result but for candidates.
std::string Connection::local_answer(sdp::LocalParameters& local) {
    const sdp::LocalMedia media = config_.media.value_or(sdp::LocalMedia{});
    const sdp::MediaAnswer answer =
        sdp::build_media_answer(local, media, *remote_, sdp::parse_media(offer_text_));
    return answer.sdp;
}

void Connection::send_candidate(const sdp::Candidate& candidate) {
    // Every section is bundled on the transport's: its mid.
    const std::string mid = remote_ ? remote_->transport_mid : "0";
    const int index = remote_ ? static_cast<int>(remote_->transport_index) : 0;
    callbacks_.on_local_candidate(sdp::to_string(candidate), mid, index);
}

void Connection::on_local_candidate(const sdp::Candidate& candidate) {
    log::state("local candidate " + sdp::to_string(candidate));
    local_candidates_.push_back(candidate);
    if (config_.trickle && local_description_sent_) send_candidate(candidate);
}

void Connection::on_gathering_done() {
    if (callbacks_.on_gathering_done) callbacks_.on_gathering_done();
    log::state("gathering done (" + std::to_string(local_candidates_.size()) + " candidates)");
    // libnice does not say why a TURN allocation failed; both usual causes are named.
    std::string silent;
    for (const std::string& url : ice_->silent_relays())
        silent += (silent.empty() ? "" : ", ") + url;
    if (config_.relay_only && local_candidates_.empty()) {
        throw Error(ErrorCategory::kConnection, "ice",
                    "no relay candidate: " + silent +
                        " gave no allocation (wrong user name or password, or unreachable)");
    }
    if (!silent.empty()) {
        log::warn("no relay candidate from " + silent +
                  " (wrong user name or password, or unreachable)");
    }
    if (local_candidates_.empty()) {
        throw Error(ErrorCategory::kRuntime, "ice",
                    "no local candidate (no usable network interface)");
    }
    if (!config_.trickle && !local_description_sent_ && (config_.offerer || remote_))
        send_local_description();
}

void Connection::set_remote_description(DescriptionType type, const std::string& text) {
    const bool expected = config_.offerer == (type == DescriptionType::kAnswer);
    if (!expected) {
        throw protocol_error("signaling", std::string("unexpected ") + to_string(type) +
                                              " (this side is the " +
                                              (config_.offerer ? "offer" : "answer") + "er)");
    }
    if (remote_) {
        log::warn(std::string("ignoring a second ") + to_string(type) +
                  " (renegotiation is not supported)");
        return;
    }
    // With media, or answering anything (an offer may have media and no
    // data channel), the data channel is optional here.
    const bool optional = !config_.offerer || offers_media();
    sdp::SessionDescription description =
        optional ? sdp::parse(text, sdp::DataChannel::kOptional) : sdp::parse(text);
    if (!config_.offerer) {
        description = take_remote_offer(text, std::move(description));
    } else if (optional) {
        take_remote_answer_media(text, description);
    }
    if (type == DescriptionType::kAnswer && description.setup == sdp::Setup::kActpass) {
        throw protocol_error(
            "sdp", "the answer says a=setup:actpass; an answer must pick active or passive");
    }
    if (type == DescriptionType::kAnswer && description.setup == sdp::Setup::kHoldconn) {
        throw protocol_error("sdp", "the answer says a=setup:holdconn");
    }
    for (const std::string& warning : description.warnings)
        log::warn("remote description: " + warning);
    remote_ = std::move(description);
    log::state(std::string(to_string(type)) + " received (" +
               std::to_string(remote_->candidates.size()) + " candidates" +
               (remote_->end_of_candidates ? ", complete)" : ")"));
    set_state(State::kConnectingIce);

    // From here ICE can run: the connect time-out starts. Its text names the
    // setting; the owner may put its own name for it (Error::about).
    const auto timeout = config_.connect_timeout;
    connect_deadline_.start_once(timeout, [this, timeout] {
        const char* stage_name = stage();
        const double seconds = static_cast<double>(timeout.count()) / 1000.0;
        fail(Error(ErrorCategory::kTimeout, stage_name,
                   std::string(stage_name == std::string("ice") ? "not connected" : "not up") +
                       " within " + seconds_text(seconds) + " (connect time-out)")
                 .about("connect time-out"));
    });

    create_dtls();
    ice_->set_remote_credentials({remote_->ice_ufrag, remote_->ice_pwd});
    for (const sdp::Candidate& candidate : remote_->candidates) use_remote_candidate(candidate);
    auto early = std::move(early_candidates_);
    early_candidates_.clear();
    for (const std::string& candidate : early) add_remote_candidate(candidate);
    if (remote_->end_of_candidates) remote_gathering_done();

    if (!config_.offerer) {
        ice_->gather();
        if (config_.trickle) send_local_description();
    }
}

sdp::SessionDescription Connection::take_remote_offer(const std::string& text,
                                                      sdp::SessionDescription description) {
    // The answer settles the tracks, whether the data channel runs and
    // which section's transport the session uses.
    sdp::LocalParameters local;
    const ice::Credentials credentials = ice_->local_credentials();
    local.ice_ufrag = credentials.ufrag;
    local.ice_pwd = credentials.pwd;
    local.fingerprint = certificate_.fingerprint();
    local.setup = sdp::answer_setup(description.setup);
    const sdp::LocalMedia media = config_.media.value_or(sdp::LocalMedia{});
    const sdp::MediaDescription offer_media = sdp::parse_media(text);
    const sdp::MediaAnswer answer = sdp::build_media_answer(local, media, description, offer_media);
    for (const std::string& warning : answer.warnings) media_warning(warning);
    if (!answer.data_channel && answer.tracks.empty()) {
        throw protocol_error("sdp", description.has_data_channel
                                        ? "nothing in the offer can be answered"
                                        : "the offer has no data channel and no media that "
                                          "this side asked for");
    }
    if (!answer.transport_mid.empty() && answer.transport_mid != description.transport_mid)
        description = sdp::parse(text, sdp::DataChannel::kOptional, answer.transport_mid);
    tracks_ = answer.tracks;
    data_channel_ = answer.data_channel;
    offer_text_ = text;
    return description;
}

void Connection::take_remote_answer_media(const std::string& text,
                                          const sdp::SessionDescription& description) {
    const sdp::LocalMedia& media = *config_.media;
    std::vector<std::string> warnings;
    tracks_ = sdp::accepted_tracks(media, sdp::parse_media(text), warnings);
    data_channel_ = media.data_channel && description.has_data_channel;
    if (media.data_channel && !description.has_data_channel)
        warnings.push_back("the remote rejected the data channel; media only");
    for (const std::string& warning : warnings) media_warning(warning);
    if (!data_channel_ && tracks_.empty())
        throw protocol_error("sdp", "the answer accepts neither media nor the data channel");
}

void Connection::add_remote_candidate(const std::string& candidate) {
    if (!remote_) {
        // Messages keep their order on one stream, but be lenient with peers that race.
        if (early_candidates_.size() < 64) early_candidates_.push_back(candidate);
        return;
    }
    if (candidate.empty()) {
        log::state("remote end of candidates");
        remote_gathering_done();
        return;
    }
    try {
        use_remote_candidate(sdp::parse_candidate(candidate));
    } catch (const Error& failure) {
        // Bounded noise: a hostile peer may send thousands.
        constexpr unsigned kMaxWarnings = 10;
        if (bad_candidates_ < kMaxWarnings) log::warn(std::string(failure.what()) + "; ignored");
        if (++bad_candidates_ == kMaxWarnings)
            log::warn("further malformed candidates are ignored without a warning");
    }
}

void Connection::use_remote_candidate(const sdp::Candidate& candidate) {
    if (candidate.component != 1) return;  // RTCP component: rtcp-mux makes it unused
    // A .local name comes back here once resolved (at most 16 wait at a
    // time), and is counted then.
    if (candidate.has_hostname()) return resolve_remote_candidate(candidate);
    // Every remote candidate becomes candidate pairs to check; a peer that
    // sends thousands would make ICE busy for minutes. Real peers send tens.
    constexpr unsigned kMaxRemoteCandidates = 256;
    if (remote_candidates_ >= kMaxRemoteCandidates) {
        if (remote_candidates_++ == kMaxRemoteCandidates) {
            log::warn("the remote sent more than " + std::to_string(kMaxRemoteCandidates) +
                      " candidates; ignoring the rest");
        }
        return;
    }
    ++remote_candidates_;
    std::string why;
    if (!ice_->add_remote_candidate(candidate, why)) {
        if (callbacks_.explain_unused_candidate)
            why = callbacks_.explain_unused_candidate(candidate, why);
        log::state("remote candidate " + sdp::to_string(candidate) + " not used: " + why);
        return;
    }
    log::state("remote candidate " + sdp::to_string(candidate));
}

void Connection::resolve_remote_candidate(const sdp::Candidate& candidate) {
    const std::string& name = candidate.address;
    if (name.size() < 7 || name.compare(name.size() - 6, 6, ".local") != 0) {
        log::warn("remote candidate host name " + sdp::text::printable(name, 80) +
                  " is not an mDNS name; ignored");
        return;
    }
    if (pending_resolutions_ >= 16) {
        log::warn("too many mDNS names to resolve; " + sdp::text::printable(name, 80) + " ignored");
        return;
    }
    if (!mdns_) mdns_ = std::make_unique<ice::mdns::Resolver>(clock_);
    ++pending_resolutions_;
    log::state("resolving " + name + " with mDNS");
    mdns_->resolve(name, [this, candidate](const std::vector<std::string>& addresses) {
        --pending_resolutions_;
        if (addresses.empty()) {
            log::warn("could not resolve " + candidate.address + " with mDNS; candidate ignored");
        } else {
            sdp::Candidate resolved = candidate;
            resolved.address = addresses.front();
            log::state(candidate.address + " is " + resolved.address);
            guarded([&] { use_remote_candidate(resolved); });
        }
        if (pending_resolutions_ == 0 && remote_end_of_candidates_)
            guarded([&] { remote_gathering_done(); });
    });
}

void Connection::remote_gathering_done() {
    remote_end_of_candidates_ = true;
    if (callbacks_.on_remote_candidates_done) callbacks_.on_remote_candidates_done();
    // Only once every name has been resolved, or ICE would give up early.
    if (pending_resolutions_ == 0) ice_->remote_gathering_done();
}

}  // namespace rtcpeer::peer
