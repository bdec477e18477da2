// The part every backend shares: JSON lines over a readable and a writable
// file descriptor, with bounded buffering and non-blocking writes.
#pragma once

#include <string>

#include "base/loop.hpp"
#include "signaling/channel.hpp"
#include "signaling/line_framer.hpp"

namespace rtcpeer::signaling {

class LineStream {
  public:
    LineStream() = default;
    ~LineStream() { close_fds(); }
    LineStream(const LineStream&) = delete;
    LineStream& operator=(const LineStream&) = delete;

    // Takes ownership of the descriptors (read_fd may equal write_fd).
    // Both must be non-blocking.
    void attach(int read_fd, int write_fd, Channel::Callbacks* callbacks);
    // Only the read side (copy-and-paste opens its output later).
    void attach_reader(int read_fd, Channel::Callbacks* callbacks);
    void attach_writer(int write_fd);

    void send_line(std::string line);
    // Stops reading (and closes a read descriptor of its own), without on_closed.
    void close_reader();
    // Blocks up to timeout_ms for queued output to drain, then closes.
    void flush_and_close(int timeout_ms);
    bool writable() const { return write_fd_ >= 0; }
    bool readable() const { return read_fd_ >= 0; }

    // Called before each queued line is written (copy-and-paste prompts).
    std::function<void()> before_write;

  private:
    bool on_readable(GIOCondition condition);
    bool on_writable(GIOCondition condition);
    void try_write();
    void close_fds();

    int read_fd_ = -1;
    int write_fd_ = -1;
    Channel::Callbacks* callbacks_ = nullptr;
    LineFramer framer_{kMaxLineBytes};
    std::string out_;
    loop::FdWatch read_watch_;
    loop::FdWatch write_watch_;
    bool failed_ = false;
};

}  // namespace rtcpeer::signaling
