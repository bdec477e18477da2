#include "app/forwarder.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/text.hpp"

namespace rtcpeer {

namespace {

std::string quoted(const std::string& label) { return "\"" + text::printable(label, 60) + "\""; }

// A socket address for a spec; for tcp the first that getaddrinfo gives.
struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = AF_UNSPEC;
};

Address resolve(const ForwardSpec& spec, bool passive) {
    Address address;
    if (spec.scheme == ForwardSpec::Scheme::kUnix) {
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        if (spec.path.size() >= sizeof un.sun_path)
            throw Error(ErrorCategory::kUsage, "forward", spec.path + ": path too long");
        std::memcpy(un.sun_path, spec.path.data(), spec.path.size());
        std::memcpy(&address.storage, &un, sizeof un);
        address.length = sizeof un;
        address.family = AF_UNIX;
        return address;
    }
    addrinfo hints{};
    hints.ai_socktype = spec.scheme == ForwardSpec::Scheme::kUdp ? SOCK_DGRAM : SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    addrinfo* result = nullptr;
    const std::string host = spec.host.empty() ? "127.0.0.1" : spec.host;
    const int rc = ::getaddrinfo(host.c_str(), std::to_string(spec.port).c_str(), &hints, &result);
    if (rc != 0 || result == nullptr) {
        throw Error(ErrorCategory::kRuntime, "forward",
                    "cannot resolve " + spec.describe() + ": " + ::gai_strerror(rc));
    }
    std::memcpy(&address.storage, result->ai_addr, result->ai_addrlen);
    address.length = result->ai_addrlen;
    address.family = result->ai_family;
    ::freeaddrinfo(result);
    return address;
}

std::string numeric(const sockaddr_storage& address, socklen_t length) {
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof host, port,
                      sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return "?";
    const std::string shown =
        std::strchr(host, ':') != nullptr ? "[" + std::string(host) + "]" : host;
    return shown + ":" + port;
}

// The largest UDP payload (IPv4: 65535 - 8 - 20).
constexpr std::size_t kMaxDatagram = 65507;

}  // namespace

Forwarder::Forwarder(Config config, datachannel::Registry& registry, Callbacks callbacks)
    : config_(std::move(config)), registry_(registry), callbacks_(std::move(callbacks)) {}

Forwarder::~Forwarder() {
    reaper_.reset();
    idle_timer_.reset();
    for (auto& [id, connection] : connections_) {
        connection->pipe.reset();
        connection->udp_watch.reset();
        if (connection->fd >= 0) ::close(connection->fd);
    }
    for (auto& listener : listeners_) {
        listener->watch.reset();
        ::close(listener->fd);
        if (listener->spec.scheme == ForwardSpec::Scheme::kUnix)
            ::unlink(listener->spec.path.c_str());
    }
}

void Forwarder::start() {
    for (const ForwardSpec& spec : config_.listen) listen(spec);
    // udp: look for idle flows a few times per --udp-idle, at most each second.
    double idle = 0;
    for (const auto* specs : {&config_.listen, &config_.connect}) {
        for (const ForwardSpec& spec : *specs) {
            if (spec.scheme == ForwardSpec::Scheme::kUdp &&
                (idle == 0 || spec.udp_idle_seconds < idle))
                idle = spec.udp_idle_seconds;
        }
    }
    if (idle > 0) {
        const auto period = std::chrono::milliseconds(
            std::clamp<long>(static_cast<long>(idle * 1000 / 4), 50, 1000));
        idle_timer_.start_repeating(period, [this] {
            check_idle();
            return true;
        });
    }
}

