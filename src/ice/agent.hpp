// ICE (RFC 8445) over libnice: one stream, one component (BUNDLE and
// rtcp-mux), full ICE, aggressive nomination and trickle in both directions.
// Consent freshness (RFC 7675) is checked by the connection on DTLS traffic
// (peer/connection.hpp; see agent.cpp for why not by libnice).
//
// Threading: the NiceAgent is created on the program's GLib main context, so
// every signal and the receive callback run on the main thread, and so does
// every send (usrsctp runs without threads, see sctp/association.hpp).
#pragma once

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/loop.hpp"
#include "ice/config.hpp"
#include "ice/datagram_batch.hpp"
#include "ice/datagram_reader.hpp"
#include "ice/server_url.hpp"
#include "ice/tls_proxy.hpp"
#include "ice/transport.hpp"
#include "sdp/candidate.hpp"

typedef struct _NiceAgent NiceAgent;
typedef struct _NiceCandidate NiceCandidate;

namespace rtcpeer::ice {

class Agent final : public Transport {
  public:
    using Callbacks = Transport::Callbacks;

    Agent(Config config, Callbacks callbacks);
    ~Agent() override;
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    Credentials local_credentials() const override;
    // Starts gathering; candidates arrive through on_local_candidate.
    void gather() override;
    void set_remote_credentials(const Credentials& credentials) override;
    // Returns false (and says why) when libnice cannot use the candidate.
    bool add_remote_candidate(const sdp::Candidate& candidate, std::string& why) override;
    void remote_gathering_done() override;
    // Sends one datagram on the selected pair: batched (datagram_batch.hpp)
    // on a plain UDP pair, through libnice otherwise. The same pair's
    // datagrams are read in batches too (datagram_reader.hpp).
    int send(const std::uint8_t* data, std::size_t size) override;
    // After gathering: the TURN servers that gave no relay candidate
    // (all of them when none came; none otherwise).
    std::vector<std::string> silent_relays() const override;
    // The numeric address a configured TURN server was resolved to.
    struct Relay {
        ServerUrl url;
        std::string address;
    };

  private:
    static void on_candidate(NiceAgent*, NiceCandidate*, gpointer);
    static void on_gathering_done_signal(NiceAgent*, guint, gpointer);
    static void on_state_changed(NiceAgent*, guint, guint, guint, gpointer);
    static void on_selected_pair(NiceAgent*, guint, guint, NiceCandidate*, NiceCandidate*,
                                 gpointer);
    static void on_receive(NiceAgent*, guint, guint, guint, gchar*, gpointer);
    sdp::Candidate to_candidate(NiceCandidate* candidate) const;
    const Relay* relay_of(NiceCandidate* candidate) const;
    void add_local_addresses();
    void add_servers();
    bool family_allowed(const std::string& address) const;
    void enlarge_socket_buffers();
    void release_allocations();
    void use_batching();
    // Logs what the reader did when `why` is not empty (not at the end:
    // the last line of a failed run is its error).
    void stop_reader(const char* why);
    void on_relay_unreachable(const ProxyTarget& target, const std::string& why);
    // Our own checks on the selected pair until the remote is heard from
    // over it (binding_request.hpp says why).
    void start_rechecks();
    bool recheck();
    void heard(const std::uint8_t* data, std::size_t size) {
        if (size > 0 && data[0] > 3) remote_heard_ = true;  // not STUN (RFC 7983)
    }

    Config config_;
    Callbacks callbacks_;
    NiceAgent* agent_ = nullptr;
    guint stream_id_ = 0;
    bool connected_ = false;
    bool failed_ = false;
    SelectedPair selected_;
    std::vector<Relay> relays_;
    unsigned relay_candidates_ = 0;
    std::size_t unreachable_relays_ = 0;
    std::unique_ptr<TlsProxy> tls_proxy_;     // only with a turns: server
    std::unique_ptr<DatagramBatch> batch_;    // the selected pair's socket, when plain UDP
    std::unique_ptr<DatagramReader> reader_;  // the same socket's receive side
    std::string remote_ufrag_;
    std::string remote_pwd_;
    // For the ICE-CONTROLL(ED|ING) attribute of our own checks.
    const std::uint64_t tie_breaker_ = (std::uint64_t{g_random_int()} << 32) | g_random_int();
    bool remote_heard_ = false;  // a datagram other than STUN came from the remote
    bool recheck_logged_ = false;
    loop::Timer recheck_timer_;
    std::uint64_t received_by_libnice_ = 0;  // datagrams libnice gave while reader_ existed
    bool consent_answered_ = false;          // logged once
};

}  // namespace rtcpeer::ice
