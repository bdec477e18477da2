#include "app/stream_pipe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/log.hpp"

namespace rtcpeer {

namespace {
// Above this many bytes waiting for the output the channel is not read; below the
// low mark reading resumes. A slow consumer thus costs at most ~1 MiB here.
constexpr std::size_t kOutputHighWater = 1 << 20;
constexpr std::size_t kOutputLowWater = 256 << 10;
}  // namespace

StreamPipe::StreamPipe(StreamPipeConfig config, datachannel::DataChannel& channel,
                       Callbacks callbacks)
    : config_(std::move(config)), channel_(&channel), callbacks_(std::move(callbacks)) {
    channel_->set_buffered_amount_low_threshold(kInputLowWater);
    read_buffer_.resize(config_.message_size);
    input_is_terminal_ = ::isatty(config_.input_fd) != 0;
    struct stat st {};
    input_is_regular_ = ::fstat(config_.input_fd, &st) == 0 && S_ISREG(st.st_mode);
    // Writes to a pipe or socket must not block the loop: make the output
    // non-blocking for the run (restored at the end). Files and terminals
    // are left as they are: they do not stall, and the terminal is shared.
    struct stat out {};
    if (::fstat(config_.output_fd, &out) == 0 && (S_ISFIFO(out.st_mode) || S_ISSOCK(out.st_mode))) {
        output_saved_flags_ = ::fcntl(config_.output_fd, F_GETFL);
        if (output_saved_flags_ >= 0 &&
            ::fcntl(config_.output_fd, F_SETFL, output_saved_flags_ | O_NONBLOCK) == 0) {
            output_nonblocking_ = true;
        }
    }
}

StreamPipe::~StreamPipe() {
    eof_wait_.reset();
    input_watch_.reset();
    output_watch_.reset();
    if (output_nonblocking_ && !output_closed_)
        ::fcntl(config_.output_fd, F_SETFL, output_saved_flags_);
}

void StreamPipe::start() {
    input_watch_ =
        loop::FdWatch(config_.input_fd, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                      [this](GIOCondition c) { return on_input(c); });
}

void StreamPipe::stop_input() {
    input_stopped_ = true;
    input_watch_.reset();
    eof_wait_.reset();
}

bool StreamPipe::channel_full() const {
    return (channel_ != nullptr && channel_->buffered_amount() >= kInputHighWater) ||
           waiting_for_credit();
}

bool StreamPipe::waiting_for_credit() const {
    return config_.credit_window > 0 && bytes_sent_ - remote_written_ >= config_.credit_window;
}

bool StreamPipe::on_input(GIOCondition) {
    // A regular file never blocks: read several messages per wake-up. A pipe
    // or terminal gets one read, since a second one could block.
    const int rounds = input_is_regular_ ? 16 : 1;
    for (int i = 0; i < rounds && !channel_full() && !failed_; ++i) {
        if (channel_ == nullptr) {
            // The channel closed under us: nothing more can go.
            input_watch_ = {};
            return false;
        }
        ssize_t n = ::read(config_.input_fd, read_buffer_.data(), read_buffer_.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0) {
            fail(config_.input_name, std::string("read failed: ") + std::strerror(errno));
            return false;
        }
        if (n == 0) {
            input_eof_ = true;
            input_watch_ = {};
            if (config_.lines && !partial_line_.empty()) {
                send(partial_line_, false);
                partial_line_.clear();
            }
            send_eof();
            return false;
        }
        send_input(read_buffer_.data(), static_cast<std::size_t>(n));
    }
    if (channel_full()) {
        // Back-pressure: wait for on_buffered_amount_low() (or credit).
        input_watch_ = {};
        return false;
    }
    return true;
}

void StreamPipe::send(std::string_view data, bool binary, bool reliable) {
    if (channel_ == nullptr || !channel_->send(data, binary, reliable)) return;
    bytes_sent_ += data.size();
    ++messages_sent_;
    // The marker may have gone to SCTP inside send(); if not,
    // on_queue_drained() says when.
    if (eof_queued_ && !local_eof_sent_ && channel_ != nullptr && !channel_->has_queued())
        eof_left_queue();
}

void StreamPipe::send_eof() {
    auto data_pending = [this] {
        return channel_ != nullptr && config_.all_acknowledged &&
               (channel_->has_queued() || !config_.all_acknowledged());
    };
    if (data_pending()) {
        eof_wait_.start_repeating(std::chrono::milliseconds(5), [this, data_pending] {
            if (data_pending()) return true;
            send_eof();
            return false;
        });
        return;
    }
    // The end-of-file marker of aiortc's datachannel-filexfer. Sent
    // reliably even on a partially reliable channel: SCTP may give data up,
    // but the remote must learn where the stream ends (a receiver such as
    // datachannel-filexfer waits for this marker alone).
    eof_queued_ = true;
    send({}, true, true);
}

void StreamPipe::send_input(const char* data, std::size_t size) {
    if (!config_.lines) return send(std::string_view(data, size), true);
    std::string_view rest(data, size);
    while (!rest.empty()) {
        const std::size_t newline = rest.find('\n');
        if (newline == std::string_view::npos) {
            partial_line_.append(rest);
            rest = {};
        } else {
            partial_line_.append(rest.substr(0, newline));
            rest.remove_prefix(newline + 1);
            send(partial_line_, false);
            partial_line_.clear();
        }
        // A line longer than a message goes out in message-sized pieces.
        while (partial_line_.size() >= config_.message_size) {
            send(std::string_view(partial_line_).substr(0, config_.message_size), false);
            partial_line_.erase(0, config_.message_size);
        }
    }
}

void StreamPipe::eof_left_queue() {
    local_eof_sent_ = true;
    log::state("EOF sent (" + std::to_string(bytes_sent_) + " bytes from " + config_.input_name +
               ")");
    if (callbacks_.on_local_eof) callbacks_.on_local_eof();
}

void StreamPipe::on_queue_drained() {
    if (eof_queued_ && !local_eof_sent_) eof_left_queue();
}

void StreamPipe::on_buffered_amount_low() {
    if (!input_eof_ && !input_watch_.active() && !failed_ && channel_ != nullptr) start();
}

void StreamPipe::on_channel_closed() {
    if (channel_ == nullptr) return;
    unsent_at_close_ = channel_->unsent_at_close();
    channel_ = nullptr;
}

bool StreamPipe::stdin_has_unsent_data() {
    // Bytes still in the channel's queue (or dropped from it at a close)
    // were not sent; a lone EOF marker there is no data.
    if (unsent_at_close_ > 0 || (channel_ != nullptr && channel_->buffered_amount() > 0))
        return true;
    if (input_eof_) return false;
    if (!partial_line_.empty()) return true;
    if (input_is_regular_) {
        struct stat st {};
        const off_t offset = ::lseek(config_.input_fd, 0, SEEK_CUR);
        return ::fstat(config_.input_fd, &st) == 0 && offset >= 0 && st.st_size > offset;
    }
    pollfd pfd{config_.input_fd, POLLIN, 0};
    if (::poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN)) return false;
    // Readable: data, or just the end of it.
    char probe[4096];
    ssize_t n = ::read(config_.input_fd, probe, sizeof probe);
    if (n == 0) input_eof_ = true;
    return n > 0;
}

