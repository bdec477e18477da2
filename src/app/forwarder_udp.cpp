// Forwarder (app/forwarder.hpp): the UDP flows. On the --listen side, each
// source address of the listening socket is a flow with its own unordered,
// max-retransmits 0 channel; on the --connect side, each such channel has its
// own connected socket to the target. One datagram is one message; a flow
// idle for --udp-idle is closed.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "app/forwarder.hpp"
#include "base/log.hpp"

namespace rtcpeer {

namespace {

// The largest UDP payload (IPv4: 65535 - 8 - 20).
constexpr std::size_t kMaxDatagram = 65507;

}  // namespace

bool Forwarder::on_datagrams(Listener& listener) {
    datagram_.resize(kMaxDatagram + 1);
    // A bounded batch per wake-up, so that the loop serves the rest too.
    for (int i = 0; i < 64; ++i) {
        sockaddr_storage from{};
        socklen_t length = sizeof from;
        const ssize_t n = ::recvfrom(listener.fd, datagram_.data(), datagram_.size(), 0,
                                     reinterpret_cast<sockaddr*>(&from), &length);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log::warn("receive on " + listener.spec.describe() + ": " + std::strerror(errno));
            return true;
        }
        const std::string source(reinterpret_cast<const char*>(&from), length);
        Connection* flow = nullptr;
        if (auto it = listener.flows.find(source); it != listener.flows.end())
            flow = find(it->second);
        if (flow == nullptr) {
            if (connections_.size() >= config_.max_channels) {
                if (dropped_warnings_++ < 3) {
                    log::warn("dropping datagrams from " + numeric_address(from, length) + " to " +
                              listener.spec.describe() + ": already " +
                              std::to_string(connections_.size()) + " open (--max-channels)");
                }
                continue;
            }
            datachannel::ChannelOptions options;
            options.ordered = false;
            options.max_retransmits = 0;
            datachannel::DataChannel* channel = nullptr;
            try {
                channel = &registry_.open(listener.spec.name, options);
            } catch (const Error& e) {
                if (dropped_warnings_++ < 3)
                    log::warn("cannot open a channel for datagrams to " + listener.spec.describe() +
                              ": " + e.what());
                continue;
            }
            flow = &add(*channel, listener.spec.name, -1);
            flow->udp = true;
            flow->listener = &listener;
            flow->source = source;
            flow->idle_seconds = listener.spec.udp_idle_seconds;
            listener.flows[source] = flow->id;
            flow->record.accepted = true;
            flow->record.scheme = "udp";
            flow->record.peer = numeric_address(from, length);
            log::state(flow->name + ": datagrams from " + numeric_address(from, length) + " to " +
                       listener.spec.describe() + ", stream " + channel->stream().to_string());
        }
        if (flow->over) continue;  // its channel is closing
        udp_to_channel(*flow, std::string_view(datagram_.data(), static_cast<std::size_t>(n)));
    }
    return true;
}

void Forwarder::udp_to_channel(Connection& connection, std::string_view datagram) {
    if (connection.channel == nullptr) return;
    connection.last_active_us = g_get_monotonic_time();
    // Too big for the remote, or its channel is backed up: dropped, as a
    // full or narrower link would.
    if (datagram.size() > config_.message_size ||
        connection.channel->buffered_amount() >= StreamPipe::kInputHighWater)
        return;
    if (connection.channel->send(datagram, true)) connection.udp_sent += datagram.size();
}

void Forwarder::udp_from_channel(Connection& connection, std::string_view datagram) {
    connection.last_active_us = g_get_monotonic_time();
    connection.udp_received += datagram.size();
    // Errors are a datagram's fate (a full buffer, a port unreachable
    // reported on the connected socket): it is lost, the flow goes on.
    if (connection.listener != nullptr) {
        ::sendto(connection.listener->fd, datagram.data(), datagram.size(), MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr*>(connection.source.data()),
                 static_cast<socklen_t>(connection.source.size()));
    } else if (connection.fd >= 0) {
        ::send(connection.fd, datagram.data(), datagram.size(), MSG_DONTWAIT);
    }
}

void Forwarder::connect_udp(Connection& connection, const ForwardSpec& spec,
                            const SocketAddress& address) {
    connection.record.peer = numeric_address(address.storage, address.length);
    connection.fd = ::socket(address.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection.fd < 0)
        return end(connection, std::string("socket: ") + std::strerror(errno), true, "refused");
    // Connected: only the target's datagrams come back on this socket.
    if (::connect(connection.fd, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length) != 0) {
        return end(connection, "cannot connect to " + spec.describe() + ": " + std::strerror(errno),
                   true, "refused");
    }
    const std::uint64_t id = connection.id;
    connection.udp_watch = loop::FdWatch(connection.fd, G_IO_IN,
                                         [this, id](GIOCondition) { return on_udp_replies(id); });
    log::state(connection.name + ": sending datagrams to " + spec.describe());
    auto early = std::move(connection.early);
    for (const auto& [datagram, binary] : early) udp_from_channel(connection, datagram);
}

bool Forwarder::on_udp_replies(std::uint64_t id) {
    Connection* c = find(id);
    if (c == nullptr || c->over) return false;
    datagram_.resize(kMaxDatagram + 1);
    for (int i = 0; i < 64; ++i) {
        const ssize_t n = ::recv(c->fd, datagram_.data(), datagram_.size(), 0);
        if (n < 0) return true;  // EAGAIN; or an ICMP error: the flow goes on
        udp_to_channel(*c, std::string_view(datagram_.data(), static_cast<std::size_t>(n)));
    }
    return true;
}

void Forwarder::check_idle() {
    const std::int64_t now = g_get_monotonic_time();
    for (auto& [id, c] : connections_) {
        if (!c->udp || c->over) continue;
        const double idle = static_cast<double>(now - c->last_active_us) / 1e6;
        if (idle < c->idle_seconds) continue;
        log::state(c->name + ": no datagram for " + std::to_string(static_cast<long>(idle)) +
                   " s (--udp-idle); closing its channel");
        end(*c, "idle", false, "idle");
    }
}

}  // namespace rtcpeer
