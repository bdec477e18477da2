#include "signaling/stream.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/clock.hpp"

namespace rtcpeer::signaling {

void LineStream::attach(int read_fd, int write_fd, Channel::Callbacks* callbacks) {
    attach_reader(read_fd, callbacks);
    attach_writer(write_fd);
}

void LineStream::attach_reader(int read_fd, Channel::Callbacks* callbacks) {
    // A reader attached again (the terminal after stdin's end) starts on a
    // fresh line: what a closed reader left half-read is gone with it.
    framer_ = LineFramer(kMaxLineBytes);
    failed_ = false;
    read_fd_ = read_fd;
    callbacks_ = callbacks;
    read_watch_ = loop::FdWatch(read_fd_, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                                [this](GIOCondition c) { return on_readable(c); });
}

void LineStream::attach_writer(int write_fd) {
    write_fd_ = write_fd;
    try_write();
}

void LineStream::send_line(std::string line) {
    if (before_write && write_fd_ >= 0) before_write();
    out_ += line;
    out_ += '\n';
    try_write();
}

bool LineStream::on_readable(GIOCondition) {
    char buffer[65536];
    // Read what is there, but yield to the loop after a while so that a
    // flood of signaling cannot starve the data path.
    for (int round = 0; round < 16 && !failed_; ++round) {
        ssize_t n = ::read(read_fd_, buffer, sizeof buffer);
        if (n > 0) {
            try {
                framer_.feed(std::string_view(buffer, static_cast<std::size_t>(n)),
                             [this](std::string_view line) {
                                 // Nothing after close_reader() or a failure.
                                 if (failed_ || read_fd_ < 0) return;
                                 // Blank lines (an extra Enter when pasting) carry nothing.
                                 if (line.find_first_not_of(" \t\r") == std::string_view::npos)
                                     return;
                                 callbacks_->on_message(decode(line));
                             });
            } catch (const Error& failure) {
                failed_ = true;
                callbacks_->on_failure(failure);
                return false;
            }
            if (read_fd_ < 0) return false;  // close_reader() from a callback
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != ECONNRESET) {
            failed_ = true;
            callbacks_->on_failure(Error(ErrorCategory::kConnection, "signaling",
                                         std::string("read failed: ") + std::strerror(errno)));
            return false;
        }
        // End of stream (or a reset, which means the same here).
        read_watch_ = {};
        if (framer_.pending() > 0 && !failed_) {
            failed_ = true;
            callbacks_->on_failure(
                protocol_error("signaling", "connection closed in the middle of a message"));
            return false;
        }
        callbacks_->on_closed();
        return false;
    }
    return true;
}

void LineStream::try_write() {
    if (write_fd_ < 0) return;
    while (!out_.empty()) {
        ssize_t n = ::write(write_fd_, out_.data(), out_.size());
        if (n > 0) {
            out_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!write_watch_.active()) {
                write_watch_ = loop::FdWatch(
                    write_fd_, static_cast<GIOCondition>(G_IO_OUT | G_IO_ERR | G_IO_HUP),
                    [this](GIOCondition c) { return on_writable(c); });
            }
            return;
        }
        // EPIPE and friends: the peer is gone; the reader reports it.
        out_.clear();
        break;
    }
    write_watch_ = {};
}

bool LineStream::on_writable(GIOCondition) {
    write_watch_ = {};  // try_write re-arms it when needed
    try_write();
    return false;
}

void LineStream::close_reader() {
    read_watch_ = {};
    if (read_fd_ >= 0 && read_fd_ != write_fd_) ::close(read_fd_);
    read_fd_ = -1;
}

void LineStream::flush_and_close(int timeout_ms) {
    const std::int64_t deadline = system_clock().now_ms() + timeout_ms;
    while (write_fd_ >= 0 && !out_.empty()) {
        try_write();
        if (out_.empty()) break;
        const std::int64_t left = deadline - system_clock().now_ms();
        if (left <= 0) break;
        pollfd pfd{write_fd_, POLLOUT, 0};
        if (::poll(&pfd, 1, static_cast<int>(left)) <= 0) break;
    }
    close_fds();
}

void LineStream::close_fds() {
    read_watch_ = {};
    write_watch_ = {};
    if (read_fd_ >= 0) ::close(read_fd_);
    if (write_fd_ >= 0 && write_fd_ != read_fd_) ::close(write_fd_);
    read_fd_ = write_fd_ = -1;
}

}  // namespace rtcpeer::signaling
