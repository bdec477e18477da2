// The one data channel a run uses (rtcpeer(1), DATA), on an SCTP association.
//
// The offerer opens a reliable ordered channel with DCEP (RFC 8832) on a
// stream id of its DTLS role's parity (client even, server odd); the answerer
// takes the first channel the remote opens. Further channels are refused by
// resetting their streams. Empty messages travel as one zero byte with PPID
// 56/57 (RFC 8831 §6.6).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "datachannel/dcep.hpp"
#include "sctp/association.hpp"

namespace rtcpeer::datachannel {

class Channel {
  public:
    struct Callbacks {
        std::function<void()> on_open;
        // A whole message; empty for PPID 56/57.
        std::function<void(std::string_view data, bool binary)> on_message;
        std::function<void()> on_remote_close;  // the remote reset the channel's stream
        std::function<void(const Error&)> on_failure;
    };

    Channel(sctp::Association& association, bool dtls_client, Callbacks callbacks);

    // Offerer: opens the channel now.
    void open(const std::string& label);
    // Everything the association receives goes through here.
    void on_sctp_message(std::uint16_t stream, std::uint32_t ppid, std::string_view data);
    void on_incoming_reset(std::uint16_t stream);

    sctp::Association::SendResult send(std::string_view data, bool binary);
    void close();

    bool is_open() const { return stream_.has_value() && !closed_; }
    const std::string& label() const { return label_; }

  private:
    void on_dcep(std::uint16_t stream, std::string_view data);

    sctp::Association& association_;
    bool dtls_client_;
    Callbacks callbacks_;
    std::optional<std::uint16_t> stream_;
    std::string label_;
    bool acked_ = false;
    bool closed_ = false;
    unsigned refused_ = 0;
    bool warned_stray_ = false;
};

}  // namespace rtcpeer::datachannel