void Forwarder::listen(const ForwardSpec& spec) {
    const Address address = resolve(spec, true);
    auto fail = [&](const char* what) {
        throw Error(
            ErrorCategory::kRuntime, "forward",
            std::string("cannot ") + what + " " + spec.describe() + ": " + std::strerror(errno));
    };
    if (spec.scheme == ForwardSpec::Scheme::kUnix) {
        // Like the unix-socket signaling: replace a stale socket, nothing else.
        struct stat st {};
        if (::lstat(spec.path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) {
                errno = EEXIST;
                fail("listen on");
            }
            ::unlink(spec.path.c_str());
        }
    }
    const bool udp = spec.scheme == ForwardSpec::Scheme::kUdp;
    const int fd = ::socket(address.family,
                            (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("create a socket for");
    auto listener = std::make_unique<Listener>();
    listener->spec = spec;
    listener->fd = fd;
    const int one = 1;
    if (spec.scheme == ForwardSpec::Scheme::kTcp)
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0 ||
        (!udp && ::listen(fd, 64) != 0)) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
        fail("listen on");
    }
    Listener& ref = *listener;
    listener->watch = loop::FdWatch(fd, G_IO_IN, [this, &ref, udp](GIOCondition) {
        return udp ? on_datagrams(ref) : on_accept(ref);
    });
    log::state("forwarding " + spec.describe() + " as channels " + quoted(spec.name));
    listeners_.push_back(std::move(listener));
}