void StreamPipe::on_message(std::string_view data, bool binary) {
    // Credit still comes after the remote's EOF: it reads what we send.
    if (config_.credit_window > 0 && !binary && !data.empty()) return on_credit(data);
    if (remote_eof_) {
        // Nothing counts after the remote's EOF, but it is never dropped silently.
        if (!warned_after_eof_) {
            warned_after_eof_ = true;
            log::warn("the remote sent data after its end of file; ignored");
        }
        return;
    }
    ++messages_received_;
    // An empty message is the remote's EOF; in --lines mode an empty text
    // message is an empty line, and only an empty binary message ends.
    if (data.empty() && (binary || !config_.lines)) {
        remote_eof_ = true;
        log::state("EOF received (" + std::to_string(bytes_received_) + " bytes to " +
                   config_.output_name + ")");
        close_output_if_done();
        return;
    }
    bytes_received_ += data.size();
    if (config_.lines) {
        std::string line;
        line.reserve(data.size() + 1);
        line.append(data);
        line.push_back('\n');
        write_output(line);
    } else {
        write_output(data);
    }
}

void StreamPipe::on_credit(std::string_view text) {
    std::uint64_t count = 0;
    bool number = !text.empty() && text.size() <= 20;
    for (char c : text) {
        if (c < '0' || c > '9') number = false;
    }
    if (number) count = std::stoull(std::string(text));
    // A count never goes back and never exceeds what we sent.
    if (!number || count < remote_written_ || count > bytes_sent_) {
        return fail(config_.output_name,
                    "the remote sent a malformed credit message (a text message on a "
                    "forwarded channel)");
    }
    remote_written_ = count;
    if (!input_eof_ && !input_stopped_ && !input_watch_.active() && !failed_ &&
        channel_ != nullptr && !channel_full())
        start();
}

