package app

import (
	"os"

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