bool Forwarder::on_accept(Listener& listener) {
    for (;;) {
        const int fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log::warn("accept on " + listener.spec.describe() + ": " + std::strerror(errno));
            return true;
        }
        if (connections_.size() >= config_.max_channels) {
            log::warn("closing a connection to " + listener.spec.describe() + ": already " +
                      std::to_string(connections_.size()) + " (--max-channels)");
            ::close(fd);
            continue;
        }
        datachannel::DataChannel* channel = nullptr;
        try {
            channel = &registry_.open(listener.spec.name, {});
        } catch (const Error& e) {
            log::warn("cannot open a channel for a connection to " + listener.spec.describe() +
                      ": " + e.what());
            ::close(fd);
            continue;
        }
        Connection& connection = add(*channel, listener.spec.name, fd);
        log::state(connection.name + ": accepted on " + listener.spec.describe() + ", stream " +
                   channel->stream().to_string());
        start_pipe(connection);
    }
}

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
                    log::warn("dropping datagrams from " + numeric(from, length) + " to " +
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
            log::state(flow->name + ": datagrams from " + numeric(from, length) + " to " +
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

void Forwarder::connect_udp(Connection& connection, const ForwardSpec& spec) {
    Address address;
    try {
        address = resolve(spec, false);
    } catch (const Error& e) {
        return end(connection, e.what(), true);
    }
    connection.udp = true;
    connection.idle_seconds = spec.udp_idle_seconds;
    connection.last_active_us = g_get_monotonic_time();
    connection.fd = ::socket(address.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection.fd < 0)
        return end(connection, std::string("socket: ") + std::strerror(errno), true);
    // Connected: only the target's datagrams come back on this socket.
    if (::connect(connection.fd, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length) != 0) {
        return end(connection, "cannot connect to " + spec.describe() + ": " + std::strerror(errno),
                   true);
    }
    const std::uint64_t id = connection.id;
    connection.udp_watch = loop::FdWatch(connection.fd, G_IO_IN,
                                         [this, id](GIOCondition) { return on_udp_replies(id); });
    log::state(connection.name + ": sending datagrams to " + spec.describe());
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
        end(*c, "idle", false);
    }
}

Forwarder::Connection& Forwarder::add(datachannel::DataChannel& channel, const std::string& label,
                                      int fd) {
    auto connection = std::make_unique<Connection>();
    connection->id = next_id_++;
    connection->name = text::printable(label, 60) + " #" + std::to_string(connection->id);
    connection->fd = fd;
    connection->channel = &channel;
    channel.set_callbacks(channel_callbacks(connection->id));
    ++connections_total_;
    Connection& ref = *connection;
    connections_[ref.id] = std::move(connection);
    return ref;
}

datachannel::DataChannel::Callbacks Forwarder::channel_callbacks(std::uint64_t id) {
    datachannel::DataChannel::Callbacks callbacks;
    callbacks.on_message = [this, id](std::string_view data, bool binary) {
        Connection* c = find(id);
        if (c == nullptr || c->over) return;
        if (c->udp) return udp_from_channel(*c, data);
        if (c->pipe) return c->pipe->on_message(data, binary);
        c->early.emplace_back(std::string(data), binary);
    };
    callbacks.on_buffered_amount_low = [this, id] {
        if (Connection* c = find(id); c != nullptr && c->pipe) c->pipe->on_buffered_amount_low();
    };
    callbacks.on_queue_drained = [this, id] {
        if (Connection* c = find(id); c != nullptr && c->pipe) c->pipe->on_queue_drained();
    };
    callbacks.on_closed = [this, id] {
        Connection* c = find(id);
        if (c == nullptr) return;
        if (!c->udp && !c->over && !(c->pipe && c->pipe->remote_eof())) {
            // Closed without the EOF marker: a reset on the far side, or a
            // failed connect, or a refusal. The socket is reset too.
            c->abort = true;
            log::state(c->name +
                       ": channel closed without an end of file; resetting the connection");
            if (c->pipe) c->pipe->on_channel_closed();
        } else if (c->pipe) {
            c->pipe->on_channel_closed();
            c->pipe->on_remote_closed();
        }
        c->channel = nullptr;
        // The remote may close once its EOF marker left it: what arrived
        // before it still goes to the socket, and the pipe's on_remote_eof
        // ends the connection then.
        if (c->pipe && c->pipe->output_pending()) {
            c->draining = true;
            return;
        }
        end(*c, "channel closed", false);
        // A connection that ended before its channel closed (a reset, an
        // idle flow) waited for this to be freed.
        if (!reaper_.active()) reaper_.start_once(std::chrono::milliseconds(0), [this] { reap(); });
    };
    return callbacks;
}

bool Forwarder::accept(const datachannel::IncomingChannel& incoming) {
    bool named = false;
    for (const ForwardSpec& spec : config_.connect) named = named || spec.name == incoming.label;
    if (!named) {
        if (refused_++ < 3) {
            log::warn("refusing channel " + quoted(incoming.label) + ": no --connect names it");
        }
        return false;
    }
    if (connections_.size() >= config_.max_channels) {
        if (refused_++ < 3) {
            log::warn("refusing channel " + quoted(incoming.label) + ": already " +
                      std::to_string(connections_.size()) + " open (--max-channels)");
        }
        return false;
    }
    return true;
}

void Forwarder::on_channel(datachannel::DataChannel& channel) {
    const ForwardSpec* target = nullptr;
    for (const ForwardSpec& spec : config_.connect)
        if (spec.name == channel.label()) target = &spec;
    if (target == nullptr) return channel.close();  // accept() let it through: cannot happen
    Connection& connection = add(channel, channel.label(), -1);
    if (target->scheme == ForwardSpec::Scheme::kUdp) return connect_udp(connection, *target);
    log::state(connection.name + ": connecting to " + target->describe());
    connect(connection, *target);
}

void Forwarder::connect(Connection& connection, const ForwardSpec& spec) {
    Address address;
    try {
        address = resolve(spec, false);
    } catch (const Error& e) {
        return end(connection, e.what(), true);
    }
    connection.fd = ::socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection.fd < 0)
        return end(connection, std::string("socket: ") + std::strerror(errno), true);
    if (::connect(connection.fd, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length) == 0)
        return connected(connection);
    if (errno != EINPROGRESS) {
        return end(connection, "cannot connect to " + spec.describe() + ": " + std::strerror(errno),
                   true);
    }
    const std::uint64_t id = connection.id;
    const std::string target = spec.describe();
    connection.connect_watch = loop::FdWatch(
        connection.fd, static_cast<GIOCondition>(G_IO_OUT | G_IO_ERR | G_IO_HUP),
        [this, id, target](GIOCondition) {
            Connection* c = find(id);
            if (c == nullptr) return false;
            int error = 0;
            socklen_t length = sizeof error;
            ::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
            c->connect_watch = {};
            if (error != 0) {
                end(*c, "cannot connect to " + target + ": " + std::strerror(error), true);
            } else {
                connected(*c);
            }
            return false;
        });
}

void Forwarder::connected(Connection& connection) {
    if (connection.over || connection.channel == nullptr) return;
    log::state(connection.name + ": connected");
    start_pipe(connection);
    auto early = std::move(connection.early);
    for (auto& [data, binary] : early) {
        if (connection.pipe) connection.pipe->on_message(data, binary);
    }
}