void StreamPipe::written(std::size_t bytes) {
    if (config_.credit_window == 0) return;
    bytes_written_ += bytes;
    if (bytes_written_ - credit_sent_ < config_.credit_window / 4 || channel_ == nullptr ||
        remote_eof_)
        return;
    // The remote stays at most a window ahead of this count; after its EOF
    // it sends nothing more and needs no credit.
    credit_sent_ = bytes_written_;
    channel_->send(std::to_string(bytes_written_), false);
}

void StreamPipe::on_remote_closed() {
    if (remote_eof_) return;
    remote_eof_ = true;
    log::state("remote closed (" + std::to_string(bytes_received_) + " bytes to " +
               config_.output_name + ")");
    close_output_if_done();
}

void StreamPipe::write_output(std::string_view data) {
    if (output_closed_ || failed_) return;
    // Write through while nothing is queued; queue only what does not fit.
    while (output_queue_.empty() && !data.empty()) {
        ssize_t n = ::write(config_.output_fd, data.data(), data.size());
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            written(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        fail(config_.output_name, std::string("write failed: ") + std::strerror(errno));
        return;
    }
    if (data.empty()) return;
    output_queue_.emplace_back(data);
    output_queued_ += data.size();
    if (!output_watch_.active()) {
        output_watch_ = loop::FdWatch(config_.output_fd,
                                      static_cast<GIOCondition>(G_IO_OUT | G_IO_ERR | G_IO_HUP),
                                      [this](GIOCondition c) { return on_output_writable(c); });
    }
    update_receiving();
}

bool StreamPipe::on_output_writable(GIOCondition) {
    drain_output();
    if (failed_ || output_queue_.empty()) {
        output_watch_ = {};
        close_output_if_done();
        return false;
    }
    return true;
}

void StreamPipe::drain_output() {
    while (!output_queue_.empty()) {
        std::string& front = output_queue_.front();
        ssize_t n = ::write(config_.output_fd, front.data() + output_offset_,
                            front.size() - output_offset_);
        if (n > 0) {
            output_offset_ += static_cast<std::size_t>(n);
            output_queued_ -= static_cast<std::size_t>(n);
            written(static_cast<std::size_t>(n));
            if (output_offset_ == front.size()) {
                output_queue_.pop_front();
                output_offset_ = 0;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        fail(config_.output_name, std::string("write failed: ") + std::strerror(errno));
        return;
    }
    update_receiving();
}

void StreamPipe::update_receiving() {
    // In credit mode the remote keeps to its window: stopping the
    // association is only a safety net, far above it.
    const std::size_t high = config_.credit_window > 0
                                 ? kCreditOutputHighWaterWindows * config_.credit_window
                                 : kOutputHighWater;
    const std::size_t low = config_.credit_window > 0 ? config_.credit_window : kOutputLowWater;
    const bool receive = output_queued_ < (receiving_ ? high : low);
    if (receive != receiving_) {
        receiving_ = receive;
        if (callbacks_.set_receiving) callbacks_.set_receiving(receive);
    }
}

void StreamPipe::close_output_if_done() {
    if (!remote_eof_ || !output_queue_.empty() || output_closed_ || failed_) return;
    output_closed_ = true;
    if (output_nonblocking_) ::fcntl(config_.output_fd, F_SETFL, output_saved_flags_);
    // Closing tells the consumer that the stream is complete. A socket that
    // is also the input is half-closed (its reading side stays open); any
    // other output then points at /dev/null so that nothing else can take
    // its number.
    if (config_.output_fd == config_.input_fd) {
        ::shutdown(config_.output_fd, SHUT_WR);
    } else {
        int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_fd >= 0) {
            ::dup2(null_fd, config_.output_fd);
            ::close(null_fd);
        } else {
            ::close(config_.output_fd);
        }
    }
    if (callbacks_.on_remote_eof) callbacks_.on_remote_eof();
}

void StreamPipe::fail(const std::string& stage, const std::string& why) {
    if (failed_) return;
    failed_ = true;
    input_watch_ = {};
    output_watch_ = {};
    if (callbacks_.on_failure) callbacks_.on_failure(Error(ErrorCategory::kRuntime, stage, why));
}

}  // namespace rtcpeer
