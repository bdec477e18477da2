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
// A --connect host that is a name is looked up without blocking the loop
// (app/forward_address.hpp); what the channel brings meanwhile waits, as it
// does during a TCP connect. A name that does not resolve resets the channel.
//
// Each connection is counted for --stats (ForwardedConnection): the last
// kKeptRecords that ended are kept with their bytes and how they ended, and
// the number of older ones left out, so that a long forward stays bounded.
//
// The code: this file's class and the stream connections in forwarder.cpp,
// the UDP flows in forwarder_udp.cpp, addresses in forward_address.cpp.
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
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/forward_address.hpp"
#include "app/forward_spec.hpp"
#include "app/stream_pipe.hpp"
#include "base/loop.hpp"
#include "datachannel/registry.hpp"

namespace rtcpeer {

// One forwarded connection or UDP flow, as --stats reports it.
struct ForwardedConnection {
    std::string label;
    bool accepted = false;  // came in on a --listen socket (else: made for the remote's channel)
    std::string scheme;     // "tcp", "udp", "unix"
    std::string peer;       // the local socket's far end: the client, or the --connect target
    std::uint16_t stream = 0;
    std::uint64_t bytes_sent = 0, bytes_received = 0;  // to the remote, from it
    // "fin" (both directions ended in order), "reset" (by either end),
    // "refused" (the connect failed or the name did not resolve), "idle"
    // (udp: --udp-idle here), "closed" (udp: the remote closed the flow),
    // "open" (still open at the end of the run).
    std::string end;
};

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
    // The connections that ended (at most the last kKeptRecords), then the
    // open ones; and how many that ended were left out.
    static constexpr std::size_t kKeptRecords = 1000;
    std::vector<ForwardedConnection> records() const;
    std::uint64_t records_omitted() const { return records_omitted_; }

  private:
    // udp: the datagrams a flow keeps while its target's name is looked up.
    static constexpr std::size_t kEarlyDatagrams = 64;

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
        // What the channel brought before the connect completed (udp: a
        // few datagrams, while the name is looked up).
        std::vector<std::pair<std::string, bool>> early;
        std::unique_ptr<AddressLookup> lookup;
        std::vector<SocketAddress> next_addresses;  // tcp: tried in turn if a connect fails
        ForwardedConnection record;                 // end and bytes are filled in at the end
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
    using Then = void (Forwarder::*)(Connection&, const ForwardSpec&, const SocketAddress&);
    void resolve_target(Connection& connection, const ForwardSpec& spec, Then then);
    void connect_udp(Connection& connection, const ForwardSpec& spec, const SocketAddress& address);
    bool on_udp_replies(std::uint64_t id);
    void udp_to_channel(Connection& connection, std::string_view datagram);
    void udp_from_channel(Connection& connection, std::string_view datagram);
    void check_idle();
    Connection& add(datachannel::DataChannel& channel, const std::string& label, int fd);
    datachannel::DataChannel::Callbacks channel_callbacks(std::uint64_t id);
    void connect(Connection& connection, const ForwardSpec& spec, const SocketAddress& address);
    // A connect failed: the next address the name gave, or a reset.
    void connect_failed(Connection& connection, const ForwardSpec& spec, const std::string& why);
    void connected(Connection& connection);
    void start_pipe(Connection& connection);
    void maybe_done(Connection& connection);
    // outcome: the record's end, unless one was set before.
    void end(Connection& connection, const std::string& why, bool reset, const char* outcome);
    ForwardedConnection record_of(const Connection& connection) const;
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
    std::deque<ForwardedConnection> records_;  // the last that ended
    std::uint64_t records_omitted_ = 0;
};

}  // namespace rtcpeer
