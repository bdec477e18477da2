#include "ice/agent.hpp"

#include <agent.h>
#include <arpa/inet.h>
#include <gio/gio.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/environment.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "ice/binding_request.hpp"
#include "ice/host_addresses.hpp"

namespace rtcpeer::ice {

namespace {

constexpr guint kComponent = 1;

// The kernel's default UDP receive buffer (208 KiB) overflows within a few
// milliseconds when a fast sender meets a receiver busy with decryption; the
// dropped datagrams then cost SCTP retransmission time-outs. 8 MiB absorbs
// several congestion windows. SO_RCVBUFFORCE passes net.core.rmem_max when
// running as root; otherwise the kernel caps the plain request.
constexpr int kSocketBufferBytes = 8 * 1024 * 1024;

// Our own checks on the selected pair while the remote is silent on it: as
// often as libnice's first retransmission, so that a remote whose checks
// all failed is asked again within its 5 s grace before it gives up.
constexpr std::chrono::milliseconds kRecheckInterval{500};

std::string endpoint(const sdp::Candidate& c) {
    const bool v6 = c.address.find(':') != std::string::npos;
    return (v6 ? "[" + c.address + "]" : c.address) + ":" + std::to_string(c.port);
}

}  // namespace

std::string SelectedPair::describe() const {
    std::string relay =
        local_relay_protocol.empty() ? "" : " (TURN over " + local_relay_protocol + ")";
    return local.transport + " " + endpoint(local) + " " + local.type + relay + " -> " +
           endpoint(remote) + " " + remote.type;
}

Agent::Agent(Config config, Callbacks callbacks)
    : config_(std::move(config)), callbacks_(std::move(callbacks)) {
    // Consent (RFC 7675) is enforced by the session on authenticated traffic
    // instead of libnice's CONSENT_FRESHNESS option: measured here, that
    // option failed a working path with 20% random loss within 10 to 30 s,
    // while the session's check (15 s without a single DTLS record, with
    // SCTP heartbeats every 5 s) holds up and needs proof a STUN answer
    // cannot give: the remote's DTLS keys. The remote's consent checks are
    // still answered: by libnice, or on a plain UDP pair by the batched
    // reader (datagram_reader.hpp).
    // Aggressive nomination (every check of ours carries USE-CANDIDATE):
    // with regular nomination libnice sent the nominating check two pacing
    // ticks after the first pair had worked, about 10 ms of a 57 ms local
    // `--check` pair. A better pair that works later still takes over: the
    // controlled side selects the highest-priority nominated pair, and
    // libnice switches with it (new-selected-pair, below).
    agent_ = nice_agent_new_full(g_main_context_default(), NICE_COMPATIBILITY_RFC5245,
                                 NICE_AGENT_OPTION_ICE_TRICKLE);
    // No STUN/TURN server unless the user names one (rtcpeer(1), DESCRIPTION); no UPnP
    // (it would multicast on the LAN); ICE-TCP only when asked for.
    g_object_set(agent_, "controlling-mode", config_.controlling ? TRUE : FALSE, "upnp", FALSE,
                 "ice-tcp", config_.tcp ? TRUE : FALSE, "ice-udp", TRUE, "force-relay",
                 config_.relay_only ? TRUE : FALSE, nullptr);
    // Connectivity checks are paced at Ta (RFC 8445 §14.2); libnice's 20 ms
    // made most of the set-up time of a local connection (about 60 ms of
    // ICE). 5 ms is the RFC's floor for a single data stream.
    g_object_set(agent_, "stun-pacing-timer", 5u, nullptr);
    // A connectivity check is sent again after 0.5 s, then at doubling
    // intervals, and libnice counts the first try in the setting: 5 are
    // tries at 0, 0.5, 1.5, 3.5 and 7.5 s (seen in its debug log); the pair
    // fails at 9.5 s and the component 5 s later. At 20% random loss each
    // way a try works 64% of the time, so one side's tries all fail now
    // and then (0.36^5); the side whose pair works then asks again
    // (recheck()).
    // The same count applies to STUN and TURN servers' requests; their
    // first interval, 100 ms instead of 200, keeps an unreachable server's
    // give-up time at 6.3 s (3 s before).
    g_object_set(agent_, "stun-max-retransmissions", 5u, "stun-initial-timeout", 100u, nullptr);
    add_local_addresses();
    stream_id_ = nice_agent_add_stream(agent_, 1);
    if (stream_id_ == 0)
        throw Error(ErrorCategory::kRuntime, "ice", "cannot create the ICE stream");
    nice_agent_set_stream_name(agent_, stream_id_, "application");
    if (config_.port_min != 0) {
        nice_agent_set_port_range(agent_, stream_id_, kComponent, config_.port_min,
                                  config_.port_max);
    }
    add_servers();
    g_signal_connect(agent_, "new-candidate-full", G_CALLBACK(&Agent::on_candidate), this);
    g_signal_connect(agent_, "candidate-gathering-done",
                     G_CALLBACK(&Agent::on_gathering_done_signal), this);
    g_signal_connect(agent_, "component-state-changed", G_CALLBACK(&Agent::on_state_changed), this);
    g_signal_connect(agent_, "new-selected-pair-full", G_CALLBACK(&Agent::on_selected_pair), this);
}

bool Agent::family_allowed(const std::string& address) const {
    return ice::family_allowed(config_.family, address);
}

void Agent::add_local_addresses() {
    const std::vector<std::string> addresses = host_addresses(config_);
    for (const std::string& text : addresses) {
        NiceAddress address;
        nice_address_init(&address);
        if (!nice_address_set_from_string(&address, text.c_str())) {
            throw Error(ErrorCategory::kUsage, "ice",
                        "host address " + text + " is not an IP address")
                .about("host address");
        }
        nice_agent_add_local_address(agent_, &address);
    }
}

namespace {

// Server names are resolved once, before gathering: libnice takes numeric
// addresses only.
std::string resolve(const ServerUrl& url, Family family, bool stream) {
    addrinfo hints{};
    hints.ai_family = family == Family::kIpv4   ? AF_INET
                      : family == Family::kIpv6 ? AF_INET6
                                                : AF_UNSPEC;
    hints.ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM;
    addrinfo* found = nullptr;
    const int error = getaddrinfo(url.host.c_str(), nullptr, &hints, &found);
    if (error != 0 || found == nullptr) {
        const char* setting = url.kind == ServerKind::kStun ? "STUN server" : "TURN server";
        throw Error(name_lookup_category(error), "ice",
                    std::string("cannot resolve ") + setting + " " + url.describe() + ": " +
                        (error != 0 ? gai_strerror(error) : "no address"))
            .about(setting);
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (found->ai_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr, text,
                  sizeof text);
    } else {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr, text,
                  sizeof text);
    }
    freeaddrinfo(found);
    return text;
}

}  // namespace

