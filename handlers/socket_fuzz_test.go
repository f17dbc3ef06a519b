package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/ordercast/ordercast/auth"
)

// The socket fuzz targets run over real connections to the real engine:
// a panic anywhere in the server (ordercast or the library) kills the test
// binary, and a request or event left without an answer fails on its
// deadline.

const (
	fuzzAckID      = 7
	sentinelAckID  = 8
	fuzzDeadline   = 5 * time.Second
	sentinelPacket = `428["order:unsubscribe",{"orderId":"A"}]`
)

// reservedEvents are the names the library refuses as event names.
var reservedEvents = map[string]bool{"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true}

// fuzzSockets keeps one connected raw socket per role, reconnecting
// after the server closes one.
type fuzzSockets struct {
	url   string
	auth  map[bool]map[string]any
	conns map[bool]*rawSocket
}

func (f *fuzzSockets) get(t *testing.T, staff bool) *rawSocket {
	if s := f.conns[staff]; s != nil {
		return s
	}
	s := connectRaw(t, f.url, f.auth[staff])
	f.conns[staff] = s
	return s
}

func (f *fuzzSockets) drop(staff bool) {
	if s := f.conns[staff]; s != nil {
		s.close()
		delete(f.conns, staff)
	}
}

func fuzzSocketServer(f *testing.F) (*secServer, *fuzzSockets) {
	// The fuzzer sends far faster than any client may: no rate limit here
	// (limit_test.go covers it).
	srv := newSecServer(f, Config{EventRate: 1e12, EventBurst: 1 << 30}, nil)
	for _, id := range []string{"A", "B", "C"} {
		if rec := srv.serve(apiRequest("POST", "/api/orders", secAPIKey, []byte(orderBody(id)))); rec.Code != http.StatusCreated {
			f.Fatalf("create %s: %d %s", id, rec.Code, rec.Body)
		}
	}
	staff, err := srv.signer.Issue("Sam", auth.RoleSupport, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	fs := &fuzzSockets{url: srv.URL, conns: map[bool]*rawSocket{},
		auth: map[bool]map[string]any{false: nil, true: {"token": staff}}}
	f.Cleanup(func() { fs.drop(false); fs.drop(true) })
	return srv, fs
}

// checkAck fails unless ack (a JSON array) is {ok:true,...} or
// {ok:false,error:{code,message}} with a code of the contract.
func checkAck(t *testing.T, ack string) {
	t.Helper()
	var args []struct {
		OK    *bool `json:"ok"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(ack), &args); err != nil || len(args) != 1 || args[0].OK == nil {
		t.Fatalf("ack %s: not [{ok,...}] (%v)", ack, err)
	}
	if *args[0].OK {
		return
	}
	if e := args[0].Error; e == nil || e.Message == "" {
		t.Fatalf("ack %s: error without code and message", ack)
	} else if _, known := contractCodes[e.Code]; !known {
		t.Fatalf("ack %s: code %q is not the contract's", ack, e.Code)
	}
}

// FuzzSocketPayload sends one client event with an ack, as customer or as
// staff: any payload gets an ack of the contract, and a well-formed packet
// never costs the socket its connection.
func FuzzSocketPayload(f *testing.F) {
	_, fs := fuzzSocketServer(f)
	f.Fuzz(func(t *testing.T, staff bool, event, payload string) {
		name, _ := json.Marshal(event)
		packet := fmt.Sprintf("42%d[%s,%s]", fuzzAckID, name, payload)
		s := fs.get(t, staff)
		if err := s.send(packet); err != nil {
			fs.drop(staff)
			t.Fatalf("send: %v", err)
		}
		if err := s.send(sentinelPacket); err != nil {
			fs.drop(staff)
			t.Fatalf("send sentinel: %v", err)
		}
		var ack string
		deadline := time.Now().Add(fuzzDeadline)
		for {
			p, err := s.read(time.Until(deadline))
			if err != nil {
				fs.drop(staff)
				if isTimeout(err) {
					t.Fatalf("no answer to the sentinel within %v after %q", fuzzDeadline, packet)
				}
				// Closed by the server: only a packet the library could not
				// take may cost the connection.
				var v []any
				if json.Unmarshal([]byte(packet[3:]), &v) == nil && !reservedEvents[event] && len(packet) < 1<<20 {
					t.Fatalf("well-formed packet %q closed the connection: %v", packet, err)
				}
				return
			}
			switch {
			case strings.HasPrefix(p, fmt.Sprintf("43%d[", fuzzAckID)):
				ack = p[3:]
				checkAck(t, ack)
			case strings.HasPrefix(p, fmt.Sprintf("43%d[", sentinelAckID)):
				checkAck(t, p[3:])
				if ack == "" && (event == EvSubscribe || event == EvUnsubscribe || event == EvMessage || event == EvUpdateStatus ||
					event == EvTyping || event == EvAssign) {
					t.Fatalf("no ack to %q", packet)
				}
				return
			}
		}
	})
}

// FuzzSocketPacket sends any frame, text or binary, on a connected
// WebSocket session: the server answers the next event or closes that
// connection; it never hangs and never crashes. A frame that leaves the
// namespace ("41") makes the server ignore later events, as the protocol
// says, so a CONNECT probe follows when the event gets no answer.
func FuzzSocketPacket(f *testing.F) {
	_, fs := fuzzSocketServer(f)
	f.Fuzz(func(t *testing.T, binary bool, frame []byte) {
		s := fs.get(t, false)
		mt := websocket.TextMessage
		if binary {
			mt = websocket.BinaryMessage
		}
		if err := s.write(mt, frame); err != nil {
			fs.drop(false)
			return // closed by the previous frame's answer
		}
		_ = s.send(sentinelPacket)
		probe := time.AfterFunc(time.Second, func() { _ = s.send("40") })
		defer probe.Stop()
		deadline := time.Now().Add(fuzzDeadline)
		for {
			p, err := s.read(time.Until(deadline))
			if err != nil {
				fs.drop(false)
				if isTimeout(err) {
					t.Fatalf("neither an answer nor a close within %v after frame %q", fuzzDeadline, frame)
				}
				return
			}
			switch {
			case strings.HasPrefix(p, fmt.Sprintf("43%d[", sentinelAckID)):
				checkAck(t, p[3:])
				return
			case strings.HasPrefix(p, "40{"), strings.HasPrefix(p, "44"):
				fs.drop(false) // answered the probe; start afresh
				return
			}
		}
	})
}

// FuzzPollingPost sends any body with any Content-Type on a polling
// session: the POST is answered in time, never with a 5xx, and the next
// session works.
func FuzzPollingPost(f *testing.F) {
	srv, _ := fuzzSocketServer(f)
	client := &http.Client{Timeout: fuzzDeadline}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		res, err := client.Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		open, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var hs struct {
			Sid string `json:"sid"`
		}
		if res.StatusCode != http.StatusOK || len(open) < 2 || json.Unmarshal(open[1:], &hs) != nil {
			t.Fatalf("handshake: %d %q", res.StatusCode, open)
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/socket.io/?EIO=4&transport=polling&sid="+hs.Sid, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		res, err = client.Do(req)
		if err != nil {
			if strings.Contains(err.Error(), "invalid header field value") {
				return // net/http will not send such a header
			}
			t.Fatalf("POST %q (Content-Type %q): %v", body, contentType, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("POST %q (Content-Type %q): %d", body, contentType, res.StatusCode)
		}
	})
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
