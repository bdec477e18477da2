// A connectivity check of rtcpeer's own (a STUN Binding request, RFC 8445
// §7.2.2), sent on the selected pair while the remote has not been heard
// from over it (Agent, agent.cpp says when). libnice sends its checks only
// until its side has a pair; if every answer to the remote's checks was
// lost, the remote's pair failed while ours works, and nothing else would
// make the remote try again: a request on a failed pair does (a triggered
// check, RFC 8445 §7.3.1.4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rtcpeer::ice {

struct BindingRequest {
    std::string local_ufrag;
    std::string remote_ufrag;
    std::string remote_pwd;  // the request's MESSAGE-INTEGRITY key
    // The controlling side nominates the pair it uses (USE-CANDIDATE), as
    // its aggressive-nomination checks did.
    bool controlling = false;
    std::uint32_t priority = 0;  // PRIORITY: a peer-reflexive candidate's
    std::uint64_t tie_breaker = 0;
};

// The request's bytes (USERNAME "remote:local", PRIORITY, ICE-CONTROLLING
// with USE-CANDIDATE or ICE-CONTROLLED, MESSAGE-INTEGRITY, FINGERPRINT);
// empty when libnice's STUN library cannot build it.
std::vector<std::uint8_t> make_binding_request(const BindingRequest& request);

}  // namespace rtcpeer::ice
