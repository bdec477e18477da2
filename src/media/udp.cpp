#include "media/udp.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "base/error.hpp"

namespace rtcpeer::media {

std::string Endpoint::to_string() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
        return std::nullopt;
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') return std::nullopt;
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return std::nullopt;  // IPv6 without brackets: the port is ambiguous
    }
    unsigned port = 0;
    for (char c : port_text) {
        if (c < '0' || c > '9') return std::nullopt;
        port = port * 10 + static_cast<unsigned>(c - '0');
        if (port > 65535) return std::nullopt;
    }
    if (port == 0) return std::nullopt;
    return Endpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

std::string Address::to_string() const {
    char host[INET6_ADDRSTRLEN] = "?";
    std::uint16_t port = 0;
    if (family() == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (family() == AF_INET6) {
        const auto* in = reinterpret_cast<const sockaddr_in6*>(&storage);
        inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
        port = ntohs(in->sin6_port);
    }
    return Endpoint{host, port}.to_string();
}

Address resolve(const Endpoint& endpoint, const std::string& setting) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(endpoint.port);
    const int error = getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found);
    if (error != 0 || found == nullptr) {
        throw Error(
            name_lookup_category(error), "media",
            "cannot resolve " + setting + " " + endpoint.to_string() + ": " + gai_strerror(error))
            .about(setting);
    }
    Address address;
    std::memcpy(&address.storage, found->ai_addr, found->ai_addrlen);
    address.length = found->ai_addrlen;
    freeaddrinfo(found);
    return address;
}

// The read watch of a bound socket. Not loop::FdWatch, for the sake of the
// per-datagram cost: GLib blocks a source while dispatching it unless it
// may recurse, and blocking an fd source takes its fd out of the poll set
// and puts it back, each time waking the loop (an eventfd write), so that
// every datagram costs two writes, a read and one more loop iteration. The
// callback (Engine::read_source) runs no nested loop and does not destroy
// its socket, so this watch may recurse, and it is called in place (no copy
// of the std::function per datagram).
struct UdpSocket::Watch {
    GSource* source = nullptr;
    std::function<void()> on_readable;

    Watch(int fd, std::function<void()> callback) : on_readable(std::move(callback)) {
        source = g_unix_fd_source_new(fd, G_IO_IN);
        g_source_set_can_recurse(source, TRUE);
        g_source_set_callback(
            source, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(&Watch::dispatch)),
            this, nullptr);
        g_source_attach(source, nullptr);
    }
    ~Watch() {
        g_source_destroy(source);
        g_source_unref(source);
    }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

    static gboolean dispatch(gint, GIOCondition, gpointer self) {
        static_cast<Watch*>(self)->on_readable();
        return G_SOURCE_CONTINUE;
    }
};

namespace {

int make_socket(int family, const std::string& setting) {
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw Error(ErrorCategory::kRuntime, "media",
                    "cannot make a UDP socket for " + setting + ": " + std::strerror(errno));
    }
    // Video key frames come in bursts of tens of packets: room for them.
    const int size = 1 << 21;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return fd;
}

}  // namespace

UdpSocket UdpSocket::bind(const Endpoint& local, const std::string& setting,
                          std::function<void()> on_readable) {
    const Address address = resolve(local, setting);
    UdpSocket socket;
    socket.fd_ = make_socket(address.family(), setting);
    if (::bind(socket.fd_, reinterpret_cast<const sockaddr*>(&address.storage), address.length) !=
        0) {
        const int error = errno;
        throw Error(
            error == EADDRINUSE || error == EADDRNOTAVAIL || error == EACCES
                ? ErrorCategory::kUsage
                : ErrorCategory::kRuntime,
            "media",
            "cannot bind " + setting + " " + local.to_string() + ": " + std::strerror(error))
            .about(setting);
    }
    socket.watch_ = std::make_unique<Watch>(socket.fd_, std::move(on_readable));
    return socket;
}

UdpSocket UdpSocket::connect(const Endpoint& remote, const std::string& setting) {
    const Address address = resolve(remote, setting);
    UdpSocket socket;
    socket.fd_ = make_socket(address.family(), setting);
    if (::connect(socket.fd_, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length) != 0) {
        throw Error(
            ErrorCategory::kUsage, "media",
            "cannot send to " + setting + " " + remote.to_string() + ": " + std::strerror(errno))
            .about(setting);
    }
    return socket;
}

UdpSocket::UdpSocket() = default;
UdpSocket::~UdpSocket() { close(); }

UdpSocket::UdpSocket(UdpSocket&& other) noexcept : fd_(other.fd_), watch_(std::move(other.watch_)) {
    other.fd_ = -1;
}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = other.fd_;
        watch_ = std::move(other.watch_);
        other.fd_ = -1;
    }
    return *this;
}

void UdpSocket::close() {
    watch_.reset();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

std::optional<UdpSocket::Received> UdpSocket::receive(std::span<std::uint8_t> buffer) {
    if (fd_ < 0) return std::nullopt;
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_TRUNC);
    if (n < 0) return std::nullopt;
    Received received;
    received.truncated = static_cast<std::size_t>(n) > buffer.size();
    received.size = received.truncated ? buffer.size() : static_cast<std::size_t>(n);
    return received;
}

std::size_t UdpSocket::receive_many(std::span<std::uint8_t> buffers, std::size_t slot,
                                    std::span<Received> out) {
    constexpr std::size_t kMax = 64;
    const std::size_t count = std::min({out.size(), kMax, slot ? buffers.size() / slot : 0});
    if (fd_ < 0 || count == 0) return 0;
    std::array<iovec, kMax> vectors;
    std::array<mmsghdr, kMax> messages{};
    for (std::size_t i = 0; i < count; ++i) {
        vectors[i] = iovec{buffers.data() + i * slot, slot};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int n =
        ::recvmmsg(fd_, messages.data(), static_cast<unsigned>(count), MSG_DONTWAIT, nullptr);
    if (n <= 0) return 0;
    for (int i = 0; i < n; ++i) {
        out[i].size = messages[i].msg_len;
        out[i].truncated = (messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    }
    return static_cast<std::size_t>(n);
}

bool UdpSocket::send(std::span<const std::uint8_t> datagram) {
    if (fd_ < 0) return false;
    return ::send(fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(datagram.size());
}

std::uint16_t UdpSocket::local_port() const {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return 0;
    if (storage.ss_family == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
}

}  // namespace rtcpeer::media
