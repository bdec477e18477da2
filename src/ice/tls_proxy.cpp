#include "ice/tls_proxy.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstdio>

#include "base/error.hpp"
#include "base/log.hpp"

namespace rtcpeer::ice {

namespace {
constexpr std::size_t kMaxRequestBytes = 4096;
}

struct TlsProxy::Tunnel {
    Tunnel(TlsProxy* owner, GSocketConnection* connection) : proxy(owner), local(connection) {}
    Tunnel(const Tunnel&) = delete;
    Tunnel& operator=(const Tunnel&) = delete;

    TlsProxy* proxy;
    GSocketConnection* local;  // from libnice
    GIOStream* upstream = nullptr;
    std::string request;
    char buffer[512] = {};
    const ProxyTarget* target = nullptr;

    ~Tunnel() {
        if (upstream != nullptr) g_object_unref(upstream);
        g_object_unref(local);
    }
};

TlsProxy::TlsProxy(std::vector<ProxyTarget> targets, std::string ca_file,
                   FailureCallback on_failure)
    : targets_(std::move(targets)), on_failure_(std::move(on_failure)) {
    GError* error = nullptr;
    if (!ca_file.empty()) {
        database_ = g_tls_file_database_new(ca_file.c_str(), &error);
        if (database_ == nullptr) {
            std::string why = error ? error->message : "unreadable";
            g_clear_error(&error);
            throw Error(ErrorCategory::kUsage, "ice", "TURN CA file " + ca_file + ": " + why)
                .about("TURN CA file");
        }
    }
    if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
        throw Error(ErrorCategory::kRuntime, "ice",
                    "turns: needs GLib's TLS backend (Debian package glib-networking)");
    }
    cancellable_ = g_cancellable_new();
    service_ = g_socket_service_new();
    GInetAddress* loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress* address = g_inet_socket_address_new(loopback, 0);
    GSocketAddress* bound = nullptr;
    const gboolean ok =
        g_socket_listener_add_address(G_SOCKET_LISTENER(service_), address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, nullptr, &bound, &error);
    g_object_unref(address);
    g_object_unref(loopback);
    if (!ok) {
        std::string why = error ? error->message : "unknown error";
        g_clear_error(&error);
        throw Error(ErrorCategory::kRuntime, "ice", "cannot listen for the TURN proxy: " + why);
    }
    port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_object_unref(bound);
    g_signal_connect(service_, "incoming", G_CALLBACK(&TlsProxy::on_incoming), this);
    g_socket_service_start(service_);
}

TlsProxy::~TlsProxy() {
    // Pending operations complete with G_IO_ERROR_CANCELLED and free their tunnel.
    g_cancellable_cancel(cancellable_);
    g_socket_service_stop(service_);
    g_socket_listener_close(G_SOCKET_LISTENER(service_));
    g_signal_handlers_disconnect_by_data(service_, this);
    g_object_unref(service_);
    g_object_unref(cancellable_);
    if (database_ != nullptr) g_object_unref(database_);
}

namespace {
// TURN carries one datagram per frame: each must leave at once, not wait for
// Nagle's algorithm to fill a segment (which costs a delayed ACK each time).
void send_immediately(GSocketConnection* connection) {
    g_socket_set_option(g_socket_connection_get_socket(connection), IPPROTO_TCP, TCP_NODELAY, 1,
                        nullptr);
}
}  // namespace

gboolean TlsProxy::on_incoming(GSocketService*, GSocketConnection* connection, GObject*,
                               gpointer data) {
    send_immediately(connection);
    auto* tunnel =
        new Tunnel(static_cast<TlsProxy*>(data), G_SOCKET_CONNECTION(g_object_ref(connection)));
    GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
    g_input_stream_read_async(in, tunnel->buffer, sizeof tunnel->buffer, G_PRIORITY_DEFAULT,
                              tunnel->proxy->cancellable_, &TlsProxy::on_request_read, tunnel);
    return TRUE;
}

void TlsProxy::refuse(Tunnel* tunnel, const std::string& why) {
    log::warn("TURN proxy: " + why);
    static const char kReply[] = "HTTP/1.1 502 Bad Gateway\r\n\r\n";
    GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(tunnel->local));
    g_output_stream_write_all(out, kReply, sizeof kReply - 1, nullptr, nullptr, nullptr);
    g_io_stream_close(G_IO_STREAM(tunnel->local), nullptr, nullptr);
    delete tunnel;
}

