package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

// runDemo plays a shop backend: it creates sample orders over the HTTP API
// and moves them through their statuses, so a new user sees pages move.
func runDemo(ctx context.Context, log *slog.Logger, base, apiKey string) {
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(path string, body any) (map[string]any, error) {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return nil, err
		}
		if resp.StatusCode >= 300 {
			return out, fmt.Errorf("%s: %d %v", path, resp.StatusCode, out["error"])
		}
		return out, nil
	}
	customers := []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Margaret Hamilton", "Ken Thompson", "Barbara Liskov"}
	products := []string{"Espresso beans", "Oat milk", "Ceramic mug", "Pour-over kettle", "Paper filters", "Grinder"}
	path := []string{"confirmed", "packed", "shipped", "out_for_delivery", "delivered"}
	type live struct {
		id   string
		step int
	}
	var active []live
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for n := 1; ; n++ {
		if len(active) < 4 {
			body := map[string]any{
				"customer": customers[rand.IntN(len(customers))],
				"items":    []map[string]any{{"name": products[rand.IntN(len(products))], "qty": 1 + rand.IntN(3)}},
				"total":    500 + rand.IntN(9000),
			}
			if out, err := post("/api/orders", body); err != nil {
				log.Warn("demo: create order", "err", err)
			} else {
				o, _ := out["order"].(map[string]any)
				id, _ := o["id"].(string)
				active = append(active, live{id: id})
				log.Info("demo: order created", "order", id, "trackingUrl", out["trackingUrl"])
			}
		}
		for i := range active {
			if rand.IntN(2) == 0 {
				continue
			}
			a := &active[i]
			st := path[a.step]
			if rand.IntN(12) == 0 {
				st = "cancelled"
			}
			if _, err := post("/api/orders/"+a.id+"/status", map[string]any{"status": st}); err != nil {
				log.Warn("demo: move order", "order", a.id, "err", err)
			}
			a.step++
			if st == "cancelled" || a.step == len(path) {
				a.step = -1
			}
		}
		kept := active[:0]
		for _, a := range active {
			if a.step >= 0 {
				kept = append(kept, a)
			}
		}
		active = kept
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
