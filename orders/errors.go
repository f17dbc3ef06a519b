package orders

import "errors"

// Domain errors. Stores and handlers wrap them with context; handlers map
// them to HTTP statuses and ack codes in one place.
var (
	ErrNotFound          = errors.New("order not found")
	ErrDuplicate         = errors.New("order id already exists")
	ErrInvalidTransition = errors.New("transition not allowed")
)
