// The signaling channel: one small interface over the three backends of
// rtcpeer(1), SIGNALING (tcp-socket, unix-socket, copy-and-paste), chosen like aiortc's
// create_signaling.
//
// Roles: the offerer sends the first message, so for the socket backends it
// listens and accepts one connection; the answerer connects, retrying until
// the signaling time-out. All I/O is non-blocking on the GLib main context;
// callbacks run on the main thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "signaling/config.hpp"
#include "signaling/message.hpp"

namespace rtcpeer::signaling {

class Channel {
  public:
    struct Callbacks {
        std::function<void()> on_connected;            // the peer is reachable
        std::function<void(Message)> on_message;       // one decoded message
        std::function<void()> on_closed;               // the peer closed its side (EOF)
        std::function<void(const Error&)> on_failure;  // cannot go on
    };

    virtual ~Channel() = default;

    // Starts listening, connecting or opening; progress arrives through callbacks.
    virtual void start(Callbacks callbacks) = 0;
    // Queues one message; it goes out once connected, in order.
    virtual void send(const Message& message) = 0;
    // Writes out what is queued (waiting up to a second) and closes.
    virtual void close() = 0;
    // A message sent now can reach the remote: connected, and the remote
    // has not closed its side.
    virtual bool connected() const = 0;
    // Nothing but a bye can come from the remote any more (its description
    // and every candidate are in, or the connection is up): a backend that
    // reads the terminal standard input reads too stops reading it.
    virtual void remote_complete() {}
    // Standard input reached its end: a terminal given up for it is read
    // again, so that a remote's bye can be pasted.
    virtual void stdin_done() {}
    // For logs: "tcp-socket 127.0.0.1:1234".
    virtual std::string describe() const = 0;
};

// The offerer sends the first message: for the socket backends it listens.
std::unique_ptr<Channel> create_channel(const Config& config, bool offerer, bool prompts);

}  // namespace rtcpeer::signaling
