# bash completion for rtcpeer(1): the role, every option of `rtcpeer offer`
# and `rtcpeer answer`, and the values of options that take a fixed set.

# The options both roles take, as `rtcpeer offer --help` lists them.
_rtcpeer_options='-h --help --version
    -s --signaling --signaling-host --signaling-port --signaling-path
    --signaling-timeout --signaling-input --signaling-output
    --trickle --no-trickle --connect-timeout
    --host-address --interface -4 -6 --ice-tcp
    --stun --turn --turn-user --turn-password --turn-ca
    --ice-transport-policy --port-range
    --check --count --stats --lines --message-size --label
    --unordered --max-retransmits --max-packet-lifetime --protocol --negotiated
    --listen --connect --max-channels --once --udp-idle --eof-wait
    --send-video --send-audio --recv-video --recv-audio
    --video-codec --audio-codec --sdp-file --duration --no-data
    -v --verbose -q --quiet'

_rtcpeer() {
    local cur=${COMP_WORDS[COMP_CWORD]} option= i role=
    # With '=' in COMP_WORDBREAKS, "--signaling=tcp" arrives as three words.
    if [[ $cur == = ]]; then
        option=${COMP_WORDS[COMP_CWORD - 1]}
        cur=
    elif ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[COMP_CWORD - 1]} == = ]]; then
        option=${COMP_WORDS[COMP_CWORD - 2]}
    elif ((COMP_CWORD >= 1)); then
        option=${COMP_WORDS[COMP_CWORD - 1]}
    fi

    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            offer | answer)
                role=${COMP_WORDS[i]}
                break
                ;;
        esac
    done
    if [[ -z $role ]]; then
        COMPREPLY=($(compgen -W 'offer answer -h --help --version' -- "$cur"))
        return
    fi

    COMPREPLY=()
    case $option in
        -s | --signaling)
            COMPREPLY=($(compgen -W 'copy-and-paste tcp-socket unix-socket' -- "$cur"))
            return
            ;;
        --ice-transport-policy)
            COMPREPLY=($(compgen -W 'all relay' -- "$cur"))
            return
            ;;
        --video-codec)
            COMPREPLY=($(compgen -W 'vp8 vp9 h264 av1' -- "$cur"))
            return
            ;;
        --audio-codec)
            COMPREPLY=($(compgen -W 'opus pcmu pcma g722' -- "$cur"))
            return
            ;;
        --signaling-input | --signaling-output | --signaling-path | --turn-ca | --sdp-file)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        --stats)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur") $(compgen -W '-' -- "$cur"))
            return
            ;;
        --interface)
            COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
            return
            ;;
        --host-address)
            COMPREPLY=($(compgen -W "$(ip -o addr show 2>/dev/null |
                awk '{ sub("/.*", "", $4); print $4 }')" -- "$cur"))
            return
            ;;
        --signaling-host | --signaling-port | --signaling-timeout | --connect-timeout | \
            --stun | --turn | --turn-user | --turn-password | --port-range | --count | \
            --message-size | --label | --eof-wait | --max-retransmits | \
            --max-packet-lifetime | --protocol | --negotiated | --listen | --connect | \
            --max-channels | --udp-idle | --send-video | --send-audio | --recv-video | \
            --recv-audio | --duration)
            # A value of the user's own: nothing to offer.
            return
            ;;
    esac
    COMPREPLY=($(compgen -W "$_rtcpeer_options" -- "$cur"))
}

complete -F _rtcpeer rtcpeer
