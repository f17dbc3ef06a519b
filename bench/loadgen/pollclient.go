package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// pollClient is one Socket.IO client over HTTP long-polling: one pending GET
// at a time, POSTs serialised (engine.io refuses overlapping POSTs).
type pollClient struct {
	sioSession
	url    string
	hc     *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	postMu sync.Mutex
	done   chan struct{}
}

// newPollHTTP is one client's HTTP client: its own source address, and
// two connections (the pending GET and a POST).
func newPollHTTP() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         dialFrom(nextSourceIP()),
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     idleBeforeServerCloses,
		DisableCompression:  true,
	}}
}

func dialPolling(ctx context.Context, addr string, sink statusSink) (*pollClient, error) {
	base := "http://" + addr + "/socket.io/?EIO=4&transport=polling"
	hc := newPollHTTP()
	body, err := pollGet(ctx, hc, base)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != '0' {
		return nil, fmt.Errorf("polling handshake: unexpected %q", body)
	}
	end := bytes.IndexByte(body, 0x1e)
	if end < 0 {
		end = len(body)
	}
	var open struct {
		Sid string `json:"sid"`
	}
	if err := json.Unmarshal(body[1:end], &open); err != nil {
		return nil, fmt.Errorf("polling handshake: %w", err)
	}
	c := &pollClient{url: base + "&sid=" + open.Sid, hc: hc, done: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.init(c.post, sink)
	go c.pollLoop()
	if err := c.post([]byte("40")); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.waitConnected(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func pollGet(ctx context.Context, hc *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, res.Status, b)
	}
	return b, nil
}

func (c *pollClient) post(p []byte) error {
	c.postMu.Lock()
	defer c.postMu.Unlock()
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, c.url, bytes.NewReader(p))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("POST: %s", res.Status)
	}
	return nil
}

func (c *pollClient) pollLoop() {
	defer close(c.done)
	defer c.markClosed()
	for {
		body, err := pollGet(c.ctx, c.hc, c.url)
		if err != nil {
			return
		}
		now := time.Now()
		for len(body) > 0 {
			i := bytes.IndexByte(body, 0x1e)
			var p []byte
			if i < 0 {
				p, body = body, nil
			} else {
				p, body = body[:i], body[i+1:]
			}
			if !c.handle(p, now) {
				return
			}
		}
	}
}

// Close ends the pending GET and any POST.
func (c *pollClient) Close() {
	c.cancel()
	<-c.done
	c.hc.CloseIdleConnections()
}
