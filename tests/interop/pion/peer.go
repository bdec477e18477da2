// A pion (github.com/pion/webrtc/v3) test peer for rtcpeer's interop tests.
//
// It speaks the signaling wire format of aiortc.contrib.signaling over
// tcp-socket (one JSON object per line, keys sorted; the offerer listens, the
// answerer connects) and moves data the way aiortc's examples do:
//
//	send     read --file, send it in --chunk-size messages, then the
//	         end-of-file marker (an empty binary message); finish on bye
//	receive  write every message to --file; on the empty message send bye
//	         and finish (--close-after N: close the channel after N bytes,
//	         --stall D: stop reading for D before that)
//	pong     answer "ping N" with "pong N"; answer the end-of-file marker
//	         with one; finish on bye or when the channel closes
//	ping     send --count pings "ping N" and wait for every "pong N"
//	media    no data channel; a VP8 video track: every RTP packet that
//	         arrives on --send-video ADDR:PORT (ffmpeg's) goes out on it,
//	         and every packet of the remote's video track is written, as
//	         plain RTP, to --recv-video ADDR:PORT; finish on bye
//	         (--srtp-profiles sha1_80: offer or accept only
//	         SRTP_AES128_CM_HMAC_SHA1_80 instead of pion's GCM-first list)
//
// Message sizes are pion's own defaults: its SDP carries no
// a=max-message-size and it reads each message into a 65535-byte buffer
// (--advertise-max-message-size N claims more, to let larger ones come).
// Network hygiene: no ICE servers, host candidates on 127.0.0.1 over UDP only.
//
// A JSON report goes to --report (or stdout); the exit status is 0 when the
// mode's work was done, 1 otherwise.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v2"
	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v3"
)

type options struct {
	role       string
	mode       string
	host       string
	port       int
	trickle    bool
	file       string
	label      string
	count      int
	chunkSize  int
	closeAfter int64
	stall      time.Duration
	advertise  int
	timeout    time.Duration
	report     string
	// The channel's options (RTCDataChannelInit); -1 leaves one unset.
	unordered         bool
	maxRetransmits    int
	maxPacketLifetime int
	protocol          string
	negotiated        int
	// media mode
	sendVideo    string
	recvVideo    string
	srtpProfiles string
}

// channelInit is what the options ask of the channel, nil when nothing.
func (o *options) channelInit() *webrtc.DataChannelInit {
	init := &webrtc.DataChannelInit{}
	set := false
	if o.unordered {
		ordered := false
		init.Ordered = &ordered
		set = true
	}
	if o.maxRetransmits >= 0 {
		n := uint16(o.maxRetransmits)
		init.MaxRetransmits = &n
		set = true
	}
	if o.maxPacketLifetime >= 0 {
		ms := uint16(o.maxPacketLifetime)
		init.MaxPacketLifeTime = &ms
		set = true
	}
	if o.protocol != "" {
		init.Protocol = &o.protocol
		set = true
	}
	if o.negotiated >= 0 {
		negotiated := true
		id := uint16(o.negotiated)
		init.Negotiated = &negotiated
		init.ID = &id
		set = true
	}
	if !set {
		return nil
	}
	return init
}

// describeChannel is what the report says of a channel: the options it
// carries as this side sees them (from DCEP, or from our own init).
func describeChannel(dc *webrtc.DataChannel) map[string]interface{} {
	d := map[string]interface{}{
		"label":      dc.Label(),
		"protocol":   dc.Protocol(),
		"ordered":    dc.Ordered(),
		"negotiated": dc.Negotiated(),
	}
	if id := dc.ID(); id != nil {
		d["id"] = *id
	}
	if n := dc.MaxRetransmits(); n != nil {
		d["maxRetransmits"] = *n
	}
	if ms := dc.MaxPacketLifeTime(); ms != nil {
		d["maxPacketLifeTime"] = *ms
	}
	return d
}

// report collects what happened; it is written as JSON at exit.
type report struct {
	mu       sync.Mutex
	fields   map[string]interface{}
	events   []string
	finished bool
	ok       bool
}

