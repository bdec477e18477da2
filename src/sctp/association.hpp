// One SCTP association over DTLS (RFC 8261) with usrsctp, AF_CONN.
//
// Threading model. usrsctp is initialised with usrsctp_init_nothreads(): it
// starts no thread of its own. The program's GLib main loop drives it:
//   - packets from DTLS go in with usrsctp_conninput() on the main thread;
//   - usrsctp's timers advance from a 10 ms GLib timer (usrsctp_handle_timers)
//     that the Stack runs (sctp/stack.hpp, which also says who sets usrsctp up);
//   - usrsctp hands packets out through the conn_output callback, which it
//     can only call from inside those calls or usrsctp_sendv(), i.e. on the
//     main thread, so DTLS and libnice are only ever used from that thread.
// The socket is non-blocking; its upcall only marks the association "dirty"
// and the loop reads and writes afterwards (pump()), never inside usrsctp.
// No lock of ours exists; usrsctp's internal locks are uncontended.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sctp/redundancy.hpp"
#include "sctp/sack_frequency.hpp"

struct socket;

namespace rtcpeer::sctp {

class Stack;

struct Config {
    std::uint16_t local_port = 5000;
    std::uint16_t remote_port = 5000;
    std::size_t max_message_size = 262144;  // larger incoming messages are a protocol violation
};

// How one message is sent: ordered or not, and its partial reliability
// (RFC 3758 PR-SCTP, RFC 7496 policies). The default is what send() without
// options does: ordered and reliable. A data channel's options map onto it
// (RFC 8831 §6.4).
struct SendOptions {
    enum class Reliability {
        kReliable,        // retransmitted until acknowledged
        kMaxRetransmits,  // abandoned after `value` retransmissions (0: sent once)
        kMaxLifetime,     // abandoned `value` ms after it was handed over, if unacknowledged
    };
    bool unordered = false;
    Reliability reliability = Reliability::kReliable;
    std::uint32_t value = 0;
    // Sets the I bit (RFC 7053): the receiver acknowledges this message at
    // once instead of after its delayed-SACK time.
    bool sack_immediately = false;

    bool is_default() const { return !unordered && reliability == Reliability::kReliable; }
};

// What usrsctp counted in this process (one association per run).
struct Counters {
    std::uint64_t data_chunks_sent = 0;
    std::uint64_t data_chunks_received = 0;
    std::uint64_t retransmitted_chunks = 0;  // by time-out and fast retransmit
    std::uint64_t fast_retransmitted_chunks = 0;
    std::uint64_t retransmission_timeouts = 0;  // T3-rtx expiries
    std::uint64_t duplicate_chunks_received = 0;
    std::uint64_t sacks_sent = 0;
};

class Association {
  public:
    static Counters counters();
    // The outgoing streams asked for in INIT (RFC 8831 §6.2: browsers ask as many).
    static constexpr std::uint16_t kOutgoingStreams = 1024;

    struct Callbacks {
        std::function<void()> on_up;
        std::function<void(std::uint16_t stream, std::uint32_t ppid, std::string_view data)>
            on_message;
        std::function<void(std::uint16_t stream)> on_incoming_reset;  // the remote closed a stream
        std::function<void()> on_writable;  // room in the send buffer again
        std::function<void(const std::string& why, bool graceful)> on_ended;
        std::function<void(const std::string& why)> on_protocol_error;
    };
    // copies: how many times the packet goes out (see redundancy.hpp), each
    // copy encrypted as a DTLS record of its own.
    using SendPacket = std::function<bool(const std::uint8_t* data, std::size_t size, int copies)>;

    // stack must outlive the association.
    Association(Stack& stack, Config config, SendPacket send_packet, Callbacks callbacks);
    ~Association();
    Association(const Association&) = delete;
    Association& operator=(const Association&) = delete;

    // Sends INIT; both ends do (simultaneous open, RFC 4960 §5.2.1), as browsers do.
    void connect();
    // One SCTP packet decrypted by DTLS.
    void on_packet(const std::uint8_t* data, std::size_t size);

    enum class SendResult { kSent, kWouldBlock, kFailed };
    SendResult send(std::uint16_t stream, std::uint32_t ppid, const std::uint8_t* data,
                    std::size_t size);
    // The same, with the message's ordering and partial reliability
    // (usrsctp_sendv with SCTP_SENDV_SPA). Default options send exactly as
    // the overload above does.
    SendResult send(std::uint16_t stream, std::uint32_t ppid, const std::uint8_t* data,
                    std::size_t size, const SendOptions& options);
    // Messages that usrsctp abandoned under a partial-reliability policy on
    // this association, sent or not (RFC 7496 SCTP_PR_ASSOC_STATUS, summed
    // over the retransmission and lifetime policies): one per message,
    // however many chunks it had. The last figure stays after the end.
    std::uint64_t abandoned() const;
    // Resets our outgoing stream: the data channel's close (RFC 8831 §6.7).
    void reset_stream(std::uint16_t stream);
    // Nothing queued or in flight: every byte sent was acknowledged.
    bool all_acknowledged() const;
    // Back-pressure: while false, received data stays in usrsctp and its
    // receive window closes on the sender.
    void set_receiving(bool receiving);
    // ABORT (SO_LINGER 0 makes the close abortive): the remote learns that
    // the association failed, not that it ended. With a reason, the ABORT
    // carries it in a User-Initiated Abort cause (RFC 4960 §3.3.10.12).
    void abort(std::string_view reason = {});
    bool up() const { return up_; }
    // The reason text of the remote's User-Initiated Abort, once the remote
    // aborted with one (an ABORT without that cause leaves it empty).
    const std::optional<std::string>& remote_abort_reason() const { return remote_abort_reason_; }
    // Whether data we sent was still unacknowledged when the association
    // ended (all_acknowledged() says true once it has ended).
    bool ended_unacknowledged() const { return ended_unacknowledged_; }
    // Received data still waiting in usrsctp (held back by back-pressure).
    bool has_unread();

    // Called by the stack (sctp/stack.hpp).
    void pump();
    static int conn_output(void* address, void* buffer, std::size_t length, std::uint8_t tos,
                           std::uint8_t set_df);

  private:
    static void upcall(struct socket* sock, void* arg, int flags);
    void handle_notification(const std::uint8_t* data, std::size_t size);
    void end(const std::string& why, bool graceful);

    Stack& stack_;
    Config config_;
    SendPacket send_packet_;
    Callbacks callbacks_;
    struct socket* sock_ = nullptr;
    bool dirty_ = false;
    bool pumping_ = false;
    bool receiving_ = true;
    bool up_ = false;
    bool ended_ = false;
    bool want_write_ = false;
    bool dry_ = true;  // nothing queued or unacknowledged (SCTP_SENDER_DRY_EVENT)
    Redundancy redundancy_;
    SackFrequency sack_frequency_;
    std::string partial_;  // a message arriving in pieces (larger than one read)
    // Inside a notification longer than one read (a failed send carries the
    // message's data): its later pieces are skipped.
    bool in_notification_ = false;
    mutable std::uint64_t abandoned_ = 0;  // the last figure read
    std::optional<std::string> remote_abort_reason_;
    bool ended_unacknowledged_ = false;
    std::unique_ptr<std::uint8_t[]> buffer_;
};

}  // namespace rtcpeer::sctp