void Agent::add_servers() {
    if (!config_.stun_servers.empty()) {
        // libnice asks one STUN server; TURN servers also report the
        // server-reflexive address, so more are rarely needed.
        const ServerUrl& stun = config_.stun_servers.front();
        const std::string address = resolve(stun, config_.family, false);
        g_object_set(agent_, "stun-server", address.c_str(), "stun-server-port",
                     static_cast<guint>(stun.port), nullptr);
        for (std::size_t i = 1; i < config_.stun_servers.size(); ++i) {
            log::warn("only the first STUN server is used; ignoring " +
                      config_.stun_servers[i].describe());
        }
    }
    std::vector<ProxyTarget> proxy_targets;
    bool any_tls = false;
    for (const ServerUrl& turn : config_.turn_servers) {
        const bool over_tcp = turn.transport != RelayTransport::kUdp;
        Relay relay{turn, resolve(turn, config_.family, over_tcp)};
        // In RFC 5245 mode libnice's TURN-TLS is plain TCP: TLS is added by
        // the local proxy (tls_proxy.hpp), so libnice sees a TCP server.
        const NiceRelayType type = over_tcp ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP;
        if (over_tcp) {
            const bool tls = turn.transport == RelayTransport::kTls;
            any_tls = any_tls || tls;
            proxy_targets.push_back({relay.address, turn.port, turn.host, tls});
        }
        if (!nice_agent_set_relay_info(agent_, stream_id_, kComponent, relay.address.c_str(),
                                       turn.port, turn.username->c_str(), turn.password->c_str(),
                                       type)) {
            throw Error(ErrorCategory::kRuntime, "ice", "libnice refused " + turn.describe());
        }
        relays_.push_back(std::move(relay));
    }
    if (any_tls) {
        tls_proxy_ =
            std::make_unique<TlsProxy>(std::move(proxy_targets), config_.turn_ca_file,
                                       [this](const ProxyTarget& target, const std::string& why) {
                                           on_relay_unreachable(target, why);
                                       });
        g_object_set(agent_, "proxy-type", NICE_PROXY_TYPE_HTTP, "proxy-ip", "127.0.0.1",
                     "proxy-port", static_cast<guint>(tls_proxy_->port()), nullptr);
    }
}