func (r *report) event(format string, args ...interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *report) set(key string, value interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fields[key] = value
}

func (r *report) write(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fields["events"] = r.events
	r.fields["finished"] = r.finished
	r.fields["ok"] = r.ok
	text, _ := json.MarshalIndent(r.fields, "", " ")
	if path == "" {
		fmt.Println(string(text))
		return
	}
	if err := os.WriteFile(path, append(text, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "pion-peer:", err)
	}
}

// signaling is one line-based JSON connection, written to from several
// goroutines.
type signaling struct {
	conn   net.Conn
	reader *bufio.Reader
	mu     sync.Mutex
}

// encode writes an object the way Python's json.dumps(sort_keys=True) does:
// keys sorted, ", " and ": " as separators.
func encode(object map[string]interface{}) ([]byte, error) {
	keys := make([]string, 0, len(object))
	for k := range object {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out bytes.Buffer
	out.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			out.WriteString(", ")
		}
		for j, v := range []interface{}{k, object[k]} {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				return nil, err
			}
			out.Write(bytes.TrimRight(b.Bytes(), "\n"))
			if j == 0 {
				out.WriteString(": ")
			}
		}
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

func (s *signaling) send(object map[string]interface{}) error {
	line, err := encode(object)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.conn.Write(append(line, '\n'))
	return err
}

func (s *signaling) receive() (map[string]interface{}, error) {
	line, err := s.reader.ReadString('\n')
	if err != nil {
		return nil, err
	}
	var object map[string]interface{}
	if err := json.Unmarshal([]byte(line), &object); err != nil {
		return nil, fmt.Errorf("bad signaling line %q: %w", line, err)
	}
	return object, nil
}

