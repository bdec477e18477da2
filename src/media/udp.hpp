// The local UDP ends of media forwarding: an address given as HOST:PORT,
// resolved once, and a non-blocking socket that is either bound there (to
// read what a local source such as ffmpeg sends) or connected there (to
// send what the remote sends to a local player or recorder). One thread:
// the socket's reads are watched on the GLib main loop.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rtcpeer::media {

struct Endpoint {
    std::string host;  // a name or a numeric address; "[v6]" brackets removed
    std::uint16_t port = 0;
    std::string to_string() const;  // HOST:PORT, brackets around IPv6 addresses
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Parses "HOST:PORT" or "[V6]:PORT" (port 1..65535). nullopt when malformed.
std::optional<Endpoint> parse_endpoint(std::string_view text);

// A resolved address. Throws Error (kUsage for a name that does not exist,
// about `setting`) when the host cannot be resolved.
struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family() const { return storage.ss_family; }
    std::string to_string() const;
};
Address resolve(const Endpoint& endpoint, const std::string& setting);

class UdpSocket {
  public:
    // Bound at `local`: reads every datagram; `on_readable` runs when one
    // waits (read them with receive() until it returns nullopt). Throws
    // Error (about setting) when the address is taken or not local.
    static UdpSocket bind(const Endpoint& local, const std::string& setting,
                          std::function<void()> on_readable);
    // Connected to `remote` (an unbound local port); sends only.
    static UdpSocket connect(const Endpoint& remote, const std::string& setting);

    UdpSocket();
    ~UdpSocket();
    UdpSocket(UdpSocket&& other) noexcept;
    UdpSocket& operator=(UdpSocket&& other) noexcept;
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;

    bool open() const { return fd_ >= 0; }
    // One datagram into `buffer`; nullopt when none waits (or on an error,
    // which is not fatal for UDP). A datagram longer than the buffer is
    // cut: `truncated` says so.
    struct Received {
        std::size_t size = 0;
        bool truncated = false;
    };
    std::optional<Received> receive(std::span<std::uint8_t> buffer);
    // Up to out.size() datagrams with one system call (recvmmsg), the i-th
    // into buffers[i * slot, (i + 1) * slot) and described by out[i];
    // returns how many were read, 0 when none waits (or on an error).
    // Fewer than out.size() means that the queue is empty now.
    std::size_t receive_many(std::span<std::uint8_t> buffers, std::size_t slot,
                             std::span<Received> out);
    // False when the kernel refused it (nobody listening: ECONNREFUSED from
    // an earlier one, a full buffer); UDP, so the caller counts and goes on.
    bool send(std::span<const std::uint8_t> datagram);
    std::uint16_t local_port() const;

  private:
    void close();
    struct Watch;  // the bound socket's read watch on the main loop
    int fd_ = -1;
    std::unique_ptr<Watch> watch_;
};

}  // namespace rtcpeer::media
