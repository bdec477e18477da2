// TURN over TLS (turns:) for libnice, which in RFC 5245 mode speaks TURN over
// plain TCP only: libnice is pointed at this local HTTP CONNECT proxy (its
// "proxy-type" HTTP), and the proxy opens the real connection, wrapped in TLS
// for turns: servers and left plain for turn:?transport=tcp ones (libnice
// sends every TURN-over-TCP connection through its proxy).
//
// Threading: a GSocketService on the program's main context; every callback
// runs on the main thread. Bytes are relayed by g_io_stream_splice_async.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rtcpeer::ice {

struct ProxyTarget {
    std::string address;  // numeric, as libnice asks for it in CONNECT
    std::uint16_t port = 0;
    std::string host;  // the name in the URL: TLS server name and identity
    bool tls = false;
};

class TlsProxy {
  public:
    // ca_file: PEM certificates to trust for turns: instead of the system's.
    // on_failure: a server could not be reached (libnice is not told why
    // and may wait for it until the connect time-out).
    using FailureCallback = std::function<void(const ProxyTarget&, const std::string& why)>;
    TlsProxy(std::vector<ProxyTarget> targets, std::string ca_file, FailureCallback on_failure);
    ~TlsProxy();
    TlsProxy(const TlsProxy&) = delete;
    TlsProxy& operator=(const TlsProxy&) = delete;

    std::uint16_t port() const { return port_; }

  private:
    struct Tunnel;
    static gboolean on_incoming(GSocketService*, GSocketConnection*, GObject*, gpointer);
    static void on_request_read(GObject*, GAsyncResult*, gpointer);
    static void on_upstream(GObject*, GAsyncResult*, gpointer);
    static void on_client_event(GSocketClient*, GSocketClientEvent, GSocketConnectable*, GIOStream*,
                                gpointer);
    static void on_spliced(GObject*, GAsyncResult*, gpointer);
    void connect_upstream(Tunnel* tunnel);
    static void refuse(Tunnel* tunnel, const std::string& why);

    std::vector<ProxyTarget> targets_;
    FailureCallback on_failure_;
    GTlsDatabase* database_ = nullptr;
    GSocketService* service_ = nullptr;
    GCancellable* cancellable_ = nullptr;
    std::uint16_t port_ = 0;
};

}  // namespace rtcpeer::ice