void TlsProxy::on_request_read(GObject* source, GAsyncResult* result, gpointer data) {
    auto* tunnel = static_cast<Tunnel*>(data);
    GError* error = nullptr;
    const gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
    if (n <= 0) {
        const bool cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        g_clear_error(&error);
        if (cancelled) {
            delete tunnel;
            return;
        }
        return refuse(tunnel, "libnice closed the connection before its request");
    }
    tunnel->request.append(tunnel->buffer, static_cast<std::size_t>(n));
    if (tunnel->request.find("\r\n\r\n") == std::string::npos) {
        if (tunnel->request.size() > kMaxRequestBytes) return refuse(tunnel, "request too long");
        GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(tunnel->local));
        g_input_stream_read_async(in, tunnel->buffer, sizeof tunnel->buffer, G_PRIORITY_DEFAULT,
                                  tunnel->proxy->cancellable_, &TlsProxy::on_request_read, tunnel);
        return;
    }
    // "CONNECT 192.0.2.1:5349 HTTP/1.0" (IPv6 in brackets). Anything after
    // the headers would be TURN data sent too early; libnice waits for the reply.
    char target[128] = {};
    if (std::sscanf(tunnel->request.c_str(), "CONNECT %127s HTTP/", target) != 1)
        return refuse(tunnel, "not a CONNECT request");
    std::string endpoint = target;
    const std::size_t colon = endpoint.rfind(':');
    if (colon == std::string::npos) return refuse(tunnel, "CONNECT without a port");
    std::string address = endpoint.substr(0, colon);
    if (address.size() > 2 && address.front() == '[')
        address = address.substr(1, address.size() - 2);
    const std::string port = endpoint.substr(colon + 1);
    for (const ProxyTarget& candidate : tunnel->proxy->targets_) {
        if (candidate.address == address && std::to_string(candidate.port) == port) {
            tunnel->target = &candidate;
        }
    }
    // Only the configured servers: the proxy must not open arbitrary connections.
    if (tunnel->target == nullptr)
        return refuse(tunnel, endpoint + " is not a configured TURN server");
    tunnel->proxy->connect_upstream(tunnel);
}

void TlsProxy::on_client_event(GSocketClient*, GSocketClientEvent event, GSocketConnectable*,
                               GIOStream* connection, gpointer data) {
    auto* proxy = static_cast<TlsProxy*>(data);
    if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && proxy->database_ != nullptr) {
        g_tls_connection_set_database(G_TLS_CONNECTION(connection), proxy->database_);
    }
}

void TlsProxy::connect_upstream(Tunnel* tunnel) {
    const ProxyTarget& target = *tunnel->target;
    GSocketClient* client = g_socket_client_new();
    if (target.tls) {
        g_socket_client_set_tls(client, TRUE);
        g_signal_connect(client, "event", G_CALLBACK(&TlsProxy::on_client_event), this);
    }
    if (target.tls) {
        // Dialled by name: the name is also the identity that the server's
        // certificate is checked against.
        GSocketConnectable* named = g_network_address_new(target.host.c_str(), target.port);
        g_socket_client_connect_async(client, named, cancellable_, &TlsProxy::on_upstream, tunnel);
        g_object_unref(named);
    } else {
        GInetAddress* address = g_inet_address_new_from_string(target.address.c_str());
        GSocketAddress* socket_address = g_inet_socket_address_new(address, target.port);
        g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(socket_address), cancellable_,
                                      &TlsProxy::on_upstream, tunnel);
        g_object_unref(socket_address);
        g_object_unref(address);
    }
    g_object_unref(client);
}

void TlsProxy::on_upstream(GObject* source, GAsyncResult* result, gpointer data) {
    auto* tunnel = static_cast<Tunnel*>(data);
    GError* error = nullptr;
    GSocketConnection* upstream =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
    if (upstream == nullptr) {
        const bool cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        std::string why = error ? error->message : "unknown error";
        g_clear_error(&error);
        if (cancelled) {
            delete tunnel;
            return;
        }
        const ProxyTarget& target = *tunnel->target;
        TlsProxy* proxy = tunnel->proxy;
        refuse(tunnel, std::string(target.tls ? "TLS connection" : "connection") + " to " +
                           target.host + ":" + std::to_string(target.port) + " failed: " + why);
        if (proxy->on_failure_) proxy->on_failure_(target, why);
        return;
    }
    tunnel->upstream = G_IO_STREAM(upstream);
    send_immediately(upstream);
    static const char kReply[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(tunnel->local));
    if (!g_output_stream_write_all(out, kReply, sizeof kReply - 1, nullptr, nullptr, nullptr)) {
        delete tunnel;
        return;
    }
    if (tunnel->target->tls) {
        log::state("TURN proxy: TLS to " + tunnel->target->host + ":" +
                   std::to_string(tunnel->target->port) + " established");
    }
    g_io_stream_splice_async(G_IO_STREAM(tunnel->local), tunnel->upstream,
                             static_cast<GIOStreamSpliceFlags>(G_IO_STREAM_SPLICE_CLOSE_STREAM1 |
                                                               G_IO_STREAM_SPLICE_CLOSE_STREAM2),
                             G_PRIORITY_DEFAULT, tunnel->proxy->cancellable_, &TlsProxy::on_spliced,
                             tunnel);
}

void TlsProxy::on_spliced(GObject*, GAsyncResult* result, gpointer data) {
    auto* tunnel = static_cast<Tunnel*>(data);
    g_io_stream_splice_finish(result, nullptr);
    delete tunnel;
}

}  // namespace rtcpeer::ice
