// Port forwarding over data channels (rtcpeer(1), FORWARDING), either role:
//   - each connection accepted on a --listen socket opens a reliable,
//     ordered channel labelled with the spec's name;
//   - each channel the remote opens with a label that a --connect names
//     becomes a connection to that address. A label no --connect names is
//     refused (the stream is reset, with a warning); nothing is ever
//     connected to an address the command line does not name.
// Each connection is a StreamPipe between its socket and its channel: a
// FIN is the channel's EOF marker and the remote's EOF shuts our socket
// down for writing (half-close both ways); once both directions are done
// the channel is closed. A failed connect or a socket error resets the
// channel; a channel the remote closes without its EOF marker (its
// connection was reset or failed) resets the socket (RST), so a reset
// travels both ways.
//
// UDP (udp: specs): each distinct source address that sends to a --listen
// socket gets one unordered channel with max-retransmits 0 (a flow); one
// datagram is one message, and the remote's messages go back to that source
// from the listening socket. The --connect side gives each such channel its
// own connected UDP socket, so only the target's replies come back. A flow
// without a datagram either way for its spec's udp_idle_seconds is closed
// (its channel, and so the remote's flow too). A datagram that finds its
// channel holding kInputHighWater is dropped, as a full link would.
//
// Limits: at most max_channels connections at once (the rest are refused
// or closed at once). Back-pressure is per connection both ways: sending,
// its channel's buffered amount; receiving, the pipes' credit mode
// (app/stream_pipe.hpp, kCreditWindow): a connection whose socket does not
// take its data stops only its own remote sender, at most one window ahead.
// The association's receive window (datachannel/registry.hpp) is stopped
// only when a connection holds several windows, which a remote that keeps
// to the credit never causes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/forward_spec.hpp"
#include "app/stream_pipe.hpp"
#include "base/loop.hpp"
#include "datachannel/registry.hpp"

namespace rtcpeer {

class Forwarder {
  public:
    // Each connection's credit window. 1 MiB: the output high-water mark a
    // pipe had before, so the memory bound per connection (~1 MiB each way,
    // options.hpp --max-channels) stays; credit returns every 256 KiB, so
    // one connection still fills a path of 1 MiB per round trip (100 MB/s
    // at 10 ms).
    static constexpr std::size_t kCreditWindow = 1 << 20;

    struct Config {
        std::vector<ForwardSpec> listen;
        std::vector<ForwardSpec> connect;
        unsigned max_channels = 64;
        std::size_t message_size = 65536;
    };
    struct Callbacks {
        std::function<void()> on_connection_closed;         // one connection is over
        std::function<void(bool receiving)> set_receiving;  // the association's back-pressure
    };

    Forwarder(Config config, datachannel::Registry& registry, Callbacks callbacks);
    ~Forwarder();
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;

    // Opens the listening sockets; throws Error (kRuntime) when one cannot be.
    void start();
    // The Registry's accept policy and on_channel.
    bool accept(const datachannel::IncomingChannel& incoming);
    void on_channel(datachannel::DataChannel& channel);

    std::uint64_t connections() const { return connections_total_; }
    std::size_t open_connections() const { return connections_.size(); }
    std::uint64_t bytes_sent() const;
    std::uint64_t bytes_received() const;

  private:
    struct Listener {
        ForwardSpec spec;
        int fd = -1;
        loop::FdWatch watch;
        std::map<std::string, std::uint64_t> flows;  // udp: source address -> connection
    };
    struct Connection {
        std::uint64_t id = 0;
        std::string name;  // for log lines: "web #3"
        int fd = -1;
        datachannel::DataChannel* channel = nullptr;
        std::unique_ptr<StreamPipe> pipe;
        loop::FdWatch connect_watch;
        std::vector<std::pair<std::string, bool>> early;  // arrived before the connect completed
        bool receiving = true;
        bool over = false;
        bool draining = false;  // the channel closed; the socket still takes its last data
        bool abort = false;     // the channel closed without the remote's EOF: reset the socket
        // udp: a flow. On the listening side fd is -1 and replies go out on
        // the listener's socket to source.
        bool udp = false;
        Listener* listener = nullptr;
        std::string source;  // the source's sockaddr bytes (the listener's key)
        double idle_seconds = 60;
        std::int64_t last_active_us = 0;
        std::uint64_t udp_sent = 0, udp_received = 0;
        loop::FdWatch udp_watch;
    };

    void listen(const ForwardSpec& spec);
    bool on_accept(Listener& listener);
    bool on_datagrams(Listener& listener);
    void connect_udp(Connection& connection, const ForwardSpec& spec);
    bool on_udp_replies(std::uint64_t id);
    void udp_to_channel(Connection& connection, std::string_view datagram);
    void udp_from_channel(Connection& connection, std::string_view datagram);
    void check_idle();
    Connection& add(datachannel::DataChannel& channel, const std::string& label, int fd);
    datachannel::DataChannel::Callbacks channel_callbacks(std::uint64_t id);
    void connect(Connection& connection, const ForwardSpec& spec);
    void connected(Connection& connection);
    void start_pipe(Connection& connection);
    void maybe_done(Connection& connection);
    void end(Connection& connection, const std::string& why, bool reset);
    void reap();
    void update_receiving();
    Connection* find(std::uint64_t id);

    Config config_;
    datachannel::Registry& registry_;
    Callbacks callbacks_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::map<std::uint64_t, std::unique_ptr<Connection>> connections_;
    std::uint64_t next_id_ = 1;
    std::uint64_t connections_total_ = 0;
    std::uint64_t closed_bytes_sent_ = 0, closed_bytes_received_ = 0;
    bool receiving_ = true;
    unsigned refused_ = 0;
    loop::Timer reaper_;      // frees ended connections outside their callbacks
    loop::Timer idle_timer_;  // udp: closes idle flows
    std::vector<char> datagram_;
    unsigned dropped_warnings_ = 0;
};

}  // namespace rtcpeer
