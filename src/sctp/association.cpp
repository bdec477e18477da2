#include "sctp/association.hpp"

#include <glib.h>
#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/constants.hpp"
#include "base/error.hpp"
#include "base/loop.hpp"
#include "sctp/abort_cause.hpp"
#include "sctp/crc32c.hpp"
#include "sctp/stack.hpp"

namespace rtcpeer::sctp {

namespace {

// Tuning. Each value's reason is given where it is set.
constexpr std::size_t kReadBytes = 65536;
constexpr std::uint32_t kHeartbeatMs = 5000;

template <typename T>
void set_option(struct socket* sock, int level, int name, const T& value, const char* what) {
    if (usrsctp_setsockopt(sock, level, name, &value, sizeof value) != 0) {
        throw Error(ErrorCategory::kRuntime, "sctp",
                    std::string("setting ") + what + ": " + std::strerror(errno));
    }
}

sockaddr_conn conn_address(void* self, std::uint16_t port) {
    sockaddr_conn address{};
    address.sconn_family = AF_CONN;
    address.sconn_port = htons(port);
    address.sconn_addr = self;
    return address;
}

}  // namespace

Counters Association::counters() {
    sctpstat stat{};
    usrsctp_get_stat(&stat);
    Counters c;
    c.data_chunks_sent = stat.sctps_senddata;
    c.data_chunks_received = stat.sctps_recvdata;
    c.retransmitted_chunks = stat.sctps_sendretransdata;
    c.fast_retransmitted_chunks = stat.sctps_sendfastretrans;
    c.retransmission_timeouts = stat.sctps_timodata;
    c.duplicate_chunks_received = stat.sctps_recvdupdata;
    c.sacks_sent = stat.sctps_sendsacks;
    return c;
}

Association::Association(Stack& stack, Config config, SendPacket send_packet, Callbacks callbacks)
    : stack_(stack),
      config_(config),
      send_packet_(std::move(send_packet)),
      callbacks_(std::move(callbacks)),
      redundancy_(Redundancy::enabled_by_environment()),
      buffer_(new std::uint8_t[kReadBytes]) {
    stack_.add(this);
    sock_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
    if (sock_ == nullptr) {
        stack_.remove(this);
        throw Error(ErrorCategory::kRuntime, "sctp",
                    std::string("socket: ") + std::strerror(errno));
    }
    usrsctp_set_non_blocking(sock_, 1);
    usrsctp_set_upcall(sock_, &Association::upcall, this);

    // Closing is done by the session (stream reset, SHUTDOWN); usrsctp_close
    // itself must not block.
    set_option(sock_, SOL_SOCKET, SO_LINGER, linger{1, 0}, "SO_LINGER");
    set_option(sock_, SOL_SOCKET, SO_SNDBUF, Stack::kSendBufferBytes, "SO_SNDBUF");
    set_option(sock_, SOL_SOCKET, SO_RCVBUF, Stack::kReceiveBufferBytes, "SO_RCVBUF");
    // Data channels close by resetting their streams (RFC 8831 §6.7).
    set_option(sock_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET,
               sctp_assoc_value{SCTP_ALL_ASSOC, SCTP_ENABLE_RESET_STREAM_REQ},
               "SCTP_ENABLE_STREAM_RESET");
    // Partial reliability (RFC 3758): data channels with max-retransmits or
    // a lifetime need FORWARD-TSN. usrsctp's default is on (the sysctl is
    // set in stack.cpp too); saying it here keeps it on whatever the default.
    set_option(sock_, IPPROTO_SCTP, SCTP_PR_SUPPORTED, sctp_assoc_value{SCTP_ALL_ASSOC, 1},
               "SCTP_PR_SUPPORTED");
    // Messages go out at once rather than waiting to fill a packet (Nagle).
    set_option(sock_, IPPROTO_SCTP, SCTP_NODELAY, 1, "SCTP_NODELAY");
    set_option(sock_, IPPROTO_SCTP, SCTP_RECVRCVINFO, 1, "SCTP_RECVRCVINFO");
    // RFC 8831 §6.2: as many streams as the peer may want; browsers ask 1024.
    sctp_initmsg init{};
    init.sinit_num_ostreams = kOutgoingStreams;
    init.sinit_max_instreams = 65535;
    set_option(sock_, IPPROTO_SCTP, SCTP_INITMSG, init, "SCTP_INITMSG");
    // One packet per DTLS record (base/constants.hpp); SCTP must never send
    // larger packets, and path MTU discovery has nothing to probe here.
    // Heartbeats every 5 s keep an idle connection audible: the remote's
    // HEARTBEAT-ACKs are what the session's liveness check hears.
    sctp_paddrparams params{};
    params.spp_flags = SPP_PMTUD_DISABLE | SPP_HB_ENABLE;
    params.spp_pathmtu = static_cast<std::uint32_t>(kSctpPathMtu);
    params.spp_hbinterval = kHeartbeatMs;
    set_option(sock_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, params, "SCTP_PEER_ADDR_PARAMS");
    for (std::uint16_t type :
         {SCTP_ASSOC_CHANGE, SCTP_REMOTE_ERROR, SCTP_SHUTDOWN_EVENT, SCTP_SEND_FAILED_EVENT,
          SCTP_STREAM_RESET_EVENT, SCTP_SENDER_DRY_EVENT}) {
        sctp_event event{};
        event.se_assoc_id = SCTP_ALL_ASSOC;
        event.se_type = type;
        event.se_on = 1;
        set_option(sock_, IPPROTO_SCTP, SCTP_EVENT, event, "SCTP_EVENT");
    }
    sockaddr_conn local = conn_address(this, config_.local_port);
    if (usrsctp_bind(sock_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        throw Error(ErrorCategory::kRuntime, "sctp", std::string("bind: ") + std::strerror(errno));
    }
}

Association::~Association() {
    if (sock_ != nullptr) {
        usrsctp_set_upcall(sock_, nullptr, nullptr);
        usrsctp_close(sock_);
    }
    stack_.remove(this);
}

void Association::connect() {
    sockaddr_conn remote = conn_address(this, config_.remote_port);
    if (usrsctp_connect(sock_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 &&
        errno != EINPROGRESS) {
        throw Error(ErrorCategory::kRuntime, "sctp",
                    std::string("connect: ") + std::strerror(errno));
    }
    stack_.pump_all();
}

int Association::conn_output(void* address, void* buffer, std::size_t length, std::uint8_t,
                             std::uint8_t) {
    if (!Stack::serves(address)) return -1;
    auto* self = static_cast<Association*>(address);
    auto* packet = static_cast<std::uint8_t*>(buffer);
    fill_checksum(packet, length);
    return self->send_packet_(packet, length, self->redundancy_.copies(packet, length)) ? 0 : -1;
}

void Association::upcall(struct socket*, void* arg, int) {
    // Inside usrsctp: only note that there is something to do.
    static_cast<Association*>(arg)->dirty_ = true;
}

void Association::on_packet(const std::uint8_t* data, std::size_t size) {
    const std::uint32_t frequency = sack_frequency_.on_packet(data, size, stack_.clock().now_ms());
    if (frequency != 0 && sock_ != nullptr) {
        // Applies to what usrsctp takes in from now on (sctp/sack_frequency.hpp).
        // On a one-to-one socket the option reaches its association. A
        // failure (the association is going) only leaves the last frequency.
        sctp_sack_info sack{};
        sack.sack_assoc_id = SCTP_FUTURE_ASSOC;
        sack.sack_delay = Stack::kDelayedSackMs;
        sack.sack_freq = frequency;
        usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_DELAYED_SACK, &sack, sizeof sack);
    }
    usrsctp_conninput(this, data, size, 0);
    stack_.pump_all();
}

void Association::set_receiving(bool receiving) {
    const bool resumed = receiving && !receiving_;
    receiving_ = receiving;
    if (resumed) {
        dirty_ = true;
        pump();
    }
}

void Association::pump() {
    if (pumping_ || sock_ == nullptr) return;
    pumping_ = true;
    bool offered_write = false;
    while (dirty_ && !ended_) {
        dirty_ = false;
        const int events = usrsctp_get_events(sock_);
        if ((events & SCTP_EVENT_READ) && receiving_) {
            // Read until empty or told to stop; each message may come in pieces.
            for (int round = 0; round < 256 && receiving_ && !ended_; ++round) {
                sctp_rcvinfo info{};
                socklen_t info_length = sizeof info;
                unsigned int info_type = 0;
                int flags = 0;
                sockaddr_conn from{};
                socklen_t from_length = sizeof from;
                ssize_t n = usrsctp_recvv(sock_, buffer_.get(), kReadBytes,
                                          reinterpret_cast<sockaddr*>(&from), &from_length, &info,
                                          &info_length, &info_type, &flags);
                if (n < 0) {
                    if (errno != EWOULDBLOCK && errno != EAGAIN)
                        end(std::string("receive: ") + std::strerror(errno), false);
                    break;
                }
                if (n == 0) {
                    end("the remote shut the association down", true);
                    break;
                }
                const auto size = static_cast<std::size_t>(n);
                if (flags & MSG_NOTIFICATION) {
                    // Most notifications are small, but a failed send's
                    // carries the message: only the first piece holds the
                    // header, and the rest is skipped.
                    if (!in_notification_) handle_notification(buffer_.get(), size);
                    in_notification_ = !(flags & MSG_EOR);
                    continue;
                }
                if (partial_.size() + size > config_.max_message_size) {
                    if (callbacks_.on_protocol_error) {
                        callbacks_.on_protocol_error("the remote sent a message larger than " +
                                                     std::to_string(config_.max_message_size) +
                                                     " bytes (our a=max-message-size)");
                    }
                    partial_.clear();
                    break;
                }
                if (!(flags & MSG_EOR)) {
                    partial_.append(reinterpret_cast<const char*>(buffer_.get()), size);
                    continue;
                }
                const std::uint32_t ppid = ntohl(info.rcv_ppid);
                if (partial_.empty()) {
                    callbacks_.on_message(
                        info.rcv_sid, ppid,
                        std::string_view(reinterpret_cast<const char*>(buffer_.get()), size));
                } else {
                    partial_.append(reinterpret_cast<const char*>(buffer_.get()), size);
                    std::string message = std::move(partial_);
                    partial_.clear();
                    callbacks_.on_message(info.rcv_sid, ppid, message);
                }
            }
            // More may remain (round limit): come back on the next pump.
            if (receiving_ && (usrsctp_get_events(sock_) & SCTP_EVENT_READ)) dirty_ = true;
        }
        // "Writable" means some space, perhaps less than a message: offer
        // it once per pump, so that a send that still does not fit waits
        // for the next SACK instead of spinning here.
        if ((events & SCTP_EVENT_WRITE) && want_write_ && !ended_ && !offered_write) {
            offered_write = true;
            want_write_ = false;
            if (callbacks_.on_writable) callbacks_.on_writable();
        }
    }
    pumping_ = false;
}

void Association::handle_notification(const std::uint8_t* data, std::size_t size) {
    const auto* notification = reinterpret_cast<const sctp_notification*>(data);
    if (size < sizeof(notification->sn_header)) return;
    switch (notification->sn_header.sn_type) {
        case SCTP_ASSOC_CHANGE: {
            const auto& change = notification->sn_assoc_change;
            if (change.sac_state == SCTP_COMM_UP || change.sac_state == SCTP_RESTART) {
                if (!up_) {
                    up_ = true;
                    if (callbacks_.on_up) callbacks_.on_up();
                }
            } else if (change.sac_state == SCTP_COMM_LOST) {
                // The remote's ABORT chunk follows the fixed part (sac_info).
                const std::size_t length = std::min<std::size_t>(size, change.sac_length);
                if (length > sizeof(sctp_assoc_change)) {
                    remote_abort_reason_ = user_abort_reason(data + sizeof(sctp_assoc_change),
                                                             length - sizeof(sctp_assoc_change));
                }
                end(remote_abort_reason_ ? "the remote aborted the association"
                                         : "association lost (the remote stopped answering or "
                                           "aborted)",
                    false);
            } else if (change.sac_state == SCTP_SHUTDOWN_COMP) {
                end("the remote shut the association down", true);
            } else if (change.sac_state == SCTP_CANT_STR_ASSOC) {
                end("the association could not be set up", false);
            }
            break;
        }
        case SCTP_SENDER_DRY_EVENT:
            dry_ = true;
            abandoned();  // settled for now; usrsctp forgets it with the association
            break;
        case SCTP_SHUTDOWN_EVENT:
            end("the remote shut the association down", true);
            break;
        case SCTP_STREAM_RESET_EVENT: {
            const auto& reset = notification->sn_strreset_event;
            if ((reset.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) &&
                !(reset.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED))) {
                const std::size_t count =
                    (reset.strreset_length - sizeof(sctp_stream_reset_event)) /
                    sizeof(std::uint16_t);
                for (std::size_t i = 0; i < count && i < 65536; ++i) {
                    if (callbacks_.on_incoming_reset)
                        callbacks_.on_incoming_reset(reset.strreset_stream_list[i]);
                }
            }
            break;
        }
        default:
            break;
    }
}

Association::SendResult Association::send(std::uint16_t stream, std::uint32_t ppid,
                                          const std::uint8_t* data, std::size_t size) {
    return send(stream, ppid, data, size, SendOptions{});
}

Association::SendResult Association::send(std::uint16_t stream, std::uint32_t ppid,
                                          const std::uint8_t* data, std::size_t size,
                                          const SendOptions& options) {
    if (ended_ || !up_) return SendResult::kFailed;
    sctp_sndinfo info{};
    info.snd_sid = stream;
    info.snd_ppid = htonl(ppid);
    info.snd_flags = SCTP_EOR;
    if (options.sack_immediately) info.snd_flags |= SCTP_SACK_IMMEDIATELY;
    ssize_t n = 0;
    if (options.is_default()) {
        n = usrsctp_sendv(sock_, data, size, nullptr, 0, &info, sizeof info, SCTP_SENDV_SNDINFO, 0);
    } else {
        if (options.unordered) info.snd_flags |= SCTP_UNORDERED;
        sctp_sendv_spa spa{};
        spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
        spa.sendv_sndinfo = info;
        if (options.reliability != SendOptions::Reliability::kReliable) {
            spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
            spa.sendv_prinfo.pr_policy =
                options.reliability == SendOptions::Reliability::kMaxRetransmits ? SCTP_PR_SCTP_RTX
                                                                                 : SCTP_PR_SCTP_TTL;
            spa.sendv_prinfo.pr_value = options.value;
        }
        n = usrsctp_sendv(sock_, data, size, nullptr, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
    }
    SendResult result = SendResult::kSent;
    if (n >= 0) dry_ = false;
    if (n < 0) {
        if (errno == EWOULDBLOCK || errno == EAGAIN) {
            // The whole message must fit. Retry when a SACK frees space: each
            // one comes through conninput and raises the upcall.
            want_write_ = true;
            result = SendResult::kWouldBlock;
        } else {
            result = SendResult::kFailed;
        }
    }
    stack_.pump_all();
    return result;
}

void Association::reset_stream(std::uint16_t stream) {
    if (ended_ || !up_) return;
    const std::size_t length = sizeof(sctp_reset_streams) + sizeof(std::uint16_t);
    auto request = std::make_unique<std::uint8_t[]>(length);
    auto* reset = reinterpret_cast<sctp_reset_streams*>(request.get());
    reset->srs_assoc_id = SCTP_ALL_ASSOC;
    reset->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    reset->srs_number_streams = 1;
    reset->srs_stream_list[0] = stream;
    usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_RESET_STREAMS, reset,
                       static_cast<socklen_t>(length));
    stack_.pump_all();
}

std::uint64_t Association::abandoned() const {
    if (sock_ == nullptr) return abandoned_;
    std::uint64_t total = 0;
    for (std::uint16_t policy : {SCTP_PR_SCTP_TTL, SCTP_PR_SCTP_RTX}) {
        sctp_prstatus status{};
        status.sprstat_assoc_id = SCTP_ALL_ASSOC;
        status.sprstat_policy = policy;
        socklen_t length = sizeof status;
        if (usrsctp_getsockopt(sock_, IPPROTO_SCTP, SCTP_PR_ASSOC_STATUS, &status, &length) != 0)
            return abandoned_;  // no association (yet, or any more)
        total += status.sprstat_abandoned_unsent + status.sprstat_abandoned_sent;
    }
    abandoned_ = total;
    return total;
}

bool Association::all_acknowledged() const {
    // SCTP_STATUS counts only chunks in flight, not those still queued; the
    // SENDER_DRY notification covers both (RFC 6458 §6.1.9). But a
    // notification is read after it was queued, possibly after a later
    // send: a stale one must not pass for the last message acknowledged
    // (an unordered end-of-file marker would overtake it), so the chunks
    // in flight are asked for as well.
    if (ended_) return true;
    if (!dry_ || sock_ == nullptr) return false;
    sctp_status status{};
    status.sstat_assoc_id = SCTP_ALL_ASSOC;
    socklen_t length = sizeof status;
    if (usrsctp_getsockopt(sock_, IPPROTO_SCTP, SCTP_STATUS, &status, &length) != 0) return dry_;
    return status.sstat_unackdata == 0;
}

bool Association::has_unread() {
    return sock_ != nullptr && !ended_ && (usrsctp_get_events(sock_) & SCTP_EVENT_READ) != 0;
}

void Association::abort(std::string_view reason) {
    if (sock_ == nullptr) return;
    const bool alive = up_ && !ended_;
    ended_ = true;
    usrsctp_set_upcall(sock_, nullptr, nullptr);
    if (alive && !reason.empty()) {
        // SCTP_ABORT: usrsctp sends ABORT at once, whatever is queued, with
        // the data as the User-Initiated Abort's reason.
        sctp_sndinfo info{};
        info.snd_flags = SCTP_ABORT;
        usrsctp_sendv(sock_, reason.data(), reason.size(), nullptr, 0, &info, sizeof info,
                      SCTP_SENDV_SNDINFO, 0);
    }
    usrsctp_close(sock_);
    sock_ = nullptr;
}

void Association::end(const std::string& why, bool graceful) {
    if (ended_) return;
    // usrsctp forgets the association's PR-SCTP counts with it: read them
    // while it may still answer (also whenever the send queue runs dry), so
    // that --stats reports them afterwards.
    abandoned();
    ended_unacknowledged_ = !dry_;
    ended_ = true;
    if (callbacks_.on_ended) callbacks_.on_ended(why, graceful);
}

}  // namespace rtcpeer::sctp
