#include "ice/datagram_reader.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/environment.hpp"

namespace rtcpeer::ice {

namespace {

constexpr unsigned kBatch = 32;               // reads per recvmmsg()
constexpr std::size_t kDatagramBytes = 4096;  // above any path MTU; longer ones are dropped
// With UDP_GRO a read may hold up to 64 segments coalesced into one UDP
// datagram of up to 64 KiB; fewer, larger slots then. Pages of a slot are
// touched only as far as datagrams fill them.
constexpr unsigned kGroBatch = 16;
constexpr std::size_t kGroBytes = 65536;
constexpr std::uint64_t kPerWakeUp = 256;  // datagrams, then the loop iterates again
constexpr std::size_t kReplyBytes = 512;

// GLib runs only the highest-priority ready sources of an iteration: one
// step above libnice's socket source (G_PRIORITY_DEFAULT), below
// DatagramBatch's flush (G_PRIORITY_HIGH).
constexpr int kPriority = G_PRIORITY_DEFAULT - 1;

bool validate_username(StunAgent*, StunMessage*, std::uint8_t* username,
                       std::uint16_t username_length, std::uint8_t** password,
                       std::size_t* password_length, void* data) {
    const auto* identity = static_cast<const StunIdentity*>(data);
    // A request to us names our ufrag first: "local:remote" (RFC 8445 §7.2.2).
    const std::string text(reinterpret_cast<const char*>(username), username_length);
    const std::string prefix = identity->local_ufrag + ":";
    if (identity->local_ufrag.empty() || text.compare(0, prefix.size(), prefix) != 0) return false;
    if (!identity->remote_ufrag.empty() && text.substr(prefix.size()) != identity->remote_ufrag)
        return false;
    *password = reinterpret_cast<std::uint8_t*>(const_cast<char*>(identity->local_pwd.data()));
    *password_length = identity->local_pwd.size();
    return true;
}

struct ReaderSource {
    GSource base;
    DatagramReader* reader;
    GPollFD poll;
};

}  // namespace

StunOutcome answer_binding_request(const std::uint8_t* data, std::size_t size,
                                   const sockaddr_storage& from, socklen_t from_length,
                                   bool from_selected, const StunIdentity& identity,
                                   std::uint8_t* reply, std::size_t reply_capacity) {
    StunOutcome outcome;
    if (stun_message_validate_buffer_length(data, size, true) <= 0) {
        outcome.why = "not STUN";
        return outcome;
    }
    StunMessage header{};
    header.buffer = const_cast<std::uint8_t*>(data);
    header.buffer_len = size;
    if (stun_message_get_class(&header) != STUN_REQUEST) {
        outcome.why = "a STUN response or indication";
        return outcome;
    }
    outcome.verdict = StunVerdict::kHandBack;
    StunAgent agent;
    stun_agent_init(&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    static_cast<StunAgentUsageFlags>(STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
                                                     STUN_AGENT_USAGE_USE_FINGERPRINT));
    StunMessage request{};
    // The validater's data outlives the request: create_reply signs with the
    // key it returned.
    if (stun_agent_validate(&agent, &request, data, size, &validate_username,
                            const_cast<StunIdentity*>(&identity)) != STUN_VALIDATION_SUCCESS) {
        outcome.why = "a STUN request that does not validate";
        return outcome;
    }
    if (stun_message_get_method(&request) != STUN_BINDING) {
        outcome.why = "a STUN request other than Binding";
        return outcome;
    }
    std::uint64_t tie = 0;
    const auto role =
        identity.controlling ? STUN_ATTRIBUTE_ICE_CONTROLLING : STUN_ATTRIBUTE_ICE_CONTROLLED;
    if (stun_message_find64(&request, role, &tie) == STUN_MESSAGE_RETURN_SUCCESS) {
        outcome.why = "a Binding request with a role conflict";
        return outcome;
    }
    if (!from_selected && stun_message_has_attribute(&request, STUN_ATTRIBUTE_USE_CANDIDATE)) {
        outcome.why = "a nomination of another pair";
        return outcome;
    }
    if (reply_capacity < kReplyBytes) {
        outcome.why = "no room for the answer";
        return outcome;
    }
    StunMessage response{};
    std::size_t length = reply_capacity;
    bool control = identity.controlling;
    if (stun_usage_ice_conncheck_create_reply(
            &agent, &request, &response, reply, &length, &from, from_length, &control, 0,
            STUN_USAGE_ICE_COMPATIBILITY_RFC5245) != STUN_USAGE_ICE_RETURN_SUCCESS ||
        length == 0 || control != identity.controlling) {
        outcome.why = "a Binding request that cannot be answered";
        return outcome;
    }
    outcome.verdict = StunVerdict::kAnswer;
    outcome.reply_size = length;
    outcome.why = "";
    return outcome;
}

DatagramReader::DatagramReader(int fd, const sockaddr_storage& remote, socklen_t remote_length,
                               StunIdentity identity, Callbacks callbacks)
    : fd_(fd),
      remote_(remote),
      remote_length_(remote_length),
      identity_(std::move(identity)),
      callbacks_(std::move(callbacks)),
      reply_(kReplyBytes) {
    // Receive offload (Linux 5.0): the kernel hands over a run of datagrams
    // of one flow as one, and one cmsg says the segments' size. On veth and
    // loopback the sender's segmentation-offload batches arrive whole, so
    // the receiving kernel neither splits nor queues them one by one.
    // RTCPEER_UDP_GRO=off leaves it off (for comparison runs).
    const int on = 1;
    gro_ = !environment::turned_off("RTCPEER_UDP_GRO") &&
           ::setsockopt(fd_, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
    slots_ = gro_ ? kGroBatch : kBatch;
    slot_bytes_ = gro_ ? kGroBytes : kDatagramBytes;
    buffers_.resize(slots_ * slot_bytes_);
    static GSourceFuncs funcs = {
        nullptr, &DatagramReader::on_check, &DatagramReader::on_dispatch, nullptr, nullptr,
        nullptr};
    source_ = g_source_new(&funcs, sizeof(ReaderSource));
    auto* own = reinterpret_cast<ReaderSource*>(source_);
    own->reader = this;
    own->poll = GPollFD{fd_, G_IO_IN, 0};
    g_source_add_poll(source_, &own->poll);
    g_source_set_priority(source_, kPriority);
    // GLib takes a source that may not recurse out of the poll set for its
    // dispatch and puts it back, signalling the context's wakeup eventfd
    // each time: two writes, a read and one more loop iteration per dispatch
    // (about 200 dispatches per MiB under 5% loss). The dispatch runs no
    // nested loop while this source lives (~Agent stops the reader before
    // it runs one to release TURN allocations), so it may recurse.
    g_source_set_can_recurse(source_, TRUE);
    g_source_attach(source_, nullptr);
}

DatagramReader::~DatagramReader() {
    if (destroyed_ != nullptr) *destroyed_ = true;
    gro_off();
    if (source_ != nullptr) {
        g_source_destroy(source_);
        g_source_unref(source_);
    }
}

gboolean DatagramReader::on_check(GSource* source) {
    auto* own = reinterpret_cast<ReaderSource*>(source);
    return (own->poll.revents & (G_IO_IN | G_IO_ERR | G_IO_HUP | G_IO_NVAL)) != 0 ? TRUE : FALSE;
}

gboolean DatagramReader::on_dispatch(GSource* source, GSourceFunc, gpointer) {
    auto* own = reinterpret_cast<ReaderSource*>(source);
    DatagramReader* self = own->reader;
    if ((own->poll.revents & G_IO_NVAL) != 0) {
        // Not a socket any more (closed under the reader): never spin on it,
        // and leave its number alone (it may name another file by now).
        self->gro_ = false;
        self->hand_back("a closed socket");
        return G_SOURCE_REMOVE;
    }
    bool destroyed = false;
    self->destroyed_ = &destroyed;
    self->read();
    if (destroyed) return G_SOURCE_REMOVE;
    self->destroyed_ = nullptr;
    return self->source_ != nullptr ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

void DatagramReader::read() {
    mmsghdr messages[kBatch];
    iovec vectors[kBatch];
    sockaddr_storage senders[kBatch];
    alignas(cmsghdr) char controls[kBatch][CMSG_SPACE(sizeof(int))];
    std::uint64_t taken = 0;
    bool* const destroyed = destroyed_;
    // Rounds are bounded too: errors (ICMP reports queued on the socket)
    // return no datagram.
    for (unsigned round = 0;
         round < 2 * kPerWakeUp / kBatch && source_ != nullptr && taken < kPerWakeUp; ++round) {
        for (unsigned i = 0; i < slots_; ++i) {
            vectors[i] = {buffers_.data() + i * slot_bytes_, slot_bytes_};
            messages[i] = {};
            messages[i].msg_hdr.msg_name = &senders[i];
            messages[i].msg_hdr.msg_namelen = sizeof senders[i];
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
            if (gro_) {
                messages[i].msg_hdr.msg_control = controls[i];
                messages[i].msg_hdr.msg_controllen = sizeof controls[i];
            }
        }
        const int got = ::recvmmsg(fd_, messages, slots_, MSG_DONTWAIT, nullptr);
        if (got <= 0) {
            // EAGAIN: drained. Another error (an ICMP error queued on the
            // socket) is consumed by the call; libnice ignores them too.
            if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) continue;
            break;
        }
        ++counts_.calls;
        for (int i = 0; i < got; ++i) {
            const msghdr& header = messages[i].msg_hdr;
            if ((header.msg_flags & MSG_TRUNC) != 0) {
                ++counts_.dropped;
                continue;
            }
            const std::uint8_t* data = buffers_.data() + static_cast<std::size_t>(i) * slot_bytes_;
            const std::size_t size = messages[i].msg_len;
            // Without a segment size the read is one datagram.
            std::size_t segment = size;
            for (cmsghdr* c = CMSG_FIRSTHDR(&header); gro_ && c != nullptr;
                 c = CMSG_NXTHDR(const_cast<msghdr*>(&header), c)) {
                if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                    int value = 0;
                    std::memcpy(&value, CMSG_DATA(c), sizeof value);
                    if (value > 0) segment = static_cast<std::size_t>(value);
                }
            }
            if (segment < size) ++counts_.coalesced;
            for (std::size_t offset = 0; offset < size; offset += segment) {
                ++counts_.datagrams;
                ++taken;
                handle(data + offset, std::min(segment, size - offset), senders[i],
                       header.msg_namelen);
                if (destroyed != nullptr && *destroyed) return;  // a callback destroyed the reader
                if (source_ == nullptr) break;
            }
        }
        if (got < static_cast<int>(slots_)) break;  // most likely drained
    }
    if (taken >= kPerWakeUp) ++counts_.full;
}

bool DatagramReader::from_remote(const sockaddr_storage& from, socklen_t from_length) const {
    if (from.ss_family != remote_.ss_family) return false;
    if (from.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(from);
        const auto& b = reinterpret_cast<const sockaddr_in&>(remote_);
        return from_length >= sizeof a && a.sin_port == b.sin_port &&
               a.sin_addr.s_addr == b.sin_addr.s_addr;
    }
    if (from.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(from);
        const auto& b = reinterpret_cast<const sockaddr_in6&>(remote_);
        return from_length >= sizeof a && a.sin6_port == b.sin6_port &&
               std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0;
    }
    return false;
}

void DatagramReader::handle(const std::uint8_t* data, std::size_t size,
                            const sockaddr_storage& from, socklen_t from_length) {
    if (size == 0) {
        ++counts_.dropped;
        return;
    }
    const std::uint8_t first = data[0];
    // RFC 7983: 20..63 DTLS, 128..191 RTP/RTCP; both authenticate their own.
    if ((first >= 20 && first <= 63) || (first >= 128 && first <= 191)) {
        if (callbacks_.on_packet) callbacks_.on_packet(data, size);
        return;
    }
    if (first > 3) {
        ++counts_.dropped;
        return;
    }
    const StunOutcome outcome =
        answer_binding_request(data, size, from, from_length, from_remote(from, from_length),
                               identity_, reply_.data(), reply_.size());
    switch (outcome.verdict) {
        case StunVerdict::kAnswer:
            ++counts_.answered;
            ::sendto(fd_, reply_.data(), outcome.reply_size, MSG_DONTWAIT,
                     reinterpret_cast<const sockaddr*>(&from), from_length);
            if (callbacks_.on_answered) callbacks_.on_answered();
            break;
        case StunVerdict::kDrop:
            ++counts_.dropped;
            break;
        case StunVerdict::kHandBack:
            ++counts_.dropped;
            hand_back(outcome.why);
            break;
    }
}

void DatagramReader::gro_off() {
    if (!gro_) return;
    // libnice reads one datagram a call; a run coalesced before this still
    // reaches it as one datagram of whole DTLS records, which DTLS reads.
    const int off = 0;
    ::setsockopt(fd_, SOL_UDP, UDP_GRO, &off, sizeof off);
    gro_ = false;
}

void DatagramReader::hand_back(const std::string& why) {
    if (source_ == nullptr) return;
    gro_off();
    // Destroyed, not unreferenced: GLib holds the source while it dispatches.
    g_source_destroy(source_);
    g_source_unref(source_);
    source_ = nullptr;
    if (callbacks_.on_hand_back) callbacks_.on_hand_back(why);
}

}  // namespace rtcpeer::ice
