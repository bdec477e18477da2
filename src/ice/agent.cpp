#include "ice/agent.hpp"

#include <agent.h>
#include <gio/gio.h>
#include <sys/socket.h>

#include "app/failure.hpp"

namespace rtcpeer::ice {

namespace {

constexpr guint kComponent = 1;

// The kernel's default UDP receive buffer (208 KiB) overflows within a few
// milliseconds when a fast sender meets a receiver busy with decryption; the
// dropped datagrams then cost SCTP retransmission time-outs. 8 MiB absorbs
// several congestion windows. SO_RCVBUFFORCE passes net.core.rmem_max when
// running as root; otherwise the kernel caps the plain request.
constexpr int kSocketBufferBytes = 8 * 1024 * 1024;

std::string endpoint(const sdp::Candidate& c) {
    const bool v6 = c.address.find(':') != std::string::npos;
    return (v6 ? "[" + c.address + "]" : c.address) + ":" + std::to_string(c.port);
}

}  // namespace

std::string SelectedPair::describe() const {
    return local.transport + " " + endpoint(local) + " " + local.type + " -> " + endpoint(remote) +
           " " + remote.type;
}

Agent::Agent(Config config, Callbacks callbacks)
    : config_(std::move(config)), callbacks_(std::move(callbacks)) {
    // Consent (RFC 7675) is enforced by the session on authenticated traffic
    // instead of libnice's CONSENT_FRESHNESS option: measured here, that
    // option failed a working path with 20% random loss within 10 to 30 s,
    // while the session's check (15 s without a single DTLS record, with
    // SCTP heartbeats every 5 s) holds up and needs proof a STUN answer
    // cannot give: the remote's DTLS keys. libnice still answers the
    // remote's consent checks.
    agent_ = nice_agent_new_full(g_main_context_default(), NICE_COMPATIBILITY_RFC5245,
                                 static_cast<NiceAgentOption>(NICE_AGENT_OPTION_REGULAR_NOMINATION |
                                                              NICE_AGENT_OPTION_ICE_TRICKLE));
    // No STUN/TURN server unless the user names one (DESIGN.md §6); no UPnP
    // (it would multicast on the LAN); ICE-TCP stays off by default.
    g_object_set(agent_, "controlling-mode", config_.controlling ? TRUE : FALSE, "upnp", FALSE,
                 "ice-tcp", FALSE, "ice-udp", TRUE, nullptr);
    for (const std::string& text : config_.host_addresses) {
        NiceAddress address;
        nice_address_init(&address);
        if (!nice_address_set_from_string(&address, text.c_str())) {
            throw Failure(ExitCode::kUsage, "ice",
                          "--host-address " + text + " is not an IP address");
        }
        nice_agent_add_local_address(agent_, &address);
    }
    stream_id_ = nice_agent_add_stream(agent_, 1);
    if (stream_id_ == 0) throw Failure(ExitCode::kFailure, "ice", "cannot create the ICE stream");
    nice_agent_set_stream_name(agent_, stream_id_, "application");
    g_signal_connect(agent_, "new-candidate-full", G_CALLBACK(&Agent::on_candidate), this);
    g_signal_connect(agent_, "candidate-gathering-done",
                     G_CALLBACK(&Agent::on_gathering_done_signal), this);
    g_signal_connect(agent_, "component-state-changed", G_CALLBACK(&Agent::on_state_changed), this);
    g_signal_connect(agent_, "new-selected-pair-full", G_CALLBACK(&Agent::on_selected_pair), this);
}

Agent::~Agent() {
    if (agent_ != nullptr) {
        nice_agent_attach_recv(agent_, stream_id_, kComponent, g_main_context_default(), nullptr,
                               nullptr);
        g_signal_handlers_disconnect_by_data(agent_, this);
        nice_agent_remove_stream(agent_, stream_id_);
        g_object_unref(agent_);
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
        throw Failure(ExitCode::kFailure, "ice",
                      "cannot gather candidates (no usable local address)");
    }
    // The component's sockets exist only once gathering has begun.
    nice_agent_attach_recv(agent_, stream_id_, kComponent, g_main_context_default(),
                           &Agent::on_receive, this);
}

void Agent::set_remote_credentials(const Credentials& credentials) {
    nice_agent_set_remote_credentials(agent_, stream_id_, credentials.ufrag.c_str(),
                                      credentials.pwd.c_str());
}

bool Agent::add_remote_candidate(const sdp::Candidate& candidate, std::string& why) {
    if (!candidate.is_udp()) {
        why = "not UDP (ICE-TCP is off)";
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
        if (self->callbacks_.on_connected) self->callbacks_.on_connected(self->selected_);
    }
}

void Agent::on_selected_pair(NiceAgent*, guint, guint, NiceCandidate* local, NiceCandidate* remote,
                             gpointer data) {
    auto* self = static_cast<Agent*>(data);
    self->selected_.local = self->to_candidate(local);
    self->selected_.remote = self->to_candidate(remote);
    if (!self->connected_) {
        guint state = nice_agent_get_component_state(self->agent_, self->stream_id_, kComponent);
        if (state == NICE_COMPONENT_STATE_READY || state == NICE_COMPONENT_STATE_CONNECTED) {
            on_state_changed(nullptr, 0, 0, state, data);
        }
    }
}

void Agent::on_receive(NiceAgent*, guint, guint, guint size, gchar* buffer, gpointer data) {
    auto* self = static_cast<Agent*>(data);
    if (self->callbacks_.on_packet) {
        self->callbacks_.on_packet(reinterpret_cast<const std::uint8_t*>(buffer), size);
    }
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