func connectSignaling(o *options) (*signaling, error) {
	address := net.JoinHostPort(o.host, strconv.Itoa(o.port))
	if o.role == "offer" {
		listener, err := net.Listen("tcp", address)
		if err != nil {
			return nil, err
		}
		defer listener.Close()
		if tl, ok := listener.(*net.TCPListener); ok {
			_ = tl.SetDeadline(time.Now().Add(o.timeout))
		}
		conn, err := listener.Accept()
		if err != nil {
			return nil, err
		}
		return &signaling{conn: conn, reader: bufio.NewReaderSize(conn, 1<<16)}, nil
	}
	deadline := time.Now().Add(o.timeout)
	for {
		conn, err := net.Dial("tcp", address)
		if err == nil {
			return &signaling{conn: conn, reader: bufio.NewReaderSize(conn, 1<<16)}, nil
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// peer holds one run.
type peer struct {
	o       *options
	pc      *webrtc.PeerConnection
	sig     *signaling
	rep     *report
	done    chan struct{}
	once    sync.Once
	byeOnce sync.Once
	bye     chan struct{}

	mu         sync.Mutex
	descSent   bool
	candidates []webrtc.ICECandidateInit
	channel    *webrtc.DataChannel // the one attached, for the report

	rtpSent     int64 // media: packets written to the local track
	rtpReceived int64 // media: packets of the remote track forwarded
}

func (p *peer) finish(ok bool) {
	p.once.Do(func() {
		p.rep.mu.Lock()
		p.rep.finished = true
		p.rep.ok = ok
		p.rep.mu.Unlock()
		close(p.done)
	})
}

func (p *peer) sendBye() {
	if err := p.sig.send(map[string]interface{}{"type": "bye"}); err == nil {
		p.rep.event("bye sent")
	}
}

func (p *peer) sendCandidate(c webrtc.ICECandidateInit) {
	if err := p.sig.send(map[string]interface{}{
		"type": "candidate", "candidate": c.Candidate, "id": "0", "label": 0,
	}); err == nil {
		p.rep.event("candidate sent")
	}
}

// sendDescription sends the local description: at once with trickle (the
// candidates follow as candidate messages), after gathering without.
func (p *peer) sendDescription(kind string) error {
	if !p.o.trickle {
		<-webrtc.GatheringCompletePromise(p.pc)
	}
	sdp := p.pc.LocalDescription().SDP
	if p.o.advertise > 0 {
		// Claim a limit that pion's own read buffer does not honour.
		sdp = strings.Replace(sdp, "a=sctp-port:5000\r\n",
			fmt.Sprintf("a=sctp-port:5000\r\na=max-message-size:%d\r\n", p.o.advertise), 1)
	}
	if err := p.sig.send(map[string]interface{}{"type": kind, "sdp": sdp}); err != nil {
		return err
	}
	p.rep.event("%s sent", kind)
	p.rep.set("local_description", p.pc.LocalDescription().SDP)
	p.mu.Lock()
	p.descSent = true
	pending := p.candidates
	p.candidates = nil
	p.mu.Unlock()
	for _, c := range pending {
		p.sendCandidate(c)
	}
	return nil
}

func (p *peer) onCandidate(c *webrtc.ICECandidate) {
	if c == nil || !p.o.trickle {
		return
	}
	init := c.ToJSON()
	p.mu.Lock()
	if !p.descSent {
		p.candidates = append(p.candidates, init)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.sendCandidate(init)
}

// consumeSignaling handles the remote's messages until bye or the end of the
// connection.
func (p *peer) consumeSignaling() {
	defer p.byeOnce.Do(func() { close(p.bye) })
	for {
		object, err := p.sig.receive()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.rep.event("signaling: %v", err)
			} else {
				p.rep.event("signaling closed")
			}
			return
		}
		kind, _ := object["type"].(string)
		switch kind {
		case "offer", "answer":
			sdp, _ := object["sdp"].(string)
			p.rep.set("remote_description", sdp)
			if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.NewSDPType(kind), SDP: sdp}); err != nil {
				p.rep.event("set remote %s: %v", kind, err)
				p.finish(false)
				return
			}
			p.rep.event("%s received", kind)
			if kind == "offer" {
				answer, err := p.pc.CreateAnswer(nil)
				if err == nil {
					err = p.pc.SetLocalDescription(answer)
				}
				if err == nil {
					err = p.sendDescription("answer")
				}
				if err != nil {
					p.rep.event("answer: %v", err)
					p.finish(false)
					return
				}
			}
		case "candidate":
			text, _ := object["candidate"].(string)
			if text == "" {
				continue
			}
			mid := "0"
			if id, ok := object["id"].(string); ok {
				mid = id
			}
			index := uint16(0)
			init := webrtc.ICECandidateInit{Candidate: text, SDPMid: &mid, SDPMLineIndex: &index}
			if err := p.pc.AddICECandidate(init); err != nil {
				p.rep.event("add candidate: %v", err)
			} else {
				p.rep.event("candidate received")
			}
		case "bye":
			p.rep.event("bye received")
			return
		default:
			p.rep.event("unknown message type %q", kind)
		}
	}
}

func (p *peer) attach(dc *webrtc.DataChannel) {
	p.mu.Lock()
	p.channel = dc
	p.mu.Unlock()
	dc.OnClose(func() { p.rep.event("channel closed") })
	dc.OnError(func(err error) { p.rep.event("channel error: %v", err) })
	switch p.o.mode {
	case "send":
		dc.OnOpen(func() { go p.sendFile(dc) })
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			if len(m.Data) == 0 {
				p.rep.event("remote eof")
			}
		})
	case "receive":
		p.receiveFile(dc)
	case "pong":
		pings := 0
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			text := string(m.Data)
			switch {
			case len(m.Data) == 0:
				p.rep.event("remote eof")
				if err := dc.Send([]byte{}); err == nil {
					p.rep.event("eof sent")
				}
			case m.IsString && strings.HasPrefix(text, "ping"):
				if err := dc.SendText("pong" + text[4:]); err == nil {
					pings++
					p.rep.set("pings", pings)
				}
			}
		})
		dc.OnClose(func() {
			p.rep.event("channel closed")
			p.finish(pings > 0)
		})
	case "ping":
		pongs := make(chan string, 16)
		remoteEOF := make(chan struct{})
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			if len(m.Data) == 0 {
				p.rep.event("remote eof")
				close(remoteEOF)
			} else if m.IsString {
				pongs <- string(m.Data)
			}
		})
		dc.OnOpen(func() {
			go func() {
				var got []string
				var rtts []float64
				for n := 1; n <= p.o.count; n++ {
					start := time.Now()
					if err := dc.SendText(fmt.Sprintf("ping %d", n)); err != nil {
						p.rep.event("send: %v", err)
						break
					}
					select {
					case pong := <-pongs:
						got = append(got, pong)
						rtts = append(rtts, float64(time.Since(start).Microseconds())/1000)
					case <-time.After(5 * time.Second):
						p.rep.event("no pong for ping %d", n)
					}
				}
				p.rep.set("pongs", got)
				p.rep.set("rtt_ms", rtts)
				if err := dc.Send([]byte{}); err == nil {
					p.rep.event("eof sent")
				}
				// As rtcpeer's check: the run ends once both sides sent
				// their end-of-file marker; then bye.
				select {
				case <-remoteEOF:
				case <-time.After(5 * time.Second):
					p.rep.event("no eof from the remote")
				}
				p.sendBye()
				p.finish(len(got) == p.o.count)
			}()
		})
	}
}

