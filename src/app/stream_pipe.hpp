// A byte stream through one data channel (rtcpeer(1), DATA): what is read
// from the input goes to the remote as messages, what the remote sends is
// written to the output. The two ends are file descriptors: stdin/stdout, or
// one connected socket for both. Back-pressure both ways, bounded memory:
//   - the input is read while the channel's buffered_amount() is below
//     kInputHighWater, and again once on_buffered_amount_low says it fell
//     to kInputLowWater;
//   - the channel is not read while more than kOutputHighWater bytes wait
//     for the output, so SCTP's receive window closes on the remote sender.
// End of stream: EOF on the input sends one empty binary message; "EOF sent"
// means that marker has left the channel's queue for SCTP, so that once SCTP
// has everything acknowledged, everything was delivered. An empty message
// from the remote (in --lines mode: an empty binary one) is its EOF, after
// which the output is flushed and closed (a socket: shut down for writing).
//
// Credit mode (credit_window > 0; forwarding, where both ends are rtcpeer):
// back-pressure per channel instead of per association. The receiving side
// sends a text message holding, in decimal, how many bytes it has written to
// its output in all, each time another quarter window was written; the
// sending side does not read its input while the bytes it sent minus the
// last such count reach the window. The data is then always binary and a
// non-empty text message is always credit. A slow output thus holds at most
// about one window of its channel's data and stops only its own remote
// sender; the association is stopped only above kCreditOutputHighWater,
// which a remote that keeps to the window never reaches.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/loop.hpp"
#include "datachannel/data_channel.hpp"

namespace rtcpeer {

struct StreamPipeConfig {
    bool lines = false;
    std::size_t message_size = 65536;
    // The two ends: stdin/stdout, or one connected socket for both. The
    // names go into log lines and errors ("EOF sent (N bytes from stdin)").
    int input_fd = 0;
    int output_fd = 1;
    std::string input_name = "stdin";
    std::string output_name = "stdout";
    // Set for a channel whose messages may overtake one another (unordered):
    // the EOF marker waits until this says that everything sent before it
    // was acknowledged, so that it cannot arrive before the data.
    std::function<bool()> all_acknowledged;
    // Credit mode (above): the window in bytes; 0 = off (the association's
    // back-pressure only, for a remote that may not be rtcpeer).
    std::size_t credit_window = 0;
};

class StreamPipe {
  public:
    // While the channel holds this much not yet taken by SCTP, the input is
    // not read; reading resumes when it falls to the low mark. 1 MiB is 16
    // messages of the default size: on top of usrsctp's own send buffer
    // (2 MiB) it is enough to refill SCTP at once whenever it has room,
    // while one channel never holds more than ~1 MiB (plus one message) of
    // its input in memory, which matters when many pipes share a connection.
    static constexpr std::size_t kInputHighWater = 1 << 20;
    static constexpr std::size_t kInputLowWater = 512 << 10;
    // Credit mode: what waits for the output before the association stops
    // reading (a safety net against a remote that ignores the window).
    static constexpr std::size_t kCreditOutputHighWaterWindows = 4;

    struct Callbacks {
        std::function<void()> on_local_eof;   // the EOF marker is in SCTP's hands
        std::function<void()> on_remote_eof;  // remote EOF written out, output closed
        std::function<void(const Error&)> on_failure;
        std::function<void(bool receiving)> set_receiving;  // back-pressure on the association
    };

    // Sets the channel's low-water threshold; the owner forwards the
    // channel's callbacks to the on_* functions below.
    StreamPipe(StreamPipeConfig config, datachannel::DataChannel& channel, Callbacks callbacks);
    ~StreamPipe();
    StreamPipe(const StreamPipe&) = delete;
    StreamPipe& operator=(const StreamPipe&) = delete;

    void start();
    void on_message(std::string_view data, bool binary);
    // The channel's on_buffered_amount_low: the input may be read again.
    void on_buffered_amount_low();
    // The channel's on_queue_drained: what was sent is in SCTP's hands.
    void on_queue_drained();
    // The channel is gone (closed either way, or the association ended):
    // nothing more is sent on it.
    void on_channel_closed();
    // The remote closed the channel or the association: its EOF.
    void on_remote_closed();

    bool local_eof_sent() const { return local_eof_sent_; }
    bool remote_eof() const { return remote_eof_; }
    // The remote's EOF came, but what came before it still waits for the output.
    bool output_pending() const { return remote_eof_ && !output_closed_ && !failed_; }
    bool stdin_is_terminal() const { return input_is_terminal_; }
    // Whether the input still holds data that was not sent (checked without blocking).
    bool stdin_has_unsent_data();
    // Stops reading the input (the run is ending).
    void stop_input();
    std::uint64_t bytes_sent() const { return bytes_sent_; }
    std::uint64_t bytes_received() const { return bytes_received_; }
    std::uint64_t messages_sent() const { return messages_sent_; }
    std::uint64_t messages_received() const { return messages_received_; }
    // Credit mode: whether the input waits for the remote's credit.
    bool waiting_for_credit() const;

  private:
    bool on_input(GIOCondition condition);
    void send_input(const char* data, std::size_t size);
    void send(std::string_view data, bool binary, bool reliable = false);
    void send_eof();
    void eof_left_queue();
    bool channel_full() const;
    void write_output(std::string_view data);
    bool on_output_writable(GIOCondition condition);
    void drain_output();
    void close_output_if_done();
    void update_receiving();
    void fail(const std::string& stage, const std::string& why);
    void on_credit(std::string_view text);
    void written(std::size_t bytes);

    StreamPipeConfig config_;
    datachannel::DataChannel* channel_;  // null once the channel is closed
    Callbacks callbacks_;
    std::vector<char> read_buffer_;
    std::string partial_line_;
    bool input_eof_ = false;
    bool eof_queued_ = false;      // the marker is in the channel's queue
    bool local_eof_sent_ = false;  // ... and has left it for SCTP
    std::size_t unsent_at_close_ = 0;
    bool input_is_terminal_ = false;
    bool input_is_regular_ = false;
    loop::FdWatch input_watch_;
    loop::Timer eof_wait_;  // the EOF marker waits for the data before it

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

    // Credit mode: bytes written to the output, the count last sent as
    // credit, and the remote's last count.
    std::uint64_t bytes_written_ = 0, credit_sent_ = 0, remote_written_ = 0;
    bool input_stopped_ = false;
    std::uint64_t bytes_sent_ = 0, bytes_received_ = 0, messages_sent_ = 0, messages_received_ = 0;
};

}  // namespace rtcpeer
