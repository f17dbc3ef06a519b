package app

import (
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/ordercast/ordercast/handlers"
	"github.com/ordercast/ordercast/orders"
)

// crashBeforePublishEnv is a fault point for the tests only: a chat message
// with exactly this text makes the process exit between the store's commit
// and the broadcast, as a SIGKILL there would (e2e/ordering.test.mjs).
const crashBeforePublishEnv = "ORDERCAST_TEST_CRASH_BEFORE_PUBLISH"

type crashBeforePublish struct {
	handlers.Publisher
	text string
}

func (c crashBeforePublish) Publish(e orders.Event) {
	if e.Type == orders.TypeMessage && e.Text == c.text {
		os.Exit(137)
	}
	c.Publisher.Publish(e)
}

// holdCreatedEnv is a fault point for the tests only: creating an order
// whose customer is exactly this text holds the request after the store's
// commit, before the broadcast, until the process gets SIGUSR1, so that a
// test can retry it from elsewhere while it is in flight
// (e2e/idempotency.test.mjs). It logs "fault: holding" when it holds.
const holdCreatedEnv = "ORDERCAST_TEST_HOLD_CREATED"

type holdCreated struct {
	handlers.Publisher
	customer string
	log      *slog.Logger
}

func (h holdCreated) OrderCreated(o orders.Order) {
	if o.Customer == h.customer {
		release := make(chan os.Signal, 1)
		if sigs := holdReleaseSignals(); len(sigs) > 0 {
			signal.Notify(release, sigs...)
		}
		h.log.Info("fault: holding", "order", o.ID)
		select {
		case <-release:
		case <-time.After(time.Minute):
		}
		signal.Stop(release)
	}
	h.Publisher.OrderCreated(o)
}