const Agent::Relay* Agent::relay_of(NiceCandidate* candidate) const {
    if (candidate->type != NICE_CANDIDATE_TYPE_RELAYED) return nullptr;
    NiceAddress server;
    nice_address_init(&server);
    nice_candidate_relay_address(candidate, &server);
    if (!nice_address_is_valid(&server)) return nullptr;
    char text[NICE_ADDRESS_STRING_LEN] = {};
    nice_address_to_string(&server, text);
    const unsigned port = nice_address_get_port(&server);
    for (const Relay& relay : relays_) {
        if (relay.address == text && relay.url.port == port) return &relay;
    }
    return nullptr;
}

void Agent::on_relay_unreachable(const ProxyTarget& target, const std::string& why) {
    ++unreachable_relays_;
    // libnice waits on a refused TURN-over-TCP connection without ending
    // gathering; with nothing but relays allowed, that is the end.
    if (config_.relay_only && unreachable_relays_ >= relays_.size() && relay_candidates_ == 0 &&
        !failed_) {
        failed_ = true;
        if (callbacks_.on_failed) {
            callbacks_.on_failed(
                "no relay candidate: " + std::string(target.tls ? "turns:" : "turn:") +
                target.host + ":" + std::to_string(target.port) + ": " + why);
        }
    }
}

std::vector<std::string> Agent::silent_relays() const {
    // libnice's candidate signals do not say which server a relay candidate
    // came from: without any, every server failed; with some, say nothing.
    std::vector<std::string> silent;
    if (relay_candidates_ > 0) return silent;
    for (const Relay& relay : relays_) silent.push_back(relay.url.describe());
    return silent;
}

Agent::~Agent() {
    recheck_timer_.reset();
    stop_reader(nullptr);  // before libnice's socket goes
    batch_.reset();        // its last datagrams (DTLS close_notify) go out now
    if (agent_ != nullptr && !relays_.empty()) release_allocations();
    if (agent_ != nullptr) {
        nice_agent_attach_recv(agent_, stream_id_, kComponent, g_main_context_default(), nullptr,
                               nullptr);
        g_signal_handlers_disconnect_by_data(agent_, this);
        nice_agent_remove_stream(agent_, stream_id_);
        g_object_unref(agent_);
    }
}

void Agent::release_allocations() {
    // TURN allocations live on the server until they expire (10 minutes by
    // default) unless refreshed with lifetime 0. nice_agent_close_async()
    // does that; the loop runs for it at most kReleaseWaitMs, so that an
    // unreachable server cannot hold up the exit. Only libnice's sources
    // are pending here: the session has stopped its own.
    constexpr gint64 kReleaseWaitMs = 500;
    bool closed = false;
    nice_agent_close_async(
        agent_, [](GObject*, GAsyncResult*, gpointer done) { *static_cast<bool*>(done) = true; },
        &closed);
    const gint64 deadline = g_get_monotonic_time() + kReleaseWaitMs * 1000;
    while (!closed && g_get_monotonic_time() < deadline) {
        if (!g_main_context_iteration(nullptr, FALSE)) g_usleep(1000);
    }
}

