// Sends the data path's datagrams in batches: one sendmsg() with UDP
// segmentation offload (UDP_SEGMENT, Linux 4.18+) carries up to 64 DTLS
// records of equal size, which the kernel splits into datagrams.
//
// Why: a bulk transfer sends about 90,000 datagrams a second, and one
// sendmsg() each (what libnice does) put half of the sender's CPU time in
// the kernel's per-call path (perf, README "Speed"). Batching is used only
// when the selected pair's local candidate is a plain UDP socket (host,
// server- or peer-reflexive); relayed pairs go through libnice, which frames
// them for the TURN server.
//
// Datagrams queue until the main loop is idle for a moment (a high-priority
// source, so before any other event), or until the batch is full or a
// datagram of another size comes. RTCPEER_UDP_GSO=off in the environment
// sends them one per call, as without the offload (for comparison runs,
// scripts/profile). Threading: main thread only.
#pragma once

#include <glib.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtcpeer::ice {

class DatagramBatch {
  public:
    DatagramBatch(int fd, const sockaddr_storage& remote, socklen_t remote_length);
    ~DatagramBatch();
    DatagramBatch(const DatagramBatch&) = delete;
    DatagramBatch& operator=(const DatagramBatch&) = delete;

    // Queues one datagram; returns its size, as a send would.
    int send(const std::uint8_t* data, std::size_t size);
    void flush();
    bool pending() const { return count_ > 0; }

  private:
    static gboolean on_ready(gpointer self);
    void send_one(const std::uint8_t* data, std::size_t size);
    void send_each();  // the batch, one datagram per call

    int fd_;
    sockaddr_storage remote_;
    socklen_t remote_length_;
    std::vector<std::uint8_t> buffer_;
    std::size_t segment_size_ = 0;
    unsigned count_ = 0;
    bool closed_by_short_ = false;     // the last datagram was shorter: nothing may follow
    bool gso_ = true;                  // off after the kernel refused UDP_SEGMENT, or by choice
    GSource* flush_source_ = nullptr;  // ready while datagrams wait (pending())
};

}  // namespace rtcpeer::ice
