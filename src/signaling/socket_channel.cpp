#include "signaling/socket_channel.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "base/log.hpp"

namespace rtcpeer::signaling {

namespace {

// Retries start fast, because the two sides are usually started together and
// the listener is up within milliseconds, and slow down to a polite pace.
constexpr std::chrono::milliseconds kFirstRetryInterval{5};
constexpr std::chrono::milliseconds kMaxRetryInterval{100};
// A connecting side still retrying after this long says what it waits for,
// once: the usual start-both-together case stays silent.
constexpr std::chrono::milliseconds kWaitingNoticeDelay{1000};

int set_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL, 0);
    return ::fcntl(fd, F_SETFL, flags | O_NONBLOCK | O_CLOEXEC);
}

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

Endpoint tcp_endpoint(const std::string& host, unsigned port, bool passive) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    addrinfo* result = nullptr;
    const std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
    if (rc != 0) {
        throw Error(name_lookup_category(rc), "signaling",
                    "cannot resolve signaling host " + host + ": " + gai_strerror(rc))
            .about("signaling host");
    }
    Endpoint endpoint;
    for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
        sockaddr_storage storage{};
        std::memcpy(&storage, ai->ai_addr, ai->ai_addrlen);
        endpoint.addresses.push_back(storage);
        endpoint.lengths.push_back(ai->ai_addrlen);
    }
    ::freeaddrinfo(result);
    const bool v6 = host.find(':') != std::string::npos;
    endpoint.description = "tcp-socket " + (v6 ? "[" + host + "]" : host) + ":" + service;
    return endpoint;
}

Endpoint unix_endpoint(const std::string& path) {
    sockaddr_un address{};
    if (path.size() >= sizeof(address.sun_path)) {
        throw Error(ErrorCategory::kUsage, "signaling", "signaling path is too long: " + path)
            .about("signaling path");
    }
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    Endpoint endpoint;
    sockaddr_storage storage{};
    std::memcpy(&storage, &address, sizeof address);
    endpoint.addresses.push_back(storage);
    endpoint.lengths.push_back(
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1));
    endpoint.description = "unix-socket " + path;
    endpoint.unix_path = path;
    return endpoint;
}

SocketChannel::SocketChannel(Endpoint endpoint, bool listen, std::optional<double> timeout_seconds)
    : endpoint_(std::move(endpoint)), listen_(listen), timeout_seconds_(timeout_seconds) {}

SocketChannel::~SocketChannel() {
    accept_watch_ = {};
    connect_watch_ = {};
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (connect_fd_ >= 0) ::close(connect_fd_);
    remove_socket_file();
}

void SocketChannel::remove_socket_file() {
    if (owns_socket_file_) {
        ::unlink(endpoint_.unix_path.c_str());
        owns_socket_file_ = false;
    }
}

void SocketChannel::start(Callbacks callbacks) {
    callbacks_ = std::move(callbacks);
    // A remote that closed its connection reads nothing more: a bye to it
    // would go nowhere.
    callbacks_.on_closed = [this, on_closed = std::move(callbacks_.on_closed)] {
        connected_ = false;
        if (on_closed) on_closed();
    };
    // The listener waits without limit unless told (like nc -l); the
    // connecting side gives up after 30 s by default.
    std::optional<double> limit = timeout_seconds_;
    if (!listen_ && !limit) limit = kDefaultConnectRetrySeconds;
    if (limit) {
        const auto ms = static_cast<std::int64_t>(*limit * 1000);
        const double seconds = *limit;
        deadline_timer_.start_once(std::chrono::milliseconds(ms), [this, seconds] {
            char within[64];
            std::snprintf(within, sizeof within, " within %g s", seconds);
            std::string why = listen_ ? "no peer connected to " + endpoint_.description
                                      : "could not connect to " + endpoint_.description;
            why += within;
            if (!last_error_.empty()) why += " (" + last_error_ + ")";
            fail(ErrorCategory::kTimeout, why);
        });
    }
    if (listen_) {
        start_listening();
    } else {
        char within[64] = "";
        if (limit) std::snprintf(within, sizeof within, " for up to %g s", *limit);
        notice_timer_.start_once(kWaitingNoticeDelay, [this, retrying = std::string(within)] {
            if (connected_) return;
            log::info("waiting for the offerer to listen on " + endpoint_.description +
                      (last_error_.empty() ? "" : " (" + last_error_ + ")") + "; retrying" +
                      retrying);
        });
        try_connect();
    }
}

