#include "app/forward_address.hpp"

#include <gio/gio.h>
#include <netdb.h>
#include <sys/un.h>

#include <cstring>

#include "base/error.hpp"

namespace rtcpeer {

std::optional<SocketAddress> resolve_now(const ForwardSpec& spec, bool passive) {
    SocketAddress address;
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
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : AI_NUMERICHOST);
    addrinfo* result = nullptr;
    const std::string host = spec.host.empty() ? "127.0.0.1" : spec.host;
    const int rc = ::getaddrinfo(host.c_str(), std::to_string(spec.port).c_str(), &hints, &result);
    if (rc == EAI_NONAME && !passive) return std::nullopt;  // a name: AddressLookup
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

std::string numeric_address(const sockaddr_storage& address, socklen_t length) {
    if (address.ss_family == AF_UNIX) {
        const auto& un = reinterpret_cast<const sockaddr_un&>(address);
        const std::size_t offset = offsetof(sockaddr_un, sun_path);
        if (length <= offset || un.sun_path[0] == '\0') return "unix:(unnamed)";
        return "unix:" + std::string(un.sun_path, strnlen(un.sun_path, length - offset));
    }
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof host, port,
                      sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return "?";
    const std::string shown =
        std::strchr(host, ':') != nullptr ? "[" + std::string(host) + "]" : host;
    return shown + ":" + port;
}

struct AddressLookup::State {
    State** slot;  // the lookup's state_; null once the lookup was destroyed
    ForwardSpec spec;
    Done done;
    GCancellable* cancellable;
};

namespace {

void on_resolved(GObject* source, GAsyncResult* result, gpointer data) {
    auto* state = static_cast<AddressLookup::State*>(data);
    GError* error = nullptr;
    GList* addresses = g_resolver_lookup_by_name_finish(G_RESOLVER(source), result, &error);
    std::vector<SocketAddress> found;
    std::string why = error != nullptr ? error->message : "no usable address";
    for (GList* item = addresses; item != nullptr; item = item->next) {
        GSocketAddress* socket_address =
            g_inet_socket_address_new(G_INET_ADDRESS(item->data), state->spec.port);
        SocketAddress address;
        if (g_socket_address_to_native(socket_address, &address.storage, sizeof address.storage,
                                       nullptr)) {
            address.length =
                static_cast<socklen_t>(g_socket_address_get_native_size(socket_address));
            address.family = address.storage.ss_family;
            found.push_back(address);
        }
        g_object_unref(socket_address);
    }
    if (addresses != nullptr) g_resolver_free_addresses(addresses);
    if (error != nullptr) g_error_free(error);
    g_object_unref(state->cancellable);
    if (state->slot == nullptr) {  // cancelled: nobody waits for it
        delete state;
        return;
    }
    *state->slot = nullptr;
    const AddressLookup::Done done = std::move(state->done);
    const std::string text =
        !found.empty() ? "" : "cannot resolve " + state->spec.describe() + ": " + why;
    delete state;
    done(std::move(found), text);  // may destroy the AddressLookup: it no longer refers to state
}

}  // namespace

AddressLookup::AddressLookup(const ForwardSpec& spec, Done done)
    : state_(new State{&state_, spec, std::move(done), g_cancellable_new()}) {
    GResolver* resolver = g_resolver_get_default();
    g_resolver_lookup_by_name_async(resolver, spec.host.c_str(), state_->cancellable, on_resolved,
                                    state_);
    g_object_unref(resolver);
}

AddressLookup::~AddressLookup() {
    if (state_ == nullptr) return;  // done was called
    state_->slot = nullptr;
    g_cancellable_cancel(state_->cancellable);  // the callback still comes, and frees state_
}

}  // namespace rtcpeer
