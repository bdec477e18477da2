// Receives the selected pair's datagrams in batches: recvmmsg() on the
// socket libnice selected, up to 32 datagrams a call, instead of libnice's
// one recvmsg() and one dispatch per datagram.
//
// Why: a bulk transfer receives about 90,000 datagrams a second, and the
// receive path (libnice's recvmsg() and its per-message handling) was a
// quarter of the receiver's CPU time (perf). Measured for 256 MiB on
// loopback, rtcpeer to rtcpeer, 6 runs each: the receiver's CPU time
// (user + sys) went from 1.71 s to 1.35 s on average, about 30 datagrams
// a recvmmsg().
//
// The socket also asks for receive offload (UDP_GRO): a run of datagrams
// of one flow may come as one read, split here by the segment size the
// kernel reports. Between two hosts on veth or loopback, the sender's
// segmentation-offload batches (DatagramBatch) then cross whole, neither
// split nor queued one by one. 128 MiB over veth, 2 runs each: 119 ->
// 149 MB/s, CPU per GiB 7.4 -> 5.9 s sending and 6.0 -> 5.0 s receiving.
// Off again when the reader ends (libnice reads a datagram a call);
// RTCPEER_UDP_GRO=off leaves it off.
//
// The reader's source has a higher priority than libnice's own source on
// the same socket: GLib dispatches only the highest-priority ready sources
// of an iteration, so while the reader is attached, libnice does not read
// the socket. The reader returns to the loop after 256 datagrams; while the
// socket stays readable it is dispatched again before the loop's
// default-priority sources (stdout, timers). It cannot let one iteration
// pass: libnice's source, ready then, reads until the socket is empty
// (measured: most of a transfer went through libnice that way). A receiver
// whose stdout cannot keep up stops reading from SCTP (app/stream_pipe), the
// sender stops, the socket drains and the other sources run.
//
// Every datagram is sorted by its first byte (RFC 7983): DTLS and RTP/RTCP
// go up through on_packet whatever their source (DTLS and SRTP
// authenticate). A STUN Binding request (the remote's consent checks, RFC
// 7675) is answered here when that is safe, with libnice's STUN library and
// the local ICE credentials (answer_binding_request(), below). Anything the
// reader cannot answer safely (a nomination from another address, a role
// conflict, a request that fails validation) hands the socket back to
// libnice for good: the reader's source goes, and libnice sees the remote's
// retransmission of that request. STUN responses and indications (libnice's
// keepalives) and anything else are counted and dropped.
//
// Used when the selected pair's local candidate is a plain UDP socket (as
// for DatagramBatch) and no UDP TURN server is configured (libnice talks to
// it from the same sockets, and its refreshes' answers must reach it).
// RTCPEER_UDP_RECV_BATCH=off in the environment leaves every datagram to
// libnice (ice/agent.cpp; for comparison runs).
// Threading: main thread only.
#pragma once

#include <glib.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rtcpeer::ice {

// What the reader needs to answer a Binding request as libnice would.
struct StunIdentity {
    std::string local_ufrag;
    std::string local_pwd;
    std::string remote_ufrag;  // empty: any remote ufrag is accepted
    bool controlling = false;
};

enum class StunVerdict {
    kAnswer,    // `reply` holds the success response to send to the source
    kHandBack,  // libnice must see this (and so the rest of the traffic)
    kDrop,      // responses, indications, what is not STUN
};

struct StunOutcome {
    StunVerdict verdict = StunVerdict::kDrop;
    std::size_t reply_size = 0;
    const char* why = "";  // for the log, when not answered
};

// Decides what to do with a datagram whose first byte says STUN (0..3),
// from `from`; `from_selected` says whether `from` is the selected pair's
// remote address. A Binding request that validates against `identity`
// (USERNAME "local:remote", MESSAGE-INTEGRITY with the local password,
// FINGERPRINT), carries no role conflict and nominates no other pair is
// answered into `reply` (at least 512 bytes): a success response with
// XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT. Pure: no sockets.
StunOutcome answer_binding_request(const std::uint8_t* data, std::size_t size,
                                   const sockaddr_storage& from, socklen_t from_length,
                                   bool from_selected, const StunIdentity& identity,
                                   std::uint8_t* reply, std::size_t reply_capacity);

class DatagramReader {
  public:
    struct Callbacks {
        // DTLS or RTP/RTCP, as libnice's receive callback would give it.
        std::function<void(const std::uint8_t* data, std::size_t size)> on_packet;
        // A Binding request (a consent check) was answered.
        std::function<void()> on_answered;
        // The reader stopped reading: libnice has the socket again.
        std::function<void(const std::string& why)> on_hand_back;
    };
    struct Counts {
        std::uint64_t datagrams = 0;  // read by recvmmsg()
        std::uint64_t calls = 0;      // recvmmsg() calls that returned datagrams
        std::uint64_t coalesced = 0;  // reads that held more than one datagram (UDP_GRO)
        std::uint64_t answered = 0;   // Binding requests answered
        std::uint64_t dropped = 0;    // STUN responses and indications, other bytes
        std::uint64_t full = 0;       // wake-ups that stopped at 256
    };

    // `fd` is libnice's socket of the selected pair, which outlives the reader;
    // `remote` the selected pair's remote address.
    DatagramReader(int fd, const sockaddr_storage& remote, socklen_t remote_length,
                   StunIdentity identity, Callbacks callbacks);
    ~DatagramReader();
    DatagramReader(const DatagramReader&) = delete;
    DatagramReader& operator=(const DatagramReader&) = delete;

    bool reading() const { return source_ != nullptr; }
    const Counts& counts() const { return counts_; }

  private:
    static gboolean on_check(GSource* source);
    static gboolean on_dispatch(GSource* source, GSourceFunc, gpointer);
    void read();
    void handle(const std::uint8_t* data, std::size_t size, const sockaddr_storage& from,
                socklen_t from_length);
    bool from_remote(const sockaddr_storage& from, socklen_t from_length) const;
    void hand_back(const std::string& why);
    void gro_off();

    int fd_;
    sockaddr_storage remote_;
    socklen_t remote_length_;
    StunIdentity identity_;
    Callbacks callbacks_;
    GSource* source_ = nullptr;
    gpointer fd_tag_ = nullptr;
    bool* destroyed_ = nullptr;  // set while dispatching: whether a callback destroyed us
    bool gro_ = false;           // UDP_GRO is on: a read may hold several datagrams
    unsigned slots_ = 0;
    std::size_t slot_bytes_ = 0;
    std::vector<std::uint8_t> buffers_;
    std::vector<std::uint8_t> reply_;
    Counts counts_;
};

}  // namespace rtcpeer::ice