func (p *peer) sendFile(dc *webrtc.DataChannel) {
	f, err := os.Open(p.o.file)
	if err != nil {
		p.rep.event("open: %v", err)
		p.finish(false)
		return
	}
	defer f.Close()
	const high = 4 << 20
	low := make(chan struct{}, 1)
	dc.SetBufferedAmountLowThreshold(1 << 20)
	dc.OnBufferedAmountLow(func() {
		select {
		case low <- struct{}{}:
		default:
		}
	})
	start := time.Now()
	var sent int64
	buf := make([]byte, p.o.chunkSize)
	for {
		for dc.BufferedAmount() > high {
			select {
			case <-low:
			case <-time.After(100 * time.Millisecond):
			}
		}
		n, err := f.Read(buf)
		if n > 0 {
			if err := dc.Send(buf[:n]); err != nil {
				p.rep.event("send after %d bytes: %v", sent, err)
				p.rep.set("octets", sent)
				p.finish(false)
				return
			}
			sent += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			p.rep.event("read: %v", err)
			p.finish(false)
			return
		}
	}
	if err := dc.Send([]byte{}); err != nil {
		p.rep.event("send eof: %v", err)
		p.finish(false)
		return
	}
	p.rep.event("eof sent")
	p.rep.set("octets", sent)
	p.rep.set("seconds", time.Since(start).Seconds())
	// As aiortc's datachannel-filexfer: the sender finishes on the receiver's bye.
	<-p.bye
	p.finish(true)
}

func (p *peer) receiveFile(dc *webrtc.DataChannel) {
	out, err := os.Create(p.o.file)
	if err != nil {
		p.rep.event("create: %v", err)
		p.finish(false)
		return
	}
	hash := sha256.New()
	var octets int64
	var start time.Time
	var mu sync.Mutex
	closed := false
	dc.OnOpen(func() { start = time.Now() })
	// A channel that pion closes before the end-of-file marker ends the run.
	dc.OnClose(func() {
		mu.Lock()
		early := !closed
		mu.Unlock()
		p.rep.event("channel closed")
		if early {
			p.rep.event("channel closed before the end of file")
			p.finish(false)
		}
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return
		}
		if start.IsZero() {
			start = time.Now()
		}
		if len(m.Data) > 0 {
			out.Write(m.Data)
			hash.Write(m.Data)
			octets += int64(len(m.Data))
			p.rep.set("octets", octets)
			if p.o.closeAfter > 0 && octets >= p.o.closeAfter {
				closed = true
				out.Close()
				if p.o.stall > 0 {
					// Stop reading first: rtcpeer's data piles up
					// against a zero receive window.
					p.rep.event("not reading for %s", p.o.stall)
					time.Sleep(p.o.stall)
				}
				p.rep.event("closing the channel after %d bytes", octets)
				go dc.Close()
			}
			return
		}
		closed = true
		out.Close()
		p.rep.set("seconds", time.Since(start).Seconds())
		p.rep.set("sha256", hex.EncodeToString(hash.Sum(nil)))
		p.rep.event("remote eof")
		p.sendBye() // as aiortc's datachannel-filexfer does
		p.finish(true)
	})
}

