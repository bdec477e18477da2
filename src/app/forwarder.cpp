// Forwarder (app/forwarder.hpp): the listening sockets, the channels both
// ways, and the stream (tcp, unix) connections with their pipes; the end of
// every connection and its --stats record. UDP flows: forwarder_udp.cpp.
#include "app/forwarder.hpp"

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

const char* scheme_name(ForwardSpec::Scheme scheme) {
    switch (scheme) {
        case ForwardSpec::Scheme::kTcp:
            return "tcp";
        case ForwardSpec::Scheme::kUdp:
            return "udp";
        case ForwardSpec::Scheme::kUnix:
            return "unix";
    }
    return "?";
}

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
    const SocketAddress address = *resolve_now(spec, true);
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
        sockaddr_storage from{};
        socklen_t length = sizeof from;
        const int fd = ::accept4(listener.fd, reinterpret_cast<sockaddr*>(&from), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
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
        connection.record.accepted = true;
        connection.record.scheme = scheme_name(listener.spec.scheme);
        connection.record.peer = listener.spec.scheme == ForwardSpec::Scheme::kUnix
                                     ? listener.spec.describe()
                                     : numeric_address(from, length);
        log::state(connection.name + ": accepted on " + listener.spec.describe() + ", stream " +
                   channel->stream().to_string());
        start_pipe(connection);
    }
}

Forwarder::Connection& Forwarder::add(datachannel::DataChannel& channel, const std::string& label,
                                      int fd) {
    auto connection = std::make_unique<Connection>();
    connection->id = next_id_++;
    connection->name = text::printable(label, 60) + " #" + std::to_string(connection->id);
    connection->fd = fd;
    connection->channel = &channel;
    connection->record.label = label;
    connection->record.stream = channel.stream().value();
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
        if (c->udp && (c->fd >= 0 || c->listener != nullptr)) return udp_from_channel(*c, data);
        if (c->pipe) return c->pipe->on_message(data, binary);
        // Not connected yet. A flow keeps a few datagrams (the later ones
        // are lost, as on a full link); a stream keeps all, since its
        // remote sends at most one credit window before the connect.
        if (c->udp && c->early.size() >= kEarlyDatagrams) return;
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
        end(*c, "channel closed", false, c->udp ? "closed" : c->abort ? "reset" : "fin");
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
    connection.record.scheme = scheme_name(target->scheme);
    connection.record.peer = target->describe();
    if (target->scheme == ForwardSpec::Scheme::kUdp) {
        // Its datagrams wait while the name is looked up.
        connection.udp = true;
        connection.idle_seconds = target->udp_idle_seconds;
        connection.last_active_us = g_get_monotonic_time();
        return resolve_target(connection, *target, &Forwarder::connect_udp);
    }
    log::state(connection.name + ": connecting to " + target->describe());
    resolve_target(connection, *target, &Forwarder::connect);
}

void Forwarder::resolve_target(Connection& connection, const ForwardSpec& spec, Then then) {
    std::optional<SocketAddress> address;
    try {
        address = resolve_now(spec, false);
    } catch (const Error& e) {
        return end(connection, e.what(), true, "refused");
    }
    if (address) return (this->*then)(connection, spec, *address);
    log::state(connection.name + ": looking up " + text::printable(spec.host, 100));
    const std::uint64_t id = connection.id;
    connection.lookup = std::make_unique<AddressLookup>(
        spec, [this, id, &spec, then](std::vector<SocketAddress> found, const std::string& error) {
            Connection* c = find(id);
            if (c == nullptr || c->over) return;  // the channel was closed meanwhile
            if (found.empty()) return end(*c, error, true, "refused");
            c->next_addresses.assign(found.begin() + 1, found.end());
            (this->*then)(*c, spec, found.front());
        });
}

void Forwarder::connect(Connection& connection, const ForwardSpec& spec,
                        const SocketAddress& address) {
    connection.record.peer = address.family == AF_UNIX
                                 ? spec.describe()
                                 : numeric_address(address.storage, address.length);
    connection.fd = ::socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection.fd < 0)
        return end(connection, std::string("socket: ") + std::strerror(errno), true, "refused");
    if (::connect(connection.fd, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length) == 0)
        return connected(connection);
    if (errno != EINPROGRESS) return connect_failed(connection, spec, std::strerror(errno));
    const std::uint64_t id = connection.id;
    connection.connect_watch =
        loop::FdWatch(connection.fd, static_cast<GIOCondition>(G_IO_OUT | G_IO_ERR | G_IO_HUP),
                      [this, id, &spec](GIOCondition) {
                          Connection* c = find(id);
                          if (c == nullptr) return false;
                          int error = 0;
                          socklen_t length = sizeof error;
                          ::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
                          c->connect_watch = {};
                          if (error != 0) {
                              connect_failed(*c, spec, std::strerror(error));
                          } else {
                              connected(*c);
                          }
                          return false;
                      });
}

void Forwarder::connect_failed(Connection& connection, const ForwardSpec& spec,
                               const std::string& why) {
    if (connection.next_addresses.empty() || connection.over) {
        return end(connection, "cannot connect to " + spec.describe() + ": " + why, true,
                   "refused");
    }
    log::state(connection.name + ": cannot connect to " + connection.record.peer + ": " + why +
               "; trying the next address");
    connection.connect_watch.reset();
    ::close(connection.fd);
    connection.fd = -1;
    const SocketAddress next = connection.next_addresses.front();
    connection.next_addresses.erase(connection.next_addresses.begin());
    connect(connection, spec, next);
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
    connection.pipe =
        std::make_unique<StreamPipe>(config, *connection.channel,
                                     StreamPipe::Callbacks{
                                         [this, id] {
                                             if (Connection* c = find(id)) maybe_done(*c);
                                         },
                                         [this, id] {
                                             Connection* c = find(id);
                                             if (c != nullptr && c->draining)
                                                 end(*c, "output drained", false, "fin");
                                             else if (c != nullptr)
                                                 maybe_done(*c);
                                         },
                                         [this, id](const Error& failure) {
                                             if (Connection* c = find(id))
                                                 end(*c, failure.what(), true, "reset");
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

void Forwarder::end(Connection& connection, const std::string& why, bool reset,
                    const char* outcome) {
    if (connection.over) return;
    connection.over = true;
    if (connection.record.end.empty()) connection.record.end = outcome;
    connection.connect_watch.reset();
    connection.lookup.reset();
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
        const ForwardedConnection record = record_of(c);
        closed_bytes_sent_ += record.bytes_sent;
        closed_bytes_received_ += record.bytes_received;
        log::state(c.name + ": closed (" + std::to_string(record.bytes_sent) + " bytes sent, " +
                   std::to_string(record.bytes_received) + " received): " + record.end);
        records_.push_back(record);
        if (records_.size() > kKeptRecords) {
            records_.pop_front();
            ++records_omitted_;
        }
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

ForwardedConnection Forwarder::record_of(const Connection& c) const {
    ForwardedConnection record = c.record;
    record.bytes_sent = c.udp_sent + (c.pipe ? c.pipe->bytes_sent() : 0);
    record.bytes_received = c.udp_received + (c.pipe ? c.pipe->bytes_received() : 0);
    if (record.end.empty()) record.end = "open";
    return record;
}

std::vector<ForwardedConnection> Forwarder::records() const {
    std::vector<ForwardedConnection> all(records_.begin(), records_.end());
    for (const auto& [id, c] : connections_) all.push_back(record_of(*c));
    return all;
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
