// The data channels of one SCTP association (RFC 8831, RFC 8832): any number
// at once, opened by either side, each with its own options, queue and
// buffered amount.
//
// Stream ids. A channel we open takes the lowest free id of our DTLS role's
// parity (RFC 8832 §6: client even, server odd), below kMaxStreams (the
// outgoing streams the association asks for); a negotiated channel takes the
// id both sides named, of either parity, and sends no DCEP.
//
// Opening. open() sends DATA_CHANNEL_OPEN and the channel is open at once:
// its messages go ordered until the remote's DATA_CHANNEL_ACK (or its first
// message on the stream) arrives (RFC 8832 §6.6), then with the channel's
// options. A remote's OPEN goes to the accept policy: yes answers ACK and
// hands the channel to on_channel; no (or no policy) resets the stream.
//
// Sending. Messages wait in their channel's queue; the registry hands them
// to the association one at a time, round-robin over the channels that have
// some, so that a channel with much queued cannot hold up another. When the
// association's send buffer is full it waits for on_writable().
//
// Receiving. Back-pressure is per association: sctp::Association::
// set_receiving(false) stops every channel (one SCTP receive window). A
// per-channel limit on what is received is the user's to enforce for now.
//
// Closing. DataChannel::close() resets our outgoing stream once its queue has
// gone to SCTP (what the remote sends meanwhile is still delivered); the
// remote's reset of a stream closes its channel (on_closed) and we reset ours
// in reply (RFC 8831 §6.7). The end of the association closes every channel.
// A channel whose message SCTP refuses outright (a stream id beyond what the
// association negotiated) is closed the same way, with a warning.
//
// Errors. An entry point throws Error (kProtocol) when the remote breaks
// DCEP: a malformed DCEP message, a second OPEN on a stream that carries a
// channel, an unknown payload protocol id. Tolerated oddities are warnings,
// each bounded: a refused channel (at most 3), data on a stream without a
// channel (once), an OPEN on a stream of our own parity (once; the policy
// still decides). Whether the remote's channel options suit the user (say,
// an unreliable channel for a byte stream) is the policy's to judge.
//
// Threading: the loop's thread only (sctp/association.hpp). Callbacks may
// call back into the registry and its channels (open, send, close).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "datachannel/data_channel.hpp"
#include "datachannel/options.hpp"
#include "datachannel/types.hpp"
#include "sctp/association.hpp"

namespace rtcpeer::datachannel {

// A channel the remote asks to open, as the accept policy sees it.
struct IncomingChannel {
    StreamId stream;
    std::string label;
    ChannelOptions options;  // negotiated is empty
};

class Registry {
  public:
    // Our channels' ids stay below the outgoing streams the association asks for.
    static constexpr std::uint16_t kMaxStreams = sctp::Association::kOutgoingStreams;

    struct Callbacks {
        // Whether to accept a channel the remote opens. Absent: refuse all.
        std::function<bool(const IncomingChannel&)> accept;
        // An accepted channel, before its on_open: set its callbacks here.
        std::function<void(DataChannel&)> on_channel;
    };

    // association must outlive the registry; dtls_client: our DTLS role.
    Registry(sctp::Association& association, bool dtls_client, Callbacks callbacks);
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Opens a channel (the association must be up). on_open runs before this
    // returns. Throws Error: kUsage for contradicting options or a
    // negotiated id in use or reserved; kRuntime when every stream id of our
    // parity is taken; kConnection when the association is not up or ended,
    // or refuses the DATA_CHANNEL_OPEN.
    DataChannel& open(std::string label, ChannelOptions options,
                      DataChannel::Callbacks callbacks = {});

    // What the owner forwards from sctp::Association's callbacks.
    void on_sctp_message(std::uint16_t stream, std::uint32_t ppid, std::string_view data);
    void on_incoming_reset(std::uint16_t stream);
    void on_writable();
    void on_association_ended();

    // The channel on a stream, if one is there and not closed.
    DataChannel* find(StreamId stream);
    // Channels open or closing.
    std::size_t size() const;
    // Closes every open channel (DataChannel::close), as an orderly end does.
    void close_all();
    // Bytes queued in every channel, not yet taken by SCTP.
    std::size_t buffered_amount() const;

  private:
    friend class DataChannel;
    // Counts nested entry points; the outermost forgets closed channels.
    class Entry {
      public:
        explicit Entry(Registry& registry) : registry_(registry) { ++registry_.depth_; }
        ~Entry() {
            if (--registry_.depth_ == 0) registry_.sweep();
        }
        Entry(const Entry&) = delete;
        Entry& operator=(const Entry&) = delete;

      private:
        Registry& registry_;
    };

    void on_dcep(StreamId stream, std::string_view data);
    DataChannel& add(StreamId stream, std::string label, ChannelOptions options, bool acked);
    void enqueue(DataChannel& channel, std::string data, Ppid ppid, std::size_t counted,
                 bool reliable = false);
    void flush();
    // Hands one message to SCTP with the channel's send options.
    sctp::Association::SendResult send_message(DataChannel& channel, Ppid ppid, bool reliable,
                                               std::string_view data);
    // Sends a message at once when nothing is queued anywhere (so that its
    // order and turn are what the queue would give it) and SCTP takes it:
    // no copy into the queue. False: it must be queued.
    bool send_now(DataChannel& channel, std::string_view data, Ppid ppid, bool reliable);
    void reset_when_drained(DataChannel& channel);
    void finish(DataChannel& channel, const char* why);
    void sweep();
    std::optional<StreamId> free_stream() const;

    sctp::Association& association_;
    bool dtls_client_;
    Callbacks callbacks_;
    std::map<StreamId, std::unique_ptr<DataChannel>> channels_;
    std::deque<DataChannel*> ring_;  // channels with queued messages, in turn
    bool waiting_writable_ = false;  // the association refused: wait for on_writable()
    bool writable_signal_ = false;   // on_writable() came since the last send began
    bool flushing_ = false;
    bool flush_again_ = false;
    bool ended_ = false;
    int depth_ = 0;
    unsigned refused_ = 0;
    bool warned_stray_ = false;
    bool warned_parity_ = false;
};

}  // namespace rtcpeer::datachannel