func run(o *options, rep *report) error {
	var settings webrtc.SettingEngine
	settings.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	settings.SetIncludeLoopbackCandidate(true)
	settings.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	settings.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	switch o.srtpProfiles {
	case "", "all":
	case "sha1_80":
		settings.SetSRTPProtectionProfiles(dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	default:
		return fmt.Errorf("unknown --srtp-profiles %q", o.srtpProfiles)
	}
	options := []func(*webrtc.API){webrtc.WithSettingEngine(settings)}
	if o.mode == "media" {
		// What pion.NewPeerConnection sets up by default: its codecs, NACK,
		// RTCP reports.
		media := &webrtc.MediaEngine{}
		if err := media.RegisterDefaultCodecs(); err != nil {
			return err
		}
		registry := &interceptor.Registry{}
		if err := webrtc.RegisterDefaultInterceptors(media, registry); err != nil {
			return err
		}
		options = append(options, webrtc.WithMediaEngine(media), webrtc.WithInterceptorRegistry(registry))
	}
	api := webrtc.NewAPI(options...)
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	defer pc.Close()

	sig, err := connectSignaling(o)
	if err != nil {
		return fmt.Errorf("signaling: %w", err)
	}
	defer sig.conn.Close()
	rep.event("signaling connected")

	p := &peer{o: o, pc: pc, sig: sig, rep: rep, done: make(chan struct{}), bye: make(chan struct{})}
	pc.OnICECandidate(p.onCandidate)
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) { rep.event("ice %s", s) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		rep.event("connection %s", s)
		if s == webrtc.PeerConnectionStateFailed {
			p.finish(false)
		}
	})

	if o.mode == "media" {
		if err := p.setupMedia(); err != nil {
			return fmt.Errorf("media: %w", err)
		}
	}
	// A negotiated channel is created by both sides and never announced.
	if o.mode != "media" && (o.role == "offer" || o.negotiated >= 0) {
		dc, err := pc.CreateDataChannel(o.label, o.channelInit())
		if err != nil {
			return err
		}
		p.attach(dc)
	}
	if o.role == "offer" {
		offer, err := pc.CreateOffer(nil)
		if err != nil {
			return err
		}
		if err := pc.SetLocalDescription(offer); err != nil {
			return err
		}
		if err := p.sendDescription("offer"); err != nil {
			return err
		}
	} else {
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			rep.event("datachannel %s", dc.Label())
			p.attach(dc)
		})
	}

	go p.consumeSignaling()
	select {
	case <-p.done:
	case <-p.bye:
		if o.mode == "pong" || o.mode == "media" || (o.mode == "receive" && o.closeAfter > 0) {
			p.finish(true)
		}
		// Other modes finish on their own after a bye (send) or not at all.
		select {
		case <-p.done:
		case <-time.After(o.timeout):
		}
	case <-time.After(o.timeout):
		rep.event("timed out")
	}
	p.mu.Lock()
	if p.channel != nil {
		rep.set("channel", describeChannel(p.channel))
	}
	p.mu.Unlock()
	if o.mode == "media" {
		rep.set("rtp_sent", atomic.LoadInt64(&p.rtpSent))
		rep.set("rtp_received", atomic.LoadInt64(&p.rtpReceived))
	}
	return nil
}

