// DTLS 1.2 over the ICE component, with GnuTLS (RFC 8842, RFC 5764).
//
// The remote certificate is checked against the SDP fingerprints inside the
// handshake, before any application data is accepted: a mismatch aborts the
// handshake (exit 6). use_srtp is always offered, AEAD_AES_128_GCM first
// (dtls/use_srtp.hpp): aiortc and pion refuse a WebRTC handshake without it,
// and media takes its SRTP keys from it (srtp_keying_material).
//
// Threading: everything runs on the GLib main thread (usrsctp runs without
// threads of its own, see sctp/association.hpp), so the session needs no lock.
#pragma once

#include <gnutls/gnutls.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/loop.hpp"
#include "base/scheduler.hpp"
#include "dtls/certificate.hpp"

namespace rtcpeer::dtls {

enum class Role { kClient, kServer };

class Transport {
  public:
    struct Callbacks {
        std::function<void()> on_connected;  // handshake done, fingerprint verified
        std::function<void(const std::uint8_t* data, std::size_t size)> on_data;
        std::function<void()> on_closed;  // close_notify from the remote
        std::function<void(const Error&)> on_failure;
    };
    using SendDatagram = std::function<int(const std::uint8_t* data, std::size_t size)>;

    // The handshake's retransmission timer waits on scheduler (a test's
    // ManualScheduler; GLib's main loop by default).
    Transport(const Certificate& certificate, Role role, std::vector<sdp::Fingerprint> remote,
              SendDatagram send_datagram, Callbacks callbacks,
              Scheduler& scheduler = glib_scheduler());
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Starts the handshake (a client sends its ClientHello).
    void start();
    // A datagram from ICE.
    void on_datagram(const std::uint8_t* data, std::size_t size);
    // Sends data `copies` times, each copy as a record of its own (its own
    // sequence number and ciphertext), never one record twice; false when
    // no copy could be sent.
    bool send(const std::uint8_t* data, std::size_t size, int copies = 1);
    // Sends close_notify.
    void close();

    // The SRTP profiles (IANA ids) offered as a client or accepted as a
    // server, best first; before start(). Ids outside
    // use_srtp::kPreference are left out. By default all of that list.
    void set_srtp_profiles(std::span<const std::uint16_t> profiles);

    // The SRTP keying the handshake settled (RFC 5764 §4.2): the use_srtp
    // profile chosen, by its IANA id, and the exporter's material for label
    // "EXTRACTOR-dtls_srtp": client key, server key, client salt, server
    // salt (dtls/use_srtp.hpp has the lengths). srtp::keys_from_dtls
    // (srtp/keying.hpp) splits it by role; this layer does not know SRTP's
    // types. nullopt before the handshake is done or when the remote chose
    // no profile.
    struct SrtpKeyingMaterial {
        std::uint16_t profile = 0;
        std::vector<std::uint8_t> material;
    };
    std::optional<SrtpKeyingMaterial> srtp_keying_material() const;

    bool connected() const { return connected_; }
    Role role() const { return role_; }
    std::string describe() const;  // "DTLS1.2 ECDHE-ECDSA-AES-128-GCM"

  private:
    static ssize_t push(gnutls_transport_ptr_t self, const void* data, size_t size);
    static ssize_t pull(gnutls_transport_ptr_t self, void* data, size_t size);
    static int pull_timeout(gnutls_transport_ptr_t self, unsigned ms);
    static int verify_peer(gnutls_session_t session);
    static int on_hello(gnutls_session_t session, unsigned type, unsigned when, unsigned incoming,
                        const gnutls_datum_t* message);
    void continue_handshake();
    void arm_retransmit();
    void on_retransmit_timer();
    // How long after flight_sent_ms_ the next copy of flight_ is due:
    // kEarlyCopyMs while its early copy is to come, else kFlightResendMs.
    std::int64_t copy_interval_ms() const;
    void send_flight_again();                    // flight_'s datagrams, as they were
    void read_records(bool one_record = false);  // one_record: the pending datagram holds one
    void fail(const Error& failure);
    Error failure_for(int rc) const;

    Role role_;
    std::vector<sdp::Fingerprint> remote_fingerprints_;
    SendDatagram send_datagram_;
    Callbacks callbacks_;
    gnutls_session_t session_ = nullptr;
    const std::uint8_t* pending_ = nullptr;  // the datagram being fed to GnuTLS
    std::size_t pending_size_ = 0;
    bool started_ = false;
    bool connected_ = false;
    bool failed_ = false;
    bool closed_ = false;
    bool fingerprint_mismatch_ = false;
    std::vector<std::uint16_t> srtp_profiles_;
    std::string srtp_error_;  // why the remote's use_srtp failed the handshake
    std::vector<std::vector<std::uint8_t>> early_;  // datagrams before start()
    loop::Timer retransmit_;
    const Clock& clock_;
    // The flight of handshake messages last sent, as the datagrams GnuTLS
    // pushed, and when it (or a copy) last went out (continue_handshake).
    std::vector<std::vector<std::uint8_t>> flight_;
    std::int64_t flight_sent_ms_ = 0;
    // Whether flight_ still has its one early copy to come, and whether a
    // datagram from the remote came in after it went out (which makes the
    // copy needless: the remote is answering).
    bool early_copy_due_ = false;
    bool heard_since_flight_ = false;
    const bool early_copies_;  // RTCPEER_LOSS_REPAIR is not "off"
    bool in_handshake_call_ = false;
    bool pushed_in_call_ = false;
    std::vector<std::uint8_t> record_buffer_;
};

}  // namespace rtcpeer::dtls
