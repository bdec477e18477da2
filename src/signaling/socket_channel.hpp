// tcp-socket and unix-socket signaling: the same stream-socket logic over
// different addresses. The offerer listens and accepts exactly one client;
// the answerer connects, retrying on "refused" and "no such file" until the
// signaling time-out, since the two sides are usually started in any order.
#pragma once

#include <sys/socket.h>

#include <vector>

#include "signaling/stream.hpp"

namespace rtcpeer::signaling {

struct Endpoint {
    std::vector<sockaddr_storage> addresses;  // tried in order
    std::vector<socklen_t> lengths;
    std::string description;  // "tcp-socket 127.0.0.1:1234"
    std::string unix_path;    // unix-socket only: the file to manage
};

// A host that does not resolve raises an Error (name_lookup_category).
Endpoint tcp_endpoint(const std::string& host, unsigned port, bool passive);
Endpoint unix_endpoint(const std::string& path);

class SocketChannel : public Channel {
  public:
    SocketChannel(Endpoint endpoint, bool listen, std::optional<double> timeout_seconds);
    ~SocketChannel() override;

    void start(Callbacks callbacks) override;
    void send(const Message& message) override;
    void close() override;
    bool connected() const override { return connected_; }
    std::string describe() const override { return endpoint_.description; }

  private:
    void start_listening();
    bool on_accept();
    void try_connect();
    bool on_connect_done();
    void established(int fd);
    void fail(ErrorCategory category, const std::string& why);
    void remove_socket_file();

    Endpoint endpoint_;
    bool listen_;
    std::optional<double> timeout_seconds_;
    Callbacks callbacks_;
    LineStream stream_;
    int listen_fd_ = -1;
    int connect_fd_ = -1;
    bool connected_ = false;
    bool owns_socket_file_ = false;
    std::size_t attempt_ = 0;
    std::string last_error_;
    loop::FdWatch accept_watch_;
    loop::FdWatch connect_watch_;
    loop::Timer retry_timer_;
    std::chrono::milliseconds retry_interval_{0};
    void schedule_retry();
    loop::Timer deadline_timer_;
    loop::Timer notice_timer_;  // the connecting side's "waiting for" line
};

}  // namespace rtcpeer::signaling
