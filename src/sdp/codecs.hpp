// Codec choice inside the sdp layer: which of a section's offered codecs
// fits the codec the command line asked for (sdp/media.hpp's LocalMedia),
// and the rtcp-fb types rtcpeer implements for video. The public names
// (to_string, parse_*_codec, offered_codec) are declared in sdp/media.hpp.
#pragma once

#include "sdp/media.hpp"

namespace rtcpeer::sdp {

// What rtcpeer answers NACKs and keyframe requests with, and asks with.
extern const char* const kVideoFeedback[3];

// The best fit among the section's codecs for what is wanted of its kind;
// nullptr when none fits.
const Codec* choose_codec(const RtpSection& s, const LocalMedia& media);

}  // namespace rtcpeer::sdp