// setupMedia adds the video track (--send-video) or a receive-only video
// transceiver, and forwards the remote's track to --recv-video.
func (p *peer) setupMedia() error {
	o := p.o
	if o.sendVideo != "" {
		track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "pion")
		if err != nil {
			return err
		}
		sender, err := p.pc.AddTrack(track)
		if err != nil {
			return err
		}
		// The interceptors (NACK answers, reports) see RTCP only when it is read.
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := sender.Read(buf); err != nil {
					return
				}
			}
		}()
		source, err := net.ListenPacket("udp4", o.sendVideo)
		if err != nil {
			return err
		}
		go func() {
			defer source.Close()
			buf := make([]byte, 1600)
			for {
				n, _, err := source.ReadFrom(buf)
				if err != nil {
					return
				}
				// Payload type and SSRC become the negotiated ones.
				if _, err := track.Write(buf[:n]); err == nil {
					atomic.AddInt64(&p.rtpSent, 1)
				}
			}
		}()
	} else if _, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return err
	}
	if o.recvVideo == "" {
		return nil
	}
	sink, err := net.Dial("udp4", o.recvVideo)
	if err != nil {
		return err
	}
	p.pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		p.rep.event("track %s %s ssrc %d", track.Kind(), track.Codec().MimeType, track.SSRC())
		buf := make([]byte, 1600)
		for {
			n, _, err := track.Read(buf)
			if err != nil {
				return
			}
			if _, err := sink.Write(buf[:n]); err == nil {
				atomic.AddInt64(&p.rtpReceived, 1)
			}
		}
	})
	return nil
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "offer" && os.Args[1] != "answer") {
		fmt.Fprintln(os.Stderr, "usage: pion-peer offer|answer [options]")
		os.Exit(2)
	}
	o := &options{role: os.Args[1]}
	flags := flag.NewFlagSet("pion-peer", flag.ExitOnError)
	flags.StringVar(&o.mode, "mode", "receive", "send, receive, pong, ping or media")
	flags.StringVar(&o.sendVideo, "send-video", "", "media: UDP ADDR:PORT whose RTP goes out as the video track")
	flags.StringVar(&o.recvVideo, "recv-video", "", "media: UDP ADDR:PORT the remote's video RTP goes to")
	flags.StringVar(&o.srtpProfiles, "srtp-profiles", "all", "all (pion's default: GCM, then SHA1_80) or sha1_80")
	flags.StringVar(&o.host, "signaling-host", "127.0.0.1", "tcp-socket address")
	flags.IntVar(&o.port, "signaling-port", 1234, "tcp-socket port")
	flags.BoolVar(&o.trickle, "trickle", false, "send candidates as candidate messages")
	flags.StringVar(&o.file, "file", "", "file to send or receive")
	flags.StringVar(&o.label, "label", "filexfer", "label of the channel the offerer opens")
	flags.IntVar(&o.count, "count", 5, "ping: number of pings")
	flags.IntVar(&o.chunkSize, "chunk-size", 16384, "send: bytes per message")
	flags.Int64Var(&o.closeAfter, "close-after", 0, "receive: close the channel after this many bytes")
	flags.DurationVar(&o.stall, "stall", 0, "receive with --close-after: stop reading this long before closing")
	flags.IntVar(&o.advertise, "advertise-max-message-size", 0, "add a=max-message-size to the description sent")
	flags.BoolVar(&o.unordered, "unordered", false, "the channel is unordered")
	flags.IntVar(&o.maxRetransmits, "max-retransmits", -1, "the channel's maxRetransmits")
	flags.IntVar(&o.maxPacketLifetime, "max-packet-lifetime", -1, "the channel's maxPacketLifeTime (ms)")
	flags.StringVar(&o.protocol, "protocol", "", "the channel's protocol")
	flags.IntVar(&o.negotiated, "negotiated", -1, "both sides create the channel with this id (no DCEP)")
	timeout := flags.Float64("timeout", 60, "seconds before giving up")
	flags.StringVar(&o.report, "report", "", "JSON report file (default: stdout)")
	signalingName := flags.String("signaling", "tcp-socket", "only tcp-socket")
	_ = flags.Parse(os.Args[2:])
	if *signalingName != "tcp-socket" {
		fmt.Fprintln(os.Stderr, "pion-peer: only tcp-socket signaling")
		os.Exit(2)
	}
	o.timeout = time.Duration(*timeout * float64(time.Second))

	rep := &report{fields: map[string]interface{}{"role": o.role, "mode": o.mode}}
	if err := run(o, rep); err != nil {
		rep.event("error: %v", err)
	}
	rep.write(o.report)
	if !rep.ok {
		os.Exit(1)
	}
}
