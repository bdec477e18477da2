// copy-and-paste signaling (rtcpeer(1), SIGNALING). stdin and stdout carry the data,
// so the local messages go to stderr (or --signaling-output FILE) and the
// remote's are read from the terminal (or --signaling-input FILE). FIFOs work
// for both: the input is opened at once without blocking, the output when the
// first message is due, retrying while the FIFO has no reader yet, so that two
// processes joined by two FIFOs never wait on each other's open().
#pragma once

#include "signaling/stream.hpp"

namespace rtcpeer::signaling {

class CopyAndPasteChannel : public Channel {
  public:
    CopyAndPasteChannel(const Config& options, bool prompts, bool receives_first);

    void start(Callbacks callbacks) override;
    void send(const Message& message) override;
    void close() override;
    bool connected() const override { return started_; }
    void remote_complete() override;
    void stdin_done() override;
    std::string describe() const override;

  private:
    void open_output();
    std::string input_path() const;
    void prompt(const char* text) const;

    Config options_;
    bool prompts_;
    bool receives_first_;
    bool started_ = false;
    bool input_is_terminal_ = false;
    bool input_is_stdin_terminal_ = false;  // the terminal standard input reads too
    bool asked_for_input_ = false;
    bool gave_terminal_away_ = false;
    Callbacks callbacks_;
    LineStream stream_;
    std::vector<std::string> queued_;  // lines waiting for the output to open
    loop::Timer open_retry_;
    std::int64_t open_deadline_ms_ = -1;
};

}  // namespace rtcpeer::signaling
