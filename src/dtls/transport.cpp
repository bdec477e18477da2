#include "dtls/transport.hpp"

#include <gnutls/dtls.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <string_view>

#include "base/constants.hpp"
#include "base/environment.hpp"
#include "base/log.hpp"
#include "dtls/use_srtp.hpp"

namespace rtcpeer::dtls {

namespace {

// Browsers offer DTLS 1.2 only; AES-GCM first: it is the cheapest per byte
// with AES-NI. ECDHE with ECDSA matches the certificates WebRTC stacks make.
constexpr const char* kPriorities =
    "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "+AES-128-CBC:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE";

// use_srtp (RFC 5764 §4.1.1). GnuTLS 3.7.9 (Debian 12) carries the
// extension itself and will not let an application replace it (its SRTP
// extension is marked cannot_be_overriden: gnutls_session_ext_register
// answers GNUTLS_E_ALREADY_REGISTERED even with
// GNUTLS_EXT_FLAG_OVERRIDE_INTERNAL), and its names stop at the AES-CM
// profiles. But it stores the ids it is given without looking them up, puts
// them on the wire as they are, and on the server picks the first of the
// client's list that is in its own. So rtcpeer hands it raw ids, decides a
// server's answer itself from the ClientHello (a handshake hook, before
// GnuTLS reads the message) so that the server's preference rules, checks
// the ServerHello's answer the same way, and exports the keying material
// itself: gnutls_srtp_get_keys refuses the ids it has no name for.
gnutls_srtp_profile_t gnutls_profile(std::uint16_t id) {
    // The ids are 1, 2 and 7: within the values GnuTLS's enumeration can
    // hold (its enumerators run 1 to 6, so its range is 0 to 7).
    return static_cast<gnutls_srtp_profile_t>(id);
}

// GnuTLS retransmits a flight first after kRetransmitMs, doubling each
// time up to the total (RFC 6347 §4.2.4.1 suggests 1 s to start; WebRTC
// stacks use less). A retransmission is new records, which the remote
// answers by sending its own flight again. Lost handshake datagrams were
// most of the set-up time on a lossy path: at 5% random loss each way one
// run in three waited 400 ms (the former first interval) for a flight or
// its answer, against the 0.7-0.9 s that a 20 MB transfer then takes once
// connected. 100 ms is well above a LAN's round trip and its CPU time for
// a flight (a few ms); on a longer path an early retransmission costs a
// few kB.
constexpr unsigned kRetransmitMs = 100;
constexpr unsigned kHandshakeTotalMs = 60000;  // the session's connect time-out ends it sooner
// The doubling leaves ever longer silences: at 20% random loss each way a
// handshake took up to 12.8 s in 30 runs, and the 30 s connect time-out
// allows only about 8 retransmissions. So the flight last sent also goes
// out again, as the same datagrams, whenever it has not been sent for
// this long. The remote's DTLS drops a copy it already has as a duplicate
// (RFC 6347 §4.1.2.6), as it must for datagrams the network duplicates;
// only during the handshake (the early copy of the server's last flight,
// below, aside).
constexpr std::int64_t kFlightResendMs = 1000;
// A flight whose answer has not begun to arrive kEarlyCopyMs after it went
// out goes out once more at once, as the same datagrams, well before
// GnuTLS's own retransmission. On a short path the answer comes within a
// few ms (the remote's CPU time for the flight); a lost flight or a lost
// answer held the set-up back by 100 ms (kRetransmitMs), 200 ms when two
// were lost: at 5% random loss each way in 4 runs of 10, the most of a
// 20 MB transfer's set-up (figures in the README, "Lossy links"). On a
// long path the copy goes out every time, a few kB per handshake. The
// server's last flight (ChangeCipherSpec, Finished) has no answer in DTLS
// 1.2: it is copied unless the remote's first record of data (its SCTP
// INIT) came first. RTCPEER_LOSS_REPAIR=off sends no early copies.
constexpr std::int64_t kEarlyCopyMs = 10;

bool is_certificate_alert(gnutls_alert_description_t alert) {
    return alert == GNUTLS_A_BAD_CERTIFICATE || alert == GNUTLS_A_UNSUPPORTED_CERTIFICATE ||
           alert == GNUTLS_A_CERTIFICATE_UNKNOWN || alert == GNUTLS_A_CERTIFICATE_REVOKED ||
           alert == GNUTLS_A_CERTIFICATE_EXPIRED || alert == GNUTLS_A_UNKNOWN_CA ||
           alert == GNUTLS_A_ACCESS_DENIED;
}

}  // namespace

Transport::Transport(const Certificate& certificate, Role role,
                     std::vector<sdp::Fingerprint> remote, SendDatagram send_datagram,
                     Callbacks callbacks, Scheduler& scheduler)
    : role_(role),
      remote_fingerprints_(std::move(remote)),
      send_datagram_(std::move(send_datagram)),
      callbacks_(std::move(callbacks)),
      srtp_profiles_(std::begin(use_srtp::kPreference), std::end(use_srtp::kPreference)),
      retransmit_(scheduler),
      clock_(scheduler.clock()),
      early_copies_(!environment::turned_off("RTCPEER_LOSS_REPAIR")) {
    const unsigned flags =
        GNUTLS_DATAGRAM | GNUTLS_NONBLOCK | (role == Role::kServer ? GNUTLS_SERVER : GNUTLS_CLIENT);
    auto check = [](int rc, const char* what) {
        if (rc < 0)
            throw Error(ErrorCategory::kRuntime, "dtls",
                        std::string(what) + ": " + gnutls_strerror(rc));
    };
    check(gnutls_init(&session_, flags), "session");
    const char* error_at = nullptr;
    check(gnutls_priority_set_direct(session_, kPriorities, &error_at), "priorities");
    check(gnutls_credentials_set(session_, GNUTLS_CRD_CERTIFICATE, certificate.credentials()),
          "credentials");
    if (role == Role::kServer) {
        // Both sides must prove the certificate their SDP names.
        gnutls_certificate_server_set_request(session_, GNUTLS_CERT_REQUIRE);
    }
    gnutls_session_set_ptr(session_, this);
    gnutls_session_set_verify_function(session_, &Transport::verify_peer);
    gnutls_handshake_set_hook_function(
        session_,
        role == Role::kClient ? GNUTLS_HANDSHAKE_SERVER_HELLO : GNUTLS_HANDSHAKE_CLIENT_HELLO,
        GNUTLS_HOOK_PRE, &Transport::on_hello);
    gnutls_transport_set_ptr(session_, this);
    gnutls_transport_set_push_function(session_, &Transport::push);
    gnutls_transport_set_pull_function(session_, &Transport::pull);
    gnutls_transport_set_pull_timeout_function(session_, &Transport::pull_timeout);
    gnutls_dtls_set_mtu(session_, static_cast<unsigned>(kDtlsHandshakeMtu));
    gnutls_dtls_set_timeouts(session_, kRetransmitMs, kHandshakeTotalMs);
    record_buffer_.resize(65536);
}

Transport::~Transport() {
    retransmit_.reset();
    if (session_ != nullptr) gnutls_deinit(session_);
}

std::string Transport::describe() const {
    const char* version = gnutls_protocol_get_name(gnutls_protocol_get_version(session_));
    const char* cipher = gnutls_cipher_get_name(gnutls_cipher_get(session_));
    const char* kx = gnutls_kx_get_name(gnutls_kx_get(session_));
    return std::string(version ? version : "?") + " " + (kx ? kx : "?") + " " +
           (cipher ? cipher : "?") + (role_ == Role::kClient ? ", client" : ", server");
}

void Transport::set_srtp_profiles(std::span<const std::uint16_t> profiles) {
    srtp_profiles_.clear();
    for (std::uint16_t p : profiles) {
        const auto& known = use_srtp::kPreference;
        if (std::find(std::begin(known), std::end(known), p) != std::end(known) &&
            std::find(srtp_profiles_.begin(), srtp_profiles_.end(), p) == srtp_profiles_.end()) {
            srtp_profiles_.push_back(p);
        }
    }
}

std::optional<Transport::SrtpKeyingMaterial> Transport::srtp_keying_material() const {
    if (!connected_ || failed_) return std::nullopt;
    gnutls_srtp_profile_t selected{};
    if (gnutls_srtp_get_selected_profile(session_, &selected) < 0) return std::nullopt;
    const auto profile = static_cast<std::uint16_t>(selected);
    const std::size_t size = use_srtp::keying_material_length(profile);
    if (size == 0) return std::nullopt;
    // RFC 5764 §4.2: the exporter with no context.
    SrtpKeyingMaterial out;
    out.profile = profile;
    out.material.resize(size);
    const std::string_view label = "EXTRACTOR-dtls_srtp";
    if (gnutls_prf_rfc5705(session_, label.size(), label.data(), 0, nullptr, size,
                           reinterpret_cast<char*>(out.material.data())) < 0) {
        return std::nullopt;
    }
    return out;
}

int Transport::on_hello(gnutls_session_t session, unsigned type, unsigned when, unsigned incoming,
                        const gnutls_datum_t* message) {
    auto* self = static_cast<Transport*>(gnutls_session_get_ptr(session));
    if (!incoming || when != GNUTLS_HOOK_PRE) return 0;
    const std::span<const std::uint8_t> body(message->data, message->size);
    if (type == GNUTLS_HANDSHAKE_CLIENT_HELLO && self->role_ == Role::kServer) {
        const auto found = use_srtp::find_extension(use_srtp::Hello::kClient, body);
        if (found.status == use_srtp::Found::kMalformed) {
            self->srtp_error_ = "the remote's ClientHello does not parse";
            return GNUTLS_E_UNEXPECTED_PACKET_LENGTH;
        }
        if (found.status == use_srtp::Found::kAbsent) return 0;
        const auto offer = use_srtp::parse(found.data);
        if (!offer) {
            self->srtp_error_ = "the remote's use_srtp offer is malformed";
            return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
        }
        // Only the profile chosen goes to GnuTLS, so its answer is ours. A
        // ClientHello sent again (after a lost flight) chooses the same.
        if (const auto chosen = use_srtp::choose(offer->profiles, self->srtp_profiles_)) {
            gnutls_srtp_set_profile(session, gnutls_profile(*chosen));
        }
        return 0;
    }
    if (type == GNUTLS_HANDSHAKE_SERVER_HELLO && self->role_ == Role::kClient) {
        const auto found = use_srtp::find_extension(use_srtp::Hello::kServer, body);
        if (found.status == use_srtp::Found::kMalformed) {
            self->srtp_error_ = "the remote's ServerHello does not parse";
            return GNUTLS_E_UNEXPECTED_PACKET_LENGTH;
        }
        // Without use_srtp the connection carries data only (start_srtp says so).
        if (found.status == use_srtp::Found::kAbsent) return 0;
        const auto answer = use_srtp::check_answer(found.data, self->srtp_profiles_);
        if (!answer.profile) {
            self->srtp_error_ = answer.error;
            return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
        }
    }
    return 0;
}

ssize_t Transport::push(gnutls_transport_ptr_t ptr, const void* data, size_t size) {
    auto* self = static_cast<Transport*>(ptr);
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    if (self->in_handshake_call_) {
        // Every datagram one gnutls_handshake call pushes is one flight
        // (sent first or again): kept for kFlightResendMs.
        if (!self->pushed_in_call_) self->flight_.clear();
        self->pushed_in_call_ = true;
        self->flight_.emplace_back(bytes, bytes + size);
    }
    // UDP may drop; DTLS and SCTP recover. A datagram the agent cannot send
    // (no pair selected yet) is as lost as one dropped on the path.
    self->send_datagram_(bytes, size);
    return static_cast<ssize_t>(size);
}

ssize_t Transport::pull(gnutls_transport_ptr_t ptr, void* data, size_t size) {
    auto* self = static_cast<Transport*>(ptr);
    if (self->pending_ == nullptr) {
        gnutls_transport_set_errno(self->session_, EAGAIN);
        return -1;
    }
    const std::size_t n = std::min(size, self->pending_size_);
    std::memcpy(data, self->pending_, n);
    self->pending_ = nullptr;
    self->pending_size_ = 0;
    return static_cast<ssize_t>(n);
}

int Transport::pull_timeout(gnutls_transport_ptr_t ptr, unsigned) {
    return static_cast<Transport*>(ptr)->pending_ != nullptr ? 1 : 0;
}

int Transport::verify_peer(gnutls_session_t session) {
    auto* self = static_cast<Transport*>(gnutls_session_get_ptr(session));
    unsigned count = 0;
    const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
    if (chain == nullptr || count == 0) {
        self->fingerprint_mismatch_ = true;
        return GNUTLS_E_CERTIFICATE_ERROR;
    }
    for (const sdp::Fingerprint& expected : self->remote_fingerprints_) {
        if (digest_certificate(expected.algorithm, chain[0]) == expected.digest) return 0;
    }
    self->fingerprint_mismatch_ = true;
    return GNUTLS_E_CERTIFICATE_ERROR;
}

void Transport::start() {
    started_ = true;
    if (role_ == Role::kClient) {
        for (std::uint16_t p : srtp_profiles_) gnutls_srtp_set_profile(session_, gnutls_profile(p));
    }
    continue_handshake();
    // Datagrams that arrived before ICE reported the pair (the remote's
    // ClientHello can overtake our own connectivity check's answer).
    auto early = std::move(early_);
    for (auto& datagram : early) on_datagram(datagram.data(), datagram.size());
}

void Transport::on_datagram(const std::uint8_t* data, std::size_t size) {
    if (failed_ || closed_) return;
    // RFC 7983 demultiplexing: DTLS records start with 20..63.
    if (size == 0 || data[0] < 20 || data[0] > 63) return;
    if (!started_) {
        if (early_.size() < 32) early_.emplace_back(data, data + size);
        return;
    }
    heard_since_flight_ = true;
    pending_ = data;
    pending_size_ = size;
    if (!connected_) {
        continue_handshake();
        if (!connected_ || failed_) {
            pending_ = nullptr;
            return;
        }
    }
    // A datagram of one record (what rtcpeer and the browsers send) is done
    // when that record's data comes out: asking GnuTLS again only to hear
    // "again" cost a call per datagram. RFC 6347 §4.1: a 13-byte header
    // whose last two bytes are the length of what follows.
    constexpr std::size_t kHeader = 13;
    const bool one_record =
        size >= kHeader && kHeader + (static_cast<std::size_t>(data[11]) << 8 | data[12]) == size;
    read_records(one_record);
    pending_ = nullptr;
}

void Transport::continue_handshake() {
    in_handshake_call_ = true;
    pushed_in_call_ = false;
    int rc = gnutls_handshake(session_);
    in_handshake_call_ = false;
    if (pushed_in_call_) {
        flight_sent_ms_ = clock_.now_ms();
        heard_since_flight_ = false;
        early_copy_due_ = early_copies_;
    }
    if (rc == GNUTLS_E_SUCCESS) {
        retransmit_.reset();
        connected_ = true;
        if (pushed_in_call_ && early_copy_due_) {
            // Our last flight: its early copy, unless the remote's data comes first (read_records).
            retransmit_.start_once(std::chrono::milliseconds(kEarlyCopyMs), [this] {
                if (!failed_ && !closed_) send_flight_again();
                flight_.clear();
            });
        } else {
            flight_.clear();
        }
        // From now on every record must carry a whole SCTP packet (base/constants.hpp).
        gnutls_dtls_set_data_mtu(session_, static_cast<unsigned>(kDtlsDataMtu));
        if (callbacks_.on_connected) callbacks_.on_connected();
        return;
    }
    if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(rc)) {
        arm_retransmit();
        return;
    }
    // GnuTLS leaves telling the remote to us: without an alert it would
    // only learn from a time-out. A fingerprint mismatch is bad_certificate.
    if (fingerprint_mismatch_) {
        gnutls_alert_send(session_, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
    } else if (rc != GNUTLS_E_FATAL_ALERT_RECEIVED) {
        gnutls_alert_send_appropriate(session_, rc);
    }
    fail(failure_for(rc));
}

void Transport::arm_retransmit() {
    // GnuTLS's own time for its next retransmission (0: none pending, e.g.
    // a server waiting for a ClientHello), or the copy's, whichever is first.
    const unsigned gnutls_ms = gnutls_dtls_get_timeout(session_);
    std::int64_t ms = gnutls_ms;
    if (!flight_.empty()) {
        const std::int64_t copy_ms =
            std::max<std::int64_t>(0, flight_sent_ms_ + copy_interval_ms() - clock_.now_ms());
        ms = gnutls_ms > 0 ? std::min(ms, copy_ms) : copy_ms;
    } else if (gnutls_ms == 0) {
        return;
    }
    retransmit_.start_once(std::chrono::milliseconds(ms), [this] { on_retransmit_timer(); });
}

void Transport::on_retransmit_timer() {
    if (connected_ || failed_) return;
    const std::int64_t now = clock_.now_ms();
    if (!flight_.empty() && now - flight_sent_ms_ >= copy_interval_ms()) send_flight_again();
    if (gnutls_dtls_get_timeout(session_) == 0) {
        // GnuTLS's turn: it sends its flight again as new records, if it
        // has one to time, and arms the timer. Last: a failure may end
        // this transport.
        continue_handshake();
        return;
    }
    arm_retransmit();
}

std::int64_t Transport::copy_interval_ms() const {
    return early_copy_due_ && !heard_since_flight_ ? kEarlyCopyMs : kFlightResendMs;
}

void Transport::send_flight_again() {
    for (const auto& datagram : flight_) send_datagram_(datagram.data(), datagram.size());
    flight_sent_ms_ = clock_.now_ms();
    early_copy_due_ = false;
}

Error Transport::failure_for(int rc) const {
    if (!srtp_error_.empty()) {
        return Error(ErrorCategory::kConnection, "dtls", "handshake failed: " + srtp_error_);
    }
    if (fingerprint_mismatch_) {
        return Error(
            ErrorCategory::kSecurity, "dtls",
            "the remote certificate does not match the SDP fingerprint; refusing the connection");
    }
    if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
        const gnutls_alert_description_t alert = gnutls_alert_get(session_);
        const char* name = gnutls_alert_get_name(alert);
        if (is_certificate_alert(alert)) {
            return Error(ErrorCategory::kSecurity, "dtls",
                         std::string("the remote refused our certificate (alert: ") +
                             (name ? name : "?") +
                             "); the fingerprints exchanged over signaling do not match");
        }
        return Error(ErrorCategory::kConnection, "dtls",
                     std::string("the remote sent an alert: ") + (name ? name : "unknown"));
    }
    if (rc == GNUTLS_E_TIMEDOUT) {
        return Error(ErrorCategory::kTimeout, "dtls", "handshake timed out");
    }
    return Error(ErrorCategory::kConnection, "dtls",
                 std::string(connected_ ? "" : "handshake failed: ") + gnutls_strerror(rc));
}

