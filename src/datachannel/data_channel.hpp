// One data channel of a Registry (registry.hpp): a label, options, one SCTP
// stream id, a queue of outgoing messages and the user's callbacks.
//
// The Registry creates and owns every DataChannel. A reference stays valid
// until the channel's on_closed callback has returned; the Registry forgets
// the channel after that (its stream id becomes free again once both
// directions were reset).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

#include "datachannel/options.hpp"
#include "datachannel/types.hpp"

namespace rtcpeer::datachannel {

class Registry;

class DataChannel {
  public:
    struct Callbacks {
        // The channel can carry messages. For a channel we open, before
        // open() returns; for one the remote opens, after on_channel.
        std::function<void()> on_open;
        // A whole message; empty for PPID 56/57 (RFC 8831 §6.6).
        std::function<void(std::string_view data, bool binary)> on_message;
        // buffered_amount() fell to or below the threshold by sending.
        std::function<void()> on_buffered_amount_low;
        // Both directions are closed (the remote reset its stream, or the
        // association ended); nothing more is sent or delivered.
        std::function<void()> on_closed;
        // The queue emptied by sending: every message sent so far, empty
        // ones included (which buffered_amount() does not count), is in
        // SCTP's hands.
        std::function<void()> on_queue_drained;
    };

    enum class State {
        kOpen,
        kClosing,  // close() was called: the queue drains, then our stream is reset
        kClosed,
    };

    DataChannel(const DataChannel&) = delete;
    DataChannel& operator=(const DataChannel&) = delete;

    void set_callbacks(Callbacks callbacks) { callbacks_ = std::move(callbacks); }

    const std::string& label() const { return label_; }
    const std::string& protocol() const { return options_.protocol; }
    const ChannelOptions& options() const { return options_; }
    StreamId stream() const { return stream_; }
    State state() const { return state_; }
    bool is_open() const { return state_ == State::kOpen; }
    // Whether the remote acknowledged our DCEP OPEN (or need not: a channel
    // the remote opened, a negotiated one). Until then messages go ordered.
    bool acknowledged() const { return acked_; }

    // Queues a message (never drops it, never blocks); the Registry hands it
    // to SCTP when the association takes it. False only when the channel no
    // longer sends (closing or closed). An empty message travels as one zero
    // byte with PPID 56/57. reliable: this message is retransmitted until
    // acknowledged whatever the channel's partial reliability (its ordering
    // stays), for a message that must not be given up, such as an end marker.
    bool send(std::string_view data, bool binary, bool reliable = false);
    // Bytes of messages queued here that SCTP has not taken yet.
    std::size_t buffered_amount() const { return buffered_; }
    void set_buffered_amount_low_threshold(std::size_t bytes) { low_threshold_ = bytes; }
    std::size_t buffered_amount_low_threshold() const { return low_threshold_; }
    // Whether messages wait in the queue (buffered_amount() counts only
    // their bytes, not empty messages).
    bool has_queued() const { return !queue_.empty(); }
    // Bytes that were still queued when the channel closed and so never
    // went to SCTP (readable in on_closed).
    std::size_t unsent_at_close() const { return unsent_at_close_; }
    // Resets our outgoing stream once what is queued has gone to SCTP
    // (RFC 8831 §6.7); on_closed follows when the remote resets its own.
    void close();

  private:
    friend class Registry;
    struct Outgoing {
        std::string data;
        Ppid ppid;
        bool reliable = false;  // whatever the channel's partial reliability
    };
    DataChannel(Registry& registry, StreamId stream, std::string label, ChannelOptions options,
                bool acked);

    Registry& registry_;
    StreamId stream_;
    std::string label_;
    ChannelOptions options_;
    Callbacks callbacks_;
    State state_ = State::kOpen;
    bool acked_;
    bool reset_sent_ = false;  // our outgoing stream was reset
    bool in_ring_ = false;     // waits in the Registry's round-robin ring
    std::deque<Outgoing> queue_;
    std::size_t buffered_ = 0;  // bytes of user data in queue_
    std::size_t low_threshold_ = 0;
    std::size_t unsent_at_close_ = 0;
};

}  // namespace rtcpeer::datachannel