void Forwarder::start_pipe(Connection& connection) {
    StreamPipeConfig config;
    config.message_size = config_.message_size;
    config.input_fd = connection.fd;
    config.output_fd = connection.fd;
    config.input_name = connection.name;
    config.output_name = connection.name;
    config.credit_window = kCreditWindow;
    const std::uint64_t id = connection.id;
    connection.pipe = std::make_unique<StreamPipe>(config, *connection.channel,
                                                   StreamPipe::Callbacks{
                                                       [this, id] {
                                                           if (Connection* c = find(id))
                                                               maybe_done(*c);
                                                       },
                                                       [this, id] {
                                                           Connection* c = find(id);
                                                           if (c != nullptr && c->draining)
                                                               end(*c, "output drained", false);
                                                           else if (c != nullptr)
                                                               maybe_done(*c);
                                                       },
                                                       [this, id](const Error& failure) {
                                                           if (Connection* c = find(id))
                                                               end(*c, failure.what(), true);
                                                       },
                                                       [this, id](bool receiving) {
                                                           if (Connection* c = find(id)) {
                                                               c->receiving = receiving;
                                                               update_receiving();
                                                           }
                                                       },
                                                   });
    connection.pipe->start();
}

void Forwarder::maybe_done(Connection& connection) {
    // Both directions are over: the channel closes in order (its queue
    // first); the socket closes when the channel is.
    if (connection.pipe && connection.pipe->local_eof_sent() && connection.pipe->remote_eof() &&
        connection.channel != nullptr)
        connection.channel->close();
}

void Forwarder::end(Connection& connection, const std::string& why, bool reset) {
    if (connection.over) return;
    connection.over = true;
    connection.connect_watch.reset();
    if (reset) log::warn(connection.name + ": " + why + "; resetting its channel");
    if (connection.channel != nullptr) {
        // A reset, not an orderly close: what is queued goes nowhere.
        if (reset && connection.pipe) connection.pipe->stop_input();
        connection.channel->close();
    }
    connection.receiving = true;
    update_receiving();
    if (!reaper_.active()) reaper_.start_once(std::chrono::milliseconds(0), [this] { reap(); });
}

void Forwarder::reap() {
    for (auto it = connections_.begin(); it != connections_.end();) {
        Connection& c = *it->second;
        // A connection whose channel is still closing waits for it.
        if (!c.over || c.channel != nullptr) {
            ++it;
            continue;
        }
        const std::uint64_t sent = c.udp_sent + (c.pipe ? c.pipe->bytes_sent() : 0);
        const std::uint64_t received = c.udp_received + (c.pipe ? c.pipe->bytes_received() : 0);
        closed_bytes_sent_ += sent;
        closed_bytes_received_ += received;
        log::state(c.name + ": closed (" + std::to_string(sent) + " bytes sent, " +
                   std::to_string(received) + " received)");
        if (c.listener != nullptr) c.listener->flows.erase(c.source);
        c.udp_watch.reset();
        c.pipe.reset();
        c.connect_watch.reset();
        if (c.fd >= 0 && c.abort) {
            const linger reset{1, 0};  // close with an RST, not a FIN
            ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        }
        if (c.fd >= 0) ::close(c.fd);
        it = connections_.erase(it);
        if (callbacks_.on_connection_closed) callbacks_.on_connection_closed();
    }
}

void Forwarder::update_receiving() {
    bool all = true;
    for (const auto& [id, c] : connections_) all = all && c->receiving;
    if (all != receiving_) {
        receiving_ = all;
        if (callbacks_.set_receiving) callbacks_.set_receiving(all);
    }
}

Forwarder::Connection* Forwarder::find(std::uint64_t id) {
    auto it = connections_.find(id);
    return it == connections_.end() ? nullptr : it->second.get();
}

std::uint64_t Forwarder::bytes_sent() const {
    std::uint64_t n = closed_bytes_sent_;
    for (const auto& [id, c] : connections_)
        n += c->udp_sent + (c->pipe ? c->pipe->bytes_sent() : 0);
    return n;
}

std::uint64_t Forwarder::bytes_received() const {
    std::uint64_t n = closed_bytes_received_;
    for (const auto& [id, c] : connections_)
        n += c->udp_received + (c->pipe ? c->pipe->bytes_received() : 0);
    return n;
}

}  // namespace rtcpeer