void Transport::read_records(bool one_record) {
    while (!failed_ && !closed_) {
        ssize_t n = gnutls_record_recv(session_, record_buffer_.data(), record_buffer_.size());
        if (n > 0) {
            flight_.clear();  // the remote is through its handshake: no copy of our last flight
            if (callbacks_.on_data)
                callbacks_.on_data(record_buffer_.data(), static_cast<std::size_t>(n));
            if (one_record && pending_ == nullptr) return;  // pulled and read
            continue;
        }
        if (n == 0) {
            closed_ = true;
            if (callbacks_.on_closed) callbacks_.on_closed();
            return;
        }
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) return;
        if (!gnutls_error_is_fatal(static_cast<int>(n))) {
            // DTLS drops records that fail to decrypt or are replayed (RFC 6347 §4.1.2.7).
            if (n == GNUTLS_E_WARNING_ALERT_RECEIVED &&
                gnutls_alert_get(session_) == GNUTLS_A_CLOSE_NOTIFY) {
                closed_ = true;
                if (callbacks_.on_closed) callbacks_.on_closed();
                return;
            }
            continue;
        }
        fail(failure_for(static_cast<int>(n)));
        return;
    }
}

bool Transport::send(const std::uint8_t* data, std::size_t size, int copies) {
    if (!connected_ || failed_ || size > kDtlsDataMtu) return false;
    // Each copy is encrypted on its own: a new record, with the next
    // sequence number. A record sent twice would be a replay to the remote
    // (RFC 6347 §4.1.2.6), and some stacks stop reading at a replayed one.
    bool sent = false;
    for (int i = 0; i < copies; ++i) {
        if (gnutls_record_send(session_, data, size) == static_cast<ssize_t>(size)) sent = true;
    }
    return sent;
}

void Transport::close() {
    retransmit_.reset();
    if (connected_ && !failed_ && !closed_) {
        gnutls_bye(session_, GNUTLS_SHUT_WR);
    }
    closed_ = true;
}

void Transport::fail(const Error& failure) {
    if (failed_) return;
    failed_ = true;
    retransmit_.reset();
    if (callbacks_.on_failure) callbacks_.on_failure(failure);
}

}  // namespace rtcpeer::dtls
