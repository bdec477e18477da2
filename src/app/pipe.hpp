// stdin -> data channel -> remote, remote -> data channel -> stdout
// (rtcpeer(1), DATA), with back-pressure both ways and bounded memory:
//   - stdin is not read while a message waits for room in SCTP's send buffer;
//   - the channel is not read while more than kOutputHighWater bytes wait for
//     stdout, so SCTP's receive window closes on the remote sender.
// End of stream: EOF on stdin sends one empty binary message; an empty
// message from the remote (in --lines mode: an empty binary one) is its EOF,
// after which stdout is flushed and closed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/loop.hpp"
#include "datachannel/channel.hpp"

namespace rtcpeer {

struct PipeConfig {
    bool lines = false;
    std::size_t message_size = 65536;
    // The two ends: stdin/stdout, or one connected socket for both. The
    // names go into log lines and errors ("EOF sent (N bytes from stdin)").
    int input_fd = 0;
    int output_fd = 1;
    std::string input_name = "stdin";
    std::string output_name = "stdout";
};

class Pipe {
  public:
    struct Callbacks {
        std::function<void()> on_local_eof;   // the EOF marker is in SCTP's hands
        std::function<void()> on_remote_eof;  // remote EOF written out, output closed
        std::function<void(const Error&)> on_failure;
        std::function<void(bool receiving)> set_receiving;  // back-pressure on the association
    };

    Pipe(PipeConfig config, datachannel::Channel& channel, Callbacks callbacks);
    ~Pipe();
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;

    void start();
    void on_message(std::string_view data, bool binary);
    // The channel can take more.
    void on_writable();
    // The remote closed the channel or the association: its EOF.
    void on_remote_closed();

    bool local_eof_sent() const { return local_eof_sent_; }
    bool remote_eof() const { return remote_eof_; }
    bool stdin_is_terminal() const { return input_is_terminal_; }
    // Whether the input still holds data that was not sent (checked without blocking).
    bool stdin_has_unsent_data();
    // Stops reading the input (the run is ending).
    void stop_input();
    std::uint64_t bytes_sent() const { return bytes_sent_; }
    std::uint64_t bytes_received() const { return bytes_received_; }
    std::uint64_t messages_sent() const { return messages_sent_; }
    std::uint64_t messages_received() const { return messages_received_; }

  private:
    struct Outgoing {
        std::string data;
        bool binary;
    };
    bool on_input(GIOCondition condition);
    void queue_input(const char* data, std::size_t size);
    void flush_outgoing();
    void write_output(std::string_view data);
    bool on_output_writable(GIOCondition condition);
    void drain_output();
    void close_output_if_done();
    void update_receiving();
    void fail(const std::string& stage, const std::string& why);

    PipeConfig config_;
    datachannel::Channel& channel_;
    Callbacks callbacks_;
    std::vector<char> read_buffer_;
    std::string partial_line_;
    std::deque<Outgoing> outgoing_;
    bool input_eof_ = false;
    bool local_eof_sent_ = false;
    bool input_is_terminal_ = false;
    bool input_is_regular_ = false;
    loop::FdWatch input_watch_;

    std::deque<std::string> output_queue_;
    std::size_t output_queued_ = 0;
    std::size_t output_offset_ = 0;  // into output_queue_.front()
    bool output_nonblocking_ = false;
    int output_saved_flags_ = -1;
    bool output_closed_ = false;
    bool remote_eof_ = false;
    bool receiving_ = true;
    bool failed_ = false;
    bool warned_after_eof_ = false;
    loop::FdWatch output_watch_;

    std::uint64_t bytes_sent_ = 0, bytes_received_ = 0, messages_sent_ = 0, messages_received_ = 0;
};

}  // namespace rtcpeer