Credentials Agent::local_credentials() const {
    gchar* ufrag = nullptr;
    gchar* pwd = nullptr;
    nice_agent_get_local_credentials(agent_, stream_id_, &ufrag, &pwd);
    Credentials credentials{ufrag ? ufrag : "", pwd ? pwd : ""};
    g_free(ufrag);
    g_free(pwd);
    return credentials;
}

void Agent::gather() {
    if (!nice_agent_gather_candidates(agent_, stream_id_)) {
        throw Error(ErrorCategory::kRuntime, "ice",
                    "cannot gather candidates (no usable local address)");
    }
    // The component's sockets exist only once gathering has begun.
    nice_agent_attach_recv(agent_, stream_id_, kComponent, g_main_context_default(),
                           &Agent::on_receive, this);
}

void Agent::set_remote_credentials(const Credentials& credentials) {
    remote_ufrag_ = credentials.ufrag;
    remote_pwd_ = credentials.pwd;
    nice_agent_set_remote_credentials(agent_, stream_id_, credentials.ufrag.c_str(),
                                      credentials.pwd.c_str());
}

bool Agent::add_remote_candidate(const sdp::Candidate& candidate, std::string& why) {
    if (!candidate.is_udp() && !config_.tcp) {
        why = "TCP (ICE-TCP is off)";
        return false;
    }
    if (!family_allowed(candidate.address)) {
        why = config_.family == Family::kIpv4 ? "IPv6 (-4)" : "IPv4 (-6)";
        return false;
    }
    const std::string line = "a=candidate:" + sdp::to_string(candidate);
    NiceCandidate* parsed = nice_agent_parse_remote_candidate_sdp(agent_, stream_id_, line.c_str());
    if (parsed == nullptr) {
        why = "libnice cannot use it";
        return false;
    }
    GSList list{parsed, nullptr};
    const int added = nice_agent_set_remote_candidates(agent_, stream_id_, kComponent, &list);
    nice_candidate_free(parsed);
    if (added < 1) {
        why = "rejected by the ICE agent";
        return false;
    }
    return true;
}

void Agent::remote_gathering_done() {
    nice_agent_peer_candidate_gathering_done(agent_, stream_id_);
}

int Agent::send(const std::uint8_t* data, std::size_t size) {
    if (batch_) return batch_->send(data, size);
    return nice_agent_send(agent_, stream_id_, kComponent, static_cast<guint>(size),
                           reinterpret_cast<const gchar*>(data));
}

sdp::Candidate Agent::to_candidate(NiceCandidate* candidate) const {
    gchar* line = nice_agent_generate_local_candidate_sdp(agent_, candidate);
    sdp::Candidate parsed = sdp::parse_candidate(line);
    g_free(line);
    // Browsers and aiortc write the transport in lower case.
    for (char& c : parsed.transport) c = static_cast<char>(g_ascii_tolower(c));
    return parsed;
}

void Agent::on_candidate(NiceAgent*, NiceCandidate* candidate, gpointer data) {
    auto* self = static_cast<Agent*>(data);
    if (candidate->type == NICE_CANDIDATE_TYPE_RELAYED) ++self->relay_candidates_;
    if (self->callbacks_.on_local_candidate)
        self->callbacks_.on_local_candidate(self->to_candidate(candidate));
}

void Agent::on_gathering_done_signal(NiceAgent*, guint, gpointer data) {
    auto* self = static_cast<Agent*>(data);
    if (self->callbacks_.on_gathering_done) self->callbacks_.on_gathering_done();
}

