// The socket addresses of forwarding (app/forwarder.hpp): what a
// --listen/--connect spec names, and how a connection's far end is shown.
// Numeric addresses, unix paths and the listening sockets (once, at the
// start) are resolved at once; a --connect host name is looked up while
// the loop runs on: GResolver asks the system resolver on GLib's own worker
// threads and hands the answer to the main context, so no rtcpeer state is
// touched off the loop's thread and a slow DNS server stalls only the
// connection that waits for it.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/forward_spec.hpp"

namespace rtcpeer {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = AF_UNSPEC;
};

// The address of a unix spec, a numeric host, or (passive) a listening
// spec, which getaddrinfo may resolve while blocking. nullopt: a host name
// that only a lookup (AddressLookup) can give. Throws Error (kRuntime, or
// kUsage for a unix path too long) when it cannot be resolved.
std::optional<SocketAddress> resolve_now(const ForwardSpec& spec, bool passive);

// "127.0.0.1:8080", "[::1]:53"; "?" when it cannot be shown.
std::string numeric_address(const sockaddr_storage& address, socklen_t length);

// One asynchronous lookup of a spec's host name. done gets its addresses
// in the resolver's order (at least one), or an error text ("cannot resolve tcp:HOST:PORT: why");
// it is called on the loop, at most once, and never after the lookup is destroyed (destroying it
// cancels the lookup).
class AddressLookup {
  public:
    using Done = std::function<void(std::vector<SocketAddress>, const std::string& error)>;
    AddressLookup(const ForwardSpec& spec, Done done);
    ~AddressLookup();
    AddressLookup(const AddressLookup&) = delete;
    AddressLookup& operator=(const AddressLookup&) = delete;

    struct State;

  private:
    State* state_;  // shared with GLib's callback, which frees it
};

}  // namespace rtcpeer