void SocketChannel::fail(ErrorCategory category, const std::string& why) {
    deadline_timer_.reset();
    notice_timer_.reset();
    retry_timer_.reset();
    accept_watch_ = {};
    connect_watch_ = {};
    callbacks_.on_failure(Error(category, "signaling", why));
}

void SocketChannel::start_listening() {
    const sockaddr_storage& address = endpoint_.addresses.front();
    if (!endpoint_.unix_path.empty()) {
        // Hygiene: never replace what is not a socket, never
        // steal a live listener's path; a stale socket file is replaced.
        struct stat st {};
        if (::lstat(endpoint_.unix_path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) {
                return fail(ErrorCategory::kRuntime,
                            endpoint_.unix_path + " exists and is not a socket");
            }
            int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            bool live = probe >= 0 && ::connect(probe, reinterpret_cast<const sockaddr*>(&address),
                                                endpoint_.lengths.front()) == 0;
            if (probe >= 0) ::close(probe);
            if (live)
                return fail(ErrorCategory::kRuntime,
                            endpoint_.unix_path + " is in use by another listener");
            ::unlink(endpoint_.unix_path.c_str());
        }
    }
    int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fail(ErrorCategory::kRuntime, "socket: " + errno_text(errno));
    int one = 1;
    if (endpoint_.unix_path.empty()) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), endpoint_.lengths.front()) != 0 ||
        ::listen(fd, 1) != 0) {
        int error = errno;
        ::close(fd);
        return fail(ErrorCategory::kRuntime,
                    "cannot listen on " + endpoint_.description + ": " + errno_text(error));
    }
    owns_socket_file_ = !endpoint_.unix_path.empty();
    listen_fd_ = fd;
    accept_watch_ = loop::FdWatch(fd, G_IO_IN, [this](GIOCondition) { return on_accept(); });
}

bool SocketChannel::on_accept() {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return true;  // spurious wake-up or an aborted connection
    // One peer per run: stop listening so that nobody else can join.
    accept_watch_ = {};
    ::close(listen_fd_);
    listen_fd_ = -1;
    remove_socket_file();
    established(fd);
    return false;
}

void SocketChannel::try_connect() {
    // Round-robin over what the host name resolved to (::1 and 127.0.0.1, say).
    const std::size_t index = attempt_++ % endpoint_.addresses.size();
    const sockaddr_storage& address = endpoint_.addresses[index];
    int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fail(ErrorCategory::kRuntime, "socket: " + errno_text(errno));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), endpoint_.lengths[index]) == 0) {
        return established(fd);
    }
    if (errno == EINPROGRESS) {
        connect_fd_ = fd;
        connect_watch_ =
            loop::FdWatch(fd, G_IO_OUT, [this](GIOCondition) { return on_connect_done(); });
        return;
    }
    int error = errno;
    ::close(fd);
    last_error_ = errno_text(error);
    if (error == ECONNREFUSED || error == ENOENT || error == EAGAIN || error == ENETUNREACH ||
        error == EHOSTUNREACH || error == ETIMEDOUT) {
        schedule_retry();
        return;
    }
    fail(ErrorCategory::kConnection,
         "cannot connect to " + endpoint_.description + ": " + last_error_);
}

void SocketChannel::schedule_retry() {
    retry_interval_ = retry_interval_.count() == 0
                          ? kFirstRetryInterval
                          : std::min(retry_interval_ * 2, kMaxRetryInterval);
    retry_timer_.start_once(retry_interval_, [this] { try_connect(); });
}

bool SocketChannel::on_connect_done() {
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(connect_fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    int fd = std::exchange(connect_fd_, -1);
    connect_watch_ = {};
    if (error == 0) {
        established(fd);
        return false;
    }
    ::close(fd);
    last_error_ = errno_text(error);
    schedule_retry();
    return false;
}

void SocketChannel::established(int fd) {
    deadline_timer_.reset();
    notice_timer_.reset();
    retry_timer_.reset();
    set_nonblocking(fd);
    connected_ = true;
    stream_.attach(fd, fd, &callbacks_);
    if (callbacks_.on_connected) callbacks_.on_connected();
}

void SocketChannel::send(const Message& message) { stream_.send_line(encode(message)); }

void SocketChannel::close() {
    deadline_timer_.reset();
    notice_timer_.reset();
    retry_timer_.reset();
    accept_watch_ = {};
    connect_watch_ = {};
    stream_.flush_and_close(1000);
    connected_ = false;
    remove_socket_file();
}

}  // namespace rtcpeer::signaling