void Agent::on_state_changed(NiceAgent*, guint, guint, guint state, gpointer data) {
    auto* self = static_cast<Agent*>(data);
    if (state == NICE_COMPONENT_STATE_FAILED && !self->failed_) {
        self->failed_ = true;
        const char* why = self->connected_ ? "connection lost" : "no candidate pair works";
        if (self->callbacks_.on_failed) self->callbacks_.on_failed(why);
    } else if ((state == NICE_COMPONENT_STATE_READY || state == NICE_COMPONENT_STATE_CONNECTED) &&
               !self->connected_ && !self->selected_.local.address.empty()) {
        self->connected_ = true;
        self->enlarge_socket_buffers();
        self->use_batching();
        self->start_rechecks();
        if (self->callbacks_.on_connected) self->callbacks_.on_connected(self->selected_);
    }
}

void Agent::on_selected_pair(NiceAgent*, guint, guint, NiceCandidate* local, NiceCandidate* remote,
                             gpointer data) {
    auto* self = static_cast<Agent*>(data);
    self->selected_.local = self->to_candidate(local);
    self->selected_.remote = self->to_candidate(remote);
    // The signal's candidates are copies without their TURN server; the
    // agent's own selected pair has it.
    NiceCandidate* own_local = nullptr;
    NiceCandidate* own_remote = nullptr;
    const Relay* relay = nullptr;
    if (nice_agent_get_selected_pair(self->agent_, self->stream_id_, kComponent, &own_local,
                                     &own_remote)) {
        relay = self->relay_of(own_local);
    }
    self->selected_.local_relay_protocol = relay ? to_string(relay->url.transport) : "";
    if (self->connected_) self->use_batching();  // libnice switched pairs
    if (!self->connected_) {
        guint state = nice_agent_get_component_state(self->agent_, self->stream_id_, kComponent);
        if (state == NICE_COMPONENT_STATE_READY || state == NICE_COMPONENT_STATE_CONNECTED) {
            on_state_changed(nullptr, 0, 0, state, data);
        }
    }
}

void Agent::on_receive(NiceAgent*, guint, guint, guint size, gchar* buffer, gpointer data) {
    auto* self = static_cast<Agent*>(data);
    if (self->reader_) ++self->received_by_libnice_;
    self->heard(reinterpret_cast<const std::uint8_t*>(buffer), size);
    if (self->callbacks_.on_packet) {
        self->callbacks_.on_packet(reinterpret_cast<const std::uint8_t*>(buffer), size);
    }
}

void Agent::stop_reader(const char* why) {
    if (!reader_) return;
    const DatagramReader::Counts& counts = reader_->counts();
    if (why != nullptr && log::verbose()) {
        log::state(std::string("batched receive ends (") + why +
                   "): " + std::to_string(counts.datagrams) + " datagrams in " +
                   std::to_string(counts.calls) + " reads (" + std::to_string(counts.coalesced) +
                   " coalesced), " + std::to_string(counts.answered) +
                   " consent checks answered, " + std::to_string(counts.dropped) + " dropped, " +
                   std::to_string(counts.full) + " full, " + std::to_string(received_by_libnice_) +
                   " read by libnice meanwhile");
    }
    reader_.reset();
    received_by_libnice_ = 0;
}

