#include "ice/datagram_batch.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/environment.hpp"
#include "base/log.hpp"

namespace rtcpeer::ice {

namespace {
// The kernel's limits for one UDP_SEGMENT send: 64 segments, and an IP
// datagram's 64 KiB before segmentation.
constexpr unsigned kMaxSegments = 64;
constexpr std::size_t kMaxBatchBytes = 65000;
}  // namespace

namespace {
// The flush source: one for the batch's whole life, ready while datagrams
// wait. GLib asks it before each poll (prepare) and after (check), so a
// batch queued during a dispatch leaves in the next iteration. It is not
// armed with g_source_set_ready_time(): GLib 2.74 then signals the main
// context's wakeup eventfd on every call, a write, a read and an extra poll
// per batch; under loss, where batches are small, that was a third of the
// 590 eventfd writes per MiB (the reader's dispatches made the rest).
struct FlushSource {
    GSource source;
    const DatagramBatch* batch;
};
gboolean flush_pending(GSource* source) {
    return reinterpret_cast<FlushSource*>(source)->batch->pending();
}
gboolean prepare_flush(GSource* source, gint* timeout) {
    *timeout = -1;
    return flush_pending(source);
}
gboolean dispatch_flush(GSource*, GSourceFunc callback, gpointer data) { return callback(data); }
GSourceFuncs flush_source_funcs = {prepare_flush, flush_pending, dispatch_flush,
                                   nullptr,       nullptr,       nullptr};
}  // namespace

DatagramBatch::DatagramBatch(int fd, const sockaddr_storage& remote, socklen_t remote_length)
    : fd_(fd), remote_(remote), remote_length_(remote_length) {
    buffer_.reserve(kMaxBatchBytes);
    flush_source_ = g_source_new(&flush_source_funcs, sizeof(FlushSource));
    reinterpret_cast<FlushSource*>(flush_source_)->batch = this;
    // High priority: the batch leaves before any other event is handled.
    g_source_set_priority(flush_source_, G_PRIORITY_HIGH);
    g_source_set_callback(flush_source_, &DatagramBatch::on_ready, this, nullptr);
    g_source_attach(flush_source_, nullptr);
    // For comparison runs (scripts/profile): one datagram per call.
    if (environment::turned_off("RTCPEER_UDP_GSO")) gso_ = false;
}

DatagramBatch::~DatagramBatch() {
    flush();
    g_source_destroy(flush_source_);
    g_source_unref(flush_source_);
}

int DatagramBatch::send(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > kMaxBatchBytes) {
        flush();
        send_one(data, size);
        return static_cast<int>(size);
    }
    // A batch holds equal sizes; only its last datagram may be shorter.
    if (count_ > 0 && (closed_by_short_ || size > segment_size_ || count_ == kMaxSegments ||
                       buffer_.size() + size > kMaxBatchBytes)) {
        flush();
    }
    if (count_ == 0) segment_size_ = size;
    buffer_.insert(buffer_.end(), data, data + size);
    ++count_;
    closed_by_short_ = size < segment_size_;
    return static_cast<int>(size);
}

gboolean DatagramBatch::on_ready(gpointer self) {
    static_cast<DatagramBatch*>(self)->flush();
    return G_SOURCE_CONTINUE;
}

void DatagramBatch::send_one(const std::uint8_t* data, std::size_t size) {
    // A datagram that does not go is lost like one on the wire; SCTP resends.
    ::sendto(fd_, data, size, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&remote_),
             remote_length_);
}

void DatagramBatch::send_each() {
    for (std::size_t offset = 0; offset < buffer_.size(); offset += segment_size_) {
        send_one(buffer_.data() + offset, std::min(segment_size_, buffer_.size() - offset));
    }
}

void DatagramBatch::flush() {
    if (count_ == 0) return;
    if (count_ == 1 || !gso_) {
        send_each();
    } else {
        iovec iov{buffer_.data(), buffer_.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint16_t))] = {};
        msghdr message{};
        message.msg_name = &remote_;
        message.msg_namelen = remote_length_;
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        cmsghdr* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_UDP;
        header->cmsg_type = UDP_SEGMENT;
        header->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        const auto segment = static_cast<std::uint16_t>(segment_size_);
        std::memcpy(CMSG_DATA(header), &segment, sizeof segment);
        // The kernel refuses a UDP_SEGMENT send without the offload (EIO,
        // ENOPROTOOPT, EOPNOTSUPP), and when a segment does not fit the
        // path MTU: EINVAL on older kernels, EMSGSIZE on recent ones (seen
        // on 6.18 with a 1100-byte MTU). Single datagrams still go then,
        // fragmented by IP, so the refusal must not drop the batch.
        if (::sendmsg(fd_, &message, MSG_DONTWAIT) < 0 &&
            (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT || errno == EOPNOTSUPP ||
             errno == EMSGSIZE)) {
            // No segmentation offload here: one datagram per call from now on.
            gso_ = false;
            log::state("UDP segmentation offload unavailable; sending datagrams one by one");
            send_each();
        }
    }
    buffer_.clear();
    count_ = 0;
    closed_by_short_ = false;
}

}  // namespace rtcpeer::ice
