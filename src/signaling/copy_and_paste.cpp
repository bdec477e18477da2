#include "signaling/copy_and_paste.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/clock.hpp"
#include "signaling/socket_channel.hpp"

namespace rtcpeer::signaling {

namespace {
constexpr std::chrono::milliseconds kOpenRetryInterval{50};
constexpr const char* kTerminal = "/dev/tty";

// Whether standard input reads the terminal that fd (open on a terminal) is.
// /dev/tty stands for the controlling terminal but has a device number of
// its own, so for it ask whether standard input is the controlling terminal.
bool same_terminal_as_stdin(int fd) {
    struct stat in {};
    struct stat terminal {};
    if (::isatty(STDIN_FILENO) == 0 || ::fstat(STDIN_FILENO, &in) != 0 ||
        ::fstat(fd, &terminal) != 0)
        return false;
    if (in.st_rdev == terminal.st_rdev) return true;
    struct stat controlling {};
    if (::stat(kTerminal, &controlling) != 0 || terminal.st_rdev != controlling.st_rdev)
        return false;
    pid_t session = 0;
    return ::ioctl(STDIN_FILENO, TIOCGSID, &session) == 0 && session == ::getsid(0);
}
}  // namespace

CopyAndPasteChannel::CopyAndPasteChannel(const Config& options, bool prompts, bool receives_first)
    : options_(options), prompts_(prompts), receives_first_(receives_first) {}

std::string CopyAndPasteChannel::describe() const {
    return "copy-and-paste (in: " +
           (options_.input_file.empty() ? std::string(kTerminal) : options_.input_file) +
           ", out: " +
           (options_.output_file.empty() ? std::string("stderr") : options_.output_file) + ")";
}

void CopyAndPasteChannel::prompt(const char* text) const {
    if (prompts_) std::fprintf(stderr, "%s\n", text);
}

std::string CopyAndPasteChannel::input_path() const {
    return options_.input_file.empty() ? kTerminal : options_.input_file;
}

void CopyAndPasteChannel::start(Callbacks callbacks) {
    callbacks_ = std::move(callbacks);
    const std::string input = input_path();
    int fd = ::open(input.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        std::string why = "cannot open " + input + ": " + std::strerror(errno);
        if (options_.input_file.empty()) why += " (name a signaling input file)";
        return callbacks_.on_failure(
            Error(ErrorCategory::kRuntime, "signaling", why).about("signaling input"));
    }
    input_is_terminal_ = ::isatty(fd) != 0;
    input_is_stdin_terminal_ = input_is_terminal_ && same_terminal_as_stdin(fd);
    stream_.attach_reader(fd, &callbacks_);
    if (!options_.output_file.empty()) {
        // A FIFO must be opened for writing only once the remote reads it.
        if (options_.timeout_seconds) {
            open_deadline_ms_ = system_clock().now_ms() +
                                static_cast<std::int64_t>(*options_.timeout_seconds * 1000);
        }
        open_output();
    } else {
        // stderr is shared with the terminal: write to a duplicate, blocking as it is.
        stream_.attach_writer(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
        stream_.before_write = [this] {
            prompt("-- Please send this message to the remote party --");
        };
    }
    started_ = true;
    if (receives_first_ && input_is_terminal_) {
        asked_for_input_ = true;
        prompt("-- Please enter a message from remote party --");
    }
    if (callbacks_.on_connected) callbacks_.on_connected();
}

void CopyAndPasteChannel::open_output() {
    int fd = ::open(options_.output_file.c_str(),
                    O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd >= 0) {
        stream_.attach_writer(fd);
        for (auto& line : queued_) stream_.send_line(std::move(line));
        queued_.clear();
        return;
    }
    if (errno == ENXIO) {  // a FIFO nobody reads yet
        if (open_deadline_ms_ >= 0 && system_clock().now_ms() > open_deadline_ms_) {
            return callbacks_.on_failure(
                Error(ErrorCategory::kTimeout, "signaling",
                      "nobody opened " + options_.output_file + " for reading"));
        }
        open_retry_.start_once(kOpenRetryInterval, [this] { open_output(); });
        return;
    }
    callbacks_.on_failure(
        Error(ErrorCategory::kRuntime, "signaling",
              "cannot open " + options_.output_file + ": " + std::strerror(errno)));
}

void CopyAndPasteChannel::send(const Message& message) {
    if (stream_.writable()) {
        stream_.send_line(encode(message));
    } else {
        queued_.push_back(encode(message));
    }
    if (input_is_terminal_ && !asked_for_input_) {
        asked_for_input_ = true;
        prompt("-- Please enter a message from remote party --");
    }
}

void CopyAndPasteChannel::remote_complete() {
    // Standard input and the signaling both read this terminal: from here on
    // what the user types is data (a bye can no longer be pasted; the
    // connection ends without one).
    if (!input_is_stdin_terminal_ || !stream_.readable()) return;
    stream_.close_reader();
    gave_terminal_away_ = true;
    prompt("-- Signaling complete; the terminal is yours --");
}

void CopyAndPasteChannel::stdin_done() {
    if (!gave_terminal_away_ || !started_ || stream_.readable()) return;
    gave_terminal_away_ = false;
    int fd = ::open(input_path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return;  // the run ends without the remote's bye, as it would anyway
    stream_.attach_reader(fd, &callbacks_);
    prompt("-- End of input; a bye from the remote party may be pasted --");
}

void CopyAndPasteChannel::close() {
    open_retry_.reset();
    stream_.flush_and_close(1000);
    started_ = false;
}

std::unique_ptr<Channel> create_channel(const Config& options, bool offerer, bool prompts) {
    const bool listen = offerer;
    switch (options.kind) {
        case Kind::kTcpSocket:
            return std::make_unique<SocketChannel>(tcp_endpoint(options.host, options.port, listen),
                                                   listen, options.timeout_seconds);
        case Kind::kUnixSocket:
            return std::make_unique<SocketChannel>(unix_endpoint(options.path), listen,
                                                   options.timeout_seconds);
        case Kind::kCopyAndPaste:
            break;
    }
    return std::make_unique<CopyAndPasteChannel>(options, prompts, !listen);
}

}  // namespace rtcpeer::signaling
