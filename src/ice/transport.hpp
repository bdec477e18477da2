// What a connection needs from ICE (src/peer/connection.hpp): credentials,
// gathering, the remote's candidates, one datagram path once a pair is
// selected, and callbacks. ice::Agent (libnice) is the implementation the
// program uses; a test joins two fakes by an in-memory link.
//
// Threading: every call and callback runs on the thread that drives the
// connection (the GLib main loop in the program, see docs/ARCHITECTURE.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sdp/candidate.hpp"

namespace rtcpeer::ice {

struct Credentials {
    std::string ufrag;
    std::string pwd;
};

struct SelectedPair {
    sdp::Candidate local;
    sdp::Candidate remote;
    // A local relay candidate: how rtcpeer reaches its TURN server
    // ("udp", "tcp" or "tls"); empty otherwise.
    std::string local_relay_protocol;
    std::string describe() const;  // "udp 127.0.0.1:5000 host -> 127.0.0.1:6000 host"
};

class Transport {
  public:
    struct Callbacks {
        std::function<void(const sdp::Candidate&)> on_local_candidate;
        std::function<void()> on_gathering_done;
        std::function<void(const SelectedPair&)> on_connected;  // a pair was selected
        std::function<void(const std::string& why)> on_failed;  // checks failed or consent lost
        // A datagram from the remote that is not STUN (RFC 7983 sorts it).
        std::function<void(const std::uint8_t* data, std::size_t size)> on_packet;
    };

    virtual ~Transport() = default;

    virtual Credentials local_credentials() const = 0;
    // Starts gathering; candidates arrive through on_local_candidate.
    virtual void gather() = 0;
    virtual void set_remote_credentials(const Credentials& credentials) = 0;
    // Returns false (and says why) when the candidate cannot be used.
    virtual bool add_remote_candidate(const sdp::Candidate& candidate, std::string& why) = 0;
    // The remote sent its last candidate.
    virtual void remote_gathering_done() = 0;
    // Sends one datagram on the selected pair; a negative value when it cannot.
    virtual int send(const std::uint8_t* data, std::size_t size) = 0;
    // After gathering: the TURN servers that gave no relay candidate.
    virtual std::vector<std::string> silent_relays() const = 0;
};

// Makes the transport of one connection, which calls back through callbacks.
using TransportFactory = std::function<std::unique_ptr<Transport>(Transport::Callbacks callbacks)>;

}  // namespace rtcpeer::ice