void Agent::use_batching() {
    stop_reader("new selected pair");
    if (batch_) batch_->flush();
    batch_.reset();
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    if (!nice_agent_get_selected_pair(agent_, stream_id_, kComponent, &local, &remote)) return;
    // Relayed datagrams need libnice's TURN framing; TCP pairs its framing.
    if (local->type == NICE_CANDIDATE_TYPE_RELAYED ||
        local->transport != NICE_CANDIDATE_TRANSPORT_UDP)
        return;
    GSocket* socket = nice_agent_get_selected_socket(agent_, stream_id_, kComponent);
    if (socket == nullptr) return;
    sockaddr_storage address{};
    nice_address_copy_to_sockaddr(&remote->addr, reinterpret_cast<sockaddr*>(&address));
    const socklen_t length =
        address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    // libnice keeps the socket open as long as the agent (and batch_ goes first).
    batch_ = std::make_unique<DatagramBatch>(g_socket_get_fd(socket), address, length);
    // libnice talks to a UDP TURN server from the host candidates' sockets:
    // its allocation and permission refreshes must reach it.
    const bool udp_relay = std::any_of(relays_.begin(), relays_.end(), [](const Relay& relay) {
        return relay.url.transport == RelayTransport::kUdp;
    });
    // RTCPEER_UDP_RECV_BATCH=off, for comparison runs (scripts/profile):
    // every datagram through libnice.
    if (!udp_relay && !environment::turned_off("RTCPEER_UDP_RECV_BATCH")) {
        const Credentials local = local_credentials();
        gboolean controlling = FALSE;
        g_object_get(agent_, "controlling-mode", &controlling, nullptr);
        StunIdentity identity{local.ufrag, local.pwd, remote_ufrag_, controlling != FALSE};
        DatagramReader::Callbacks reader_callbacks;
        reader_callbacks.on_packet = [this](const std::uint8_t* data, std::size_t size) {
            heard(data, size);
            if (callbacks_.on_packet) callbacks_.on_packet(data, size);
        };
        reader_callbacks.on_answered = [this] {
            if (!consent_answered_)
                log::state("batched receive answers the remote's consent checks");
            consent_answered_ = true;
        };
        reader_callbacks.on_hand_back = [](const std::string& why) {
            log::state("batched receive stops: " + why + " goes to libnice");
        };
        reader_ =
            std::make_unique<DatagramReader>(g_socket_get_fd(socket), address, length,
                                             std::move(identity), std::move(reader_callbacks));
    }
    g_object_unref(socket);
}

void Agent::start_rechecks() {
    if (remote_heard_ || recheck_timer_.active()) return;
    recheck_timer_.start_repeating(kRecheckInterval, [this] { return recheck(); });
}

// libnice stops checking once its side has a pair. With every answer to the
// remote's checks lost (measured: 2 runs of 80 at 20% random loss each
// way, 2 of 60 at 30%), the remote's pair fails while ours works, and the remote
// gives up after its last retransmission and 5 s of grace: a request from
// us makes it check the pair again (RFC 8445 §7.3.1.4). Stops at the first
// datagram from the remote that is not STUN (its DTLS), or when ICE fails.
bool Agent::recheck() {
    if (remote_heard_ || failed_) return false;
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    if (!nice_agent_get_selected_pair(agent_, stream_id_, kComponent, &local, &remote)) return true;
    gboolean controlling = FALSE;
    g_object_get(agent_, "controlling-mode", &controlling, nullptr);
    BindingRequest request;
    request.local_ufrag = local_credentials().ufrag;
    request.remote_ufrag = remote_ufrag_;
    request.remote_pwd = remote_pwd_;
    request.controlling = controlling != FALSE;
    // A peer-reflexive candidate's priority: type preference 110 (RFC 8445 §5.1.2.1).
    request.priority = (110u << 24) | (local->priority & 0x00ffffffu);
    request.tie_breaker = tie_breaker_;
    const std::vector<std::uint8_t> bytes = make_binding_request(request);
    if (bytes.empty()) return false;
    if (!recheck_logged_)
        log::state("nothing from the remote on the selected pair yet: checking it again");
    recheck_logged_ = true;
    nice_agent_send(agent_, stream_id_, kComponent, static_cast<guint>(bytes.size()),
                    reinterpret_cast<const gchar*>(bytes.data()));
    return true;
}

void Agent::enlarge_socket_buffers() {
    GSocket* socket = nice_agent_get_selected_socket(agent_, stream_id_, kComponent);
    if (socket == nullptr) return;
    const int fd = g_socket_get_fd(socket);
    const int size = kSocketBufferBytes;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    g_object_unref(socket);
}

}  // namespace rtcpeer::ice
