// How the ICE agent finds paths: what the command line decides (app/options)
// and the agent carries out. No server is used unless named (rtcpeer(1), DESCRIPTION).
#pragma once

#include <string>
#include <vector>

#include "ice/server_url.hpp"

namespace rtcpeer::ice {

enum class Family { kAny, kIpv4, kIpv6 };

struct Config {
    bool controlling = false;                 // the offerer (RFC 8445 §6.1.1)
    std::vector<std::string> host_addresses;  // --host-address; empty: see interfaces, family
    std::vector<std::string> interfaces;      // --interface; empty: every interface
    Family family = Family::kAny;             // -4 / -6
    std::vector<ServerUrl> stun_servers;      // --stun
    std::vector<ServerUrl> turn_servers;      // --turn, with credentials resolved
    bool relay_only = false;                  // --ice-transport-policy relay
    unsigned port_min = 0, port_max = 0;      // --port-range; 0: any port
    bool tcp = false;                         // --ice-tcp (RFC 6544)
    std::string turn_ca_file;                 // --turn-ca: trusted for turns: instead of system CAs
};

}  // namespace rtcpeer::ice
