// Resolving the ".local" host names that browsers put into host candidates
// instead of their addresses (draft-ietf-mmusic-mdns-ice-candidates), with
// one-shot multicast DNS queries (RFC 6762 §5.1).
//
// The message codec is pure and fuzzed (ice/mdns_packet.hpp); the Resolver
// sends from an ephemeral port, so responders answer by unicast (RFC 6762
// §6.7), on the GLib main loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/loop.hpp"
#include "ice/mdns_packet.hpp"

namespace rtcpeer::ice::mdns {

class Resolver {
  public:
    using Callback = std::function<void(const std::vector<std::string>& addresses)>;

    explicit Resolver(const Clock& clock = system_clock());
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Calls back once: with the addresses, or empty after about 3 s.
    void resolve(const std::string& name, Callback callback);

  private:
    struct Query;
    bool on_readable();
    void send(Query& query);

    const Clock& clock_;
    int fd_ = -1;
    loop::FdWatch watch_;
    std::vector<std::unique_ptr<Query>> queries_;
    std::uint16_t next_id_ = 1;
};

}  // namespace rtcpeer::ice::mdns
